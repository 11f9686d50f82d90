"""`lstm-sentiment pretrain`: a bidirectional language model on the training + unlabelled reviews (never the
test split), with progress, checkpoints and exact resume; `train --pretrained DIR` fine-tunes from it."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tqdm.auto import tqdm

from .allocator import keep_freed_memory
from .checkpoint import Checkpoint, Progress, save_checkpoint
from .config import Config
from .data.prepare import EncodedSplit, load_prepared
from .data.vocab import PAD_ID
from .errors import UserError
from .faults import FaultInjector
from .files import atomic_write, write_json
from .language_model import ENCODER, LanguageModel, batchify
from .output_dir import claim, replace
from .runner import check_free_space, check_output_dir, epoch_generator, machine_description
from .runs import CONFIG, HISTORY, METRICS, VOCAB, remove_stale_temporaries
from .runtime import autocast, flush_denormals, resolve_device, set_seed
from .train import Interrupted, StopRequest


@dataclass
class PretrainOptions:
    data_path: str
    limit: int | None = None
    use_cache: bool = True
    preset: str | None = None
    checkpoint_every: int = 0
    overwrite: bool = False  # as RunOptions: an existing model or run is replaced once this one is complete
    replaces: str | None = None


def document_stream(flat: np.ndarray, seed: int, epoch: int) -> torch.Tensor:
    """Documents (each ended by -1) in a seeded order per epoch, joined by a <pad> boundary token."""
    ends = np.flatnonzero(flat == -1)
    documents = np.split(flat, ends[:-1] + 1)
    order = torch.randperm(len(documents), generator=epoch_generator(seed, epoch)).numpy()
    joined = np.concatenate([documents[i] for i in order])
    return torch.from_numpy(np.where(joined == -1, PAD_ID, joined))


def validation_stream(split: EncodedSplit, tokens: int) -> torch.Tensor:
    """The validation reviews' tokens (their text only, never their labels), joined by boundaries."""
    pieces, total = [], 0
    for ids, length in zip(split.ids, split.lengths.tolist()):
        kept = ids[ids != PAD_ID] if length else ids[:0]
        pieces.extend([kept, torch.tensor([PAD_ID])])
        total += len(kept) + 1
        if total >= tokens:
            break
    return torch.cat(pieces)[:tokens]


def windows(forward: torch.Tensor, backward: torch.Tensor, bptt: int):
    """(forward window, backward window) pairs of [streams, bptt + 1] overlapping by one token."""
    for start in range(0, forward.shape[1] - 1 - bptt + 1, bptt):
        yield forward[:, start: start + bptt + 1], backward[:, start: start + bptt + 1]


def evaluate_perplexity(model: LanguageModel, stream: torch.Tensor, streams: int, bptt: int,
                        device: torch.device, mixed_precision: bool) -> float:
    """exp(mean negative log-likelihood) over both directions, full softmax."""
    model.eval()
    model.reset_states()
    forward, backward = batchify(stream, streams).to(device), batchify(stream.flip(0), streams).to(device)
    total, count = 0.0, 0
    with torch.no_grad(), autocast(device, mixed_precision):
        for window_f, window_b in windows(forward, backward, bptt):
            loss, n = model(window_f, window_b)
            total, count = total + float(loss), count + int(n)
    model.reset_states()
    return math.exp(total / max(count, 1))


def save_encoder(model: LanguageModel, path: Path) -> None:
    tensors = model.encoder_state()
    atomic_write(path, lambda temporary: save_file(tensors, str(temporary)))


def pretrain_run(config: Config, options: PretrainOptions, out: Path, progress: bool = True,
                 resume: Checkpoint | None = None) -> dict:
    keep_freed_memory()
    writing = out
    if resume is None:
        writing = claim(out, options.overwrite)
        options.replaces = str(out) if writing != out else None
    with flush_denormals():
        try:
            metrics = _pretrain_run(config, options, writing, progress, resume)
        except Interrupted as stop:
            stop.run_dir = writing
            raise
    if options.replaces:
        replace(writing, Path(options.replaces))
    return metrics


