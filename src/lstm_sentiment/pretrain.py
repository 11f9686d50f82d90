"""`lstm-sentiment pretrain`: a bidirectional language model on the training + unlabelled reviews (never the
test split), with progress, checkpoints and exact resume; `train --pretrained DIR` fine-tunes from it."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from .allocator import keep_freed_memory
from .checkpoint import Checkpoint, Progress, save_checkpoint
from .config import Config, TrainConfig
from .data.prepare import EncodedSplit, load_prepared
from .data.vocab import PAD_ID
from .errors import UserError
from .faults import FaultInjector
from .files import atomic_write, write_json
from .language_model import ENCODER, LanguageModel, batchify
from .model_dir import CONFIG, HISTORY, METRICS, VOCAB, remove_stale_temporaries
from .output_dir import check_free_space, check_output_dir, claim, replace
from .runtime import autocast, flush_denormals, machine_description, resolve_device, set_seed
from .train import Checkpointing, FitOptions, Interrupted, fit
from .training_run import epoch_generator


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


class LanguageModelObjective:
    """fit's objective for the bidirectional language model: sampled-softmax loss per window, validated by the
    full-softmax perplexity of the held-out stream (the loss that selects is its logarithm's stand-in: lower
    is better either way)."""

    activity, label, unit, validates = "pretraining", "pretrain", "win", True

    def __init__(self, model: LanguageModel, held_out: torch.Tensor, settings, device: torch.device,
                 mixed_precision: bool, faults: FaultInjector):
        self.model, self.held_out, self.settings = model, held_out, settings
        self.device, self.mixed_precision, self.faults = device, mixed_precision, faults

    def loss(self, net, batch):
        self.faults.reached("step")  # counts windows begun: a kill here loses the step in progress
        window_f, window_b = batch
        with autocast(self.device, self.mixed_precision):
            loss, n = net(window_f, window_b)
            return loss / n.clamp(min=1), (loss, n)

    def adversarial_loss(self, net, batch):
        raise NotImplementedError("language-model pretraining has no adversarial pass")

    def tally(self, loss, outputs) -> tuple[float, int, int]:
        summed, n = outputs
        return summed.item(), 0, int(n)

    def validate(self, model) -> tuple[float, dict]:
        perplexity = evaluate_perplexity(model, self.held_out, self.settings.streams, self.settings.bptt,
                                         self.device, self.mixed_precision)
        return perplexity, {"val_perplexity": perplexity}

    def record(self, epoch: int, train: tuple[float, float], validation: dict, learning_rate: float,
               seconds: float) -> dict:
        return {"epoch": epoch, "train_sampled_loss": train[0], **validation, "learning_rate": learning_rate,
                "seconds": round(seconds, 1)}

    def describe(self, row: dict, improved: bool) -> str:
        return (f"pretrain epoch {row['epoch']}: sampled loss {row['train_sampled_loss']:.4f} | "
                f"validation perplexity {row['val_perplexity']:.1f} | {row['seconds']:.0f}s")

    def postfix(self, state: Progress, seconds: float) -> dict:
        tokens = state.step * self.settings.streams * self.settings.bptt
        return {"loss": f"{state.total_loss / state.count:.3f}", "tok_s": f"{tokens / max(seconds, 1e-9):,.0f}"}


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
    check_free_space(out, model)
    faults = FaultInjector()
    saved_run = {"config": config.to_dict(), "options": asdict(options), "kind": "pretrain"}
    if resume is None:
        write_json(out / CONFIG, {"kind": "language-model", "vocab_size": data.vocab.size, **config.to_dict()})
        atomic_write(out / VOCAB, data.vocab.save)
    elapsed_before = resume.progress.elapsed if resume is not None else 0.0

    def train_windows(epoch: int):
        stream = document_stream(flat, config.train.seed, epoch)
        forward = batchify(stream, settings.streams).to(device)
        backward = batchify(stream.flip(0), settings.streams).to(device)
        return itertools.islice(windows(forward, backward, settings.bptt), steps)

    def on_epoch_end(row: dict, improved: bool, state: Progress) -> None:
        save_encoder(model, out / ENCODER)  # the last epoch's encoder, whatever its perplexity
        write_json(out / HISTORY, state.history)

    def save(net, best_state, optimizer, scheduler, state: Progress, average=None, grad_scaler=None) -> None:
        save_checkpoint(out, net, {}, optimizer, scheduler, state, saved_run, faults)
        if state.step == 0:
            faults.reached("epoch-end")

    objective = LanguageModelObjective(model, held_out, settings, device, config.train.mixed_precision, faults)
    loop = TrainConfig(epochs=settings.epochs, optimizer="adamw", learning_rate=settings.learning_rate,
                       weight_decay=settings.weight_decay, schedule="onecycle", grad_clip=settings.grad_clip,
                       mixed_precision=config.train.mixed_precision, weight_average=0.0, adversarial=0.0,
                       early_stopping_patience=0)
    result = fit(model, objective, train_windows, steps, loop, device,
                 FitOptions(on_epoch_end, progress, Checkpointing(save, options.checkpoint_every), resume,
                            clock_start=started, warmup=0.1, diverged_hint="try a lower pretrain.learning_rate"))
    state = result.progress
    metrics = {"kind": "language-model", "validation_perplexity": state.history[-1]["val_perplexity"],
               "corpus_tokens": len(flat),
               "training_tokens": steps * settings.streams * settings.bptt * settings.epochs, "epochs": settings.epochs,
               "seconds": round(elapsed_before + time.perf_counter() - started, 1), "machine": machine_description(),
               "device": str(device), "seed": config.train.seed, "data": options.data_path, "limit": options.limit}
    write_json(out / METRICS, metrics)
    return metrics