def _pretrain_run(config: Config, options: PretrainOptions, out: Path, progress: bool,
                  resume: Checkpoint | None) -> dict:
    started = time.perf_counter()
    check_output_dir(out)
    remove_stale_temporaries(out)
    set_seed(config.train.seed)
    device = resolve_device(config.train.device)
    settings = config.pretrain
    if config.data.validation_split == 0:
        raise UserError("pretrain measures perplexity on the validation reviews: data.validation_split must be > 0")
    data = load_prepared(Path(options.data_path), config.data, limit=options.limit, use_cache=options.use_cache,
                         unlabelled=True)
    flat = data.unlabelled_ids
    held_out = validation_stream(data.splits["validation"], settings.validation_tokens)
    model = LanguageModel(config.model, settings, data.vocab.size, settings.streams)
    counts = torch.bincount(torch.from_numpy(np.where(flat == -1, PAD_ID, flat)), minlength=data.vocab.size)
    model.set_sampling(counts)
    model = model.to(device)
    steps = (len(flat) // settings.streams - 1) // settings.bptt
    if settings.windows_per_epoch:
        steps = min(steps, settings.windows_per_epoch)
    if steps < 1:
        raise UserError(f"{options.data_path}: too little text for {settings.streams} streams of "
                        f"{settings.bptt}-token windows")
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay,
                                  fused=True)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=settings.learning_rate,
                                                    total_steps=settings.epochs * steps, pct_start=0.1)
    check_free_space(out, model)
    faults = FaultInjector()
    saved_run = {"config": config.to_dict(), "options": asdict(options), "kind": "pretrain"}
    if resume is not None:
        resume.restore(model, optimizer, scheduler)
        state = resume.progress
    else:
        state = Progress()
        write_json(out / CONFIG, {"kind": "language-model", "vocab_size": data.vocab.size, **config.to_dict()})
        atomic_write(out / VOCAB, data.vocab.save)
    elapsed_before = state.elapsed

    def checkpoint() -> None:
        state.elapsed = elapsed_before + time.perf_counter() - started
        save_checkpoint(out, model, {}, optimizer, scheduler, state, saved_run, faults)

    with StopRequest() as stop:
        while state.epoch <= settings.epochs:
            epoch = state.epoch
            model.train()
            epoch_started = time.perf_counter() - state.epoch_seconds
            stream = document_stream(flat, config.train.seed, epoch)
            forward = batchify(stream, settings.streams).to(device)
            backward = batchify(stream.flip(0), settings.streams).to(device)
            pairs = list(windows(forward, backward, settings.bptt))[state.step: steps]
            bar = tqdm(pairs, desc=f"pretrain {epoch}/{settings.epochs}", total=steps, initial=state.step,
                       unit="win", disable=not progress, mininterval=2.0, dynamic_ncols=True)
            for window_f, window_b in bar:
                faults.reached("step")
                with autocast(device, config.train.mixed_precision):
                    loss, n = model(window_f, window_b)
                    mean = loss / n.clamp(min=1)
                if not torch.isfinite(mean):
                    raise UserError(f"pretraining diverged: non-finite loss at epoch {epoch}, step {state.step + 1}; "
                                    "the last good checkpoint is kept; try a lower pretrain.learning_rate")
                optimizer.zero_grad(set_to_none=True)
                mean.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
                optimizer.step()
                scheduler.step()
                state.step += 1
                state.total_loss += loss.item()
                state.count += int(n)
                seconds = time.perf_counter() - epoch_started
                bar.set_postfix(loss=f"{state.total_loss / state.count:.3f}",
                                tok_s=f"{state.step * settings.streams * settings.bptt / max(seconds, 1e-9):,.0f}",
                                refresh=False)
                every = options.checkpoint_every
                if stop.requested or (every and state.step % every == 0 and state.step < steps):
                    state.epoch_seconds = seconds
                    checkpoint()
                    if stop.requested:
                        bar.close()
                        raise Interrupted(f"stopped at epoch {epoch}, step {state.step}")
            bar.close()
            perplexity = evaluate_perplexity(model, held_out, settings.streams, settings.bptt, device,
                                             config.train.mixed_precision)
            row = {"epoch": epoch, "train_sampled_loss": state.total_loss / max(state.count, 1),
                   "val_perplexity": perplexity, "learning_rate": optimizer.param_groups[0]["lr"],
                   "seconds": round(time.perf_counter() - epoch_started, 1)}
            if progress:
                tqdm.write(f"pretrain epoch {epoch}: sampled loss {row['train_sampled_loss']:.4f} | "
                           f"validation perplexity {perplexity:.1f} | {row['seconds']:.0f}s")
            state.history.append(row)
            state.epoch, state.step, state.total_loss, state.count, state.epoch_seconds = epoch + 1, 0, 0.0, 0, 0.0
            save_encoder(model, out / ENCODER)
            write_json(out / HISTORY, state.history)
            checkpoint()
            faults.reached("epoch-end")
            if stop.requested:
                raise Interrupted(f"stopped after epoch {epoch}")
    metrics = {"kind": "language-model", "validation_perplexity": state.history[-1]["val_perplexity"],
               "corpus_tokens": len(flat),
               "training_tokens": steps * settings.streams * settings.bptt * settings.epochs, "epochs": settings.epochs,
               "seconds": round(elapsed_before + time.perf_counter() - started, 1), "machine": machine_description(),
               "device": str(device), "seed": config.train.seed, "data": options.data_path, "limit": options.limit}
    write_json(out / METRICS, metrics)
    return metrics
