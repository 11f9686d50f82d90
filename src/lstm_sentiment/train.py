"""The training loop: epochs, progress, validation, best-epoch selection, early stopping. Knows nothing of LSTMs."""

from __future__ import annotations

import copy
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Self

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .adversarial import EmbeddingPerturbation
from .averaging import WeightAverage
from .checkpoint import Checkpoint, Progress
from .config import TrainConfig
from .distributed import Cluster
from .errors import UserError
from .runtime import autocast, needs_grad_scaler

# (model, batch) -> (logits, labels); supplied by the caller, so the loop never sees what the model is.
ForwardFn = Callable[[nn.Module, object], tuple[Tensor, Tensor]]


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None  # None without a validation split
    val_accuracy: float | None
    learning_rate: float
    seconds: float


@dataclass
class FitResult:
    history: list[dict]
    best_epoch: int
    best_state: dict[str, Tensor]
    stopped_early: bool
    progress: Progress


def make_optimizer(model: nn.Module, config: TrainConfig, encoder: list[nn.Parameter] | None = None) -> torch.optim.Optimizer:
    """One parameter group, or two when `encoder` names pretrained parameters: those learn at
    learning_rate * encoder_lr_factor."""
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    encoder_ids = {id(p) for p in encoder or []}
    groups = [{"params": [p for p in model.parameters() if id(p) not in encoder_ids], "lr": config.learning_rate}]
    if encoder_ids:
        groups.append({"params": list(encoder), "lr": config.learning_rate * config.encoder_lr_factor})
    # The fused implementation updates all parameters in one kernel (CPU and CUDA) instead of one per tensor.
    return kind(groups, lr=config.learning_rate, weight_decay=config.weight_decay, fused=True)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                                                   total_steps=max(1, config.epochs * steps_per_epoch))
    return None


def evaluate_loss(model: nn.Module, batches: Iterable, forward: ForwardFn, device: torch.device,
                  mixed_precision: bool, cluster: Cluster | None = None) -> tuple[float, float]:
    """Mean binary cross-entropy and accuracy over batches (each process's share, summed), without gradients."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad(), autocast(device, mixed_precision):
        for batch in batches:
            if getattr(batch, "loss_weight", 1.0) == 0:
                continue  # a stand-in row of a process with no share of this batch
            logits, labels = forward(model, batch)
            logits = logits.float()
            total_loss += nn.functional.binary_cross_entropy_with_logits(
                logits, labels.float(), reduction="sum").item()
            correct += int(((logits > 0) == (labels >= 0.5)).sum())
            count += len(labels)
    total_loss, correct, count = (cluster or Cluster()).sum(total_loss, correct, count)
    return total_loss / max(count, 1), correct / max(count, 1)


class StopRequest:
    """Ctrl-C during training asks the loop to stop after the batch in progress (a second Ctrl-C stops at once),
    so the checkpoint it then writes describes a finished step."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


class Interrupted(Exception):
    """Training stopped on request after writing a checkpoint."""


@dataclass
class Checkpointing:
    """How often fit saves a checkpoint, and how: save(model, best_state, optimizer, scheduler, progress,
    average, grad_scaler) where average is the weight average's tensors and grad_scaler the float16 loss
    scaler's state (each None when the run has none)."""

    save: Callable
    every_steps: int = 0  # also every N optimizer steps (0: only at the end of each epoch)


def fit(model: nn.Module, train_batches: Callable[[int], Iterable], steps_per_epoch: int,
        val_batches: Callable[[], Iterable] | None,
        forward: ForwardFn, config: TrainConfig, device: torch.device,
        on_epoch_end: Callable[[EpochRecord, bool, Progress], None] | None = None, progress: bool = True,
        checkpointing: Checkpointing | None = None, resume: Checkpoint | None = None,
        clock_start: float | None = None, encoder: list[nn.Parameter] | None = None,
        cluster: Cluster | None = None, embedding: nn.Module | None = None) -> FitResult:
    """Train for config.epochs; keep the weights of the epoch with the lowest validation loss (with
    config.weight_average, the averaged weights are the ones validated, kept and shown to on_epoch_end).
    Without val_batches (a final refit) every epoch counts as an improvement, so the last one is kept.

    train_batches(epoch) must give the same batches for the same epoch every time: resuming skips the batches
    a checkpoint had already done. With `resume`, every state (weights, optimizer, schedule, random generators,
    running sums) continues from the checkpoint, so the run ends exactly as an uninterrupted one would.
    Progress.elapsed counts from clock_start (default: now), plus the time of earlier sessions.
    `encoder`: pretrained parameters (discriminative learning rate, frozen for config.freeze_encoder_epochs).
    `cluster`: the processes of a torchrun launch (distributed.py); batches then carry each process's share.
    `embedding`: the layer whose output config.adversarial perturbs (adversarial training is off without it).
    """
    cluster = cluster or Cluster(device=device)
    progress = progress and cluster.is_main
    optimizer = make_optimizer(model, config, encoder)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch)
    scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(device, config.mixed_precision) else None
    if resume is not None:
        best_state = resume.restore(model, optimizer, scheduler, scaler)
        state = resume.progress
    else:
        best_state, state = copy.deepcopy(model.state_dict()), Progress()
    average = None
    if config.weight_average > 0:
        average = WeightAverage(model, config.weight_average, resume.average if resume is not None else None)
    perturbation = (EmbeddingPerturbation(embedding, config.adversarial)
                    if embedding is not None and config.adversarial else None)
    session_started = time.perf_counter() if clock_start is None else clock_start
    elapsed_before = state.elapsed

    def batch_loss(net: nn.Module, batch) -> tuple[Tensor, Tensor, Tensor]:
        with autocast(device, config.mixed_precision):
            logits, labels = forward(net, batch)
            return nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float()), logits, labels

    def backward(loss: Tensor, weight: float) -> None:
        (scaler.scale(loss * weight) if scaler else loss * weight).backward()

    def save() -> None:
        if checkpointing is not None:
            state.elapsed = elapsed_before + time.perf_counter() - session_started
            checkpointing.save(model, best_state, optimizer, scheduler, state,
                               average.state_dict() if average else None, scaler.state_dict() if scaler else None)

    with StopRequest() as stop, perturbation or nullcontext():
        while state.epoch <= config.epochs:
            epoch = state.epoch
            model.train()
            for parameter in encoder or []:
                parameter.requires_grad_(epoch > config.freeze_encoder_epochs)
            net = cluster.wrap(model)  # after the freeze decision: DDP syncs the parameters that learn
            started = time.perf_counter() - state.epoch_seconds
            batches = itertools.islice(train_batches(epoch), state.step, None)
            bar = tqdm(batches, desc=f"epoch {epoch}/{config.epochs}", unit="batch", total=steps_per_epoch,
                       initial=state.step, disable=not progress, mininterval=1.0, dynamic_ncols=True)
            for batch in bar:
                weight = getattr(batch, "loss_weight", 1.0)
                loss, logits, labels = batch_loss(net, batch)
                if not torch.isfinite(loss):
                    every = checkpointing.every_steps if checkpointing else 0
                    saved = checkpointing is not None and (bool(state.history) or 0 < every <= state.step)
                    kept = "the last good checkpoint is kept" if saved else "no checkpoint had been written yet"
                    raise UserError(f"training diverged: non-finite loss at epoch {epoch}, step {state.step + 1}; "
                                    f"{kept}; try a lower learning rate")
                optimizer.zero_grad(set_to_none=True)
                adversarial = perturbation is not None and perturbation.armed()
                # with a second pass, DDP averages the gradients once, after both
                with net.no_sync() if adversarial and hasattr(net, "no_sync") else nullcontext():
                    backward(loss, weight)
                if adversarial:
                    with perturbation.perturbed():
                        adversarial_loss = batch_loss(net, batch)[0]
                    backward(adversarial_loss, weight)
                if scaler:
                    scaler.unscale_(optimizer)
                if config.grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                if scaler:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                if scheduler:
                    scheduler.step()
                state.step += 1
                if average:
                    average.update(model, (epoch - 1) * steps_per_epoch + state.step)
                if weight > 0:
                    state.total_loss += loss.item() * len(labels)
                    state.correct += int(((logits.detach() > 0) == (labels >= 0.5)).sum())
                    state.count += len(labels)
                bar.set_postfix(loss=f"{state.total_loss / state.count:.4f}", acc=f"{state.correct / state.count:.4f}",
                                refresh=False)
                every = checkpointing.every_steps if checkpointing else 0
                requested = cluster.any(stop.requested)  # every process stops at the same step
                if requested or (every and state.step % every == 0 and state.step < steps_per_epoch):
                    state.epoch_seconds = time.perf_counter() - started
                    save()
                    if requested:
                        bar.close()
                        raise Interrupted(f"stopped at epoch {epoch}, step {state.step}")
            bar.close()
            with average.applied(model) if average else nullcontext():
                val_loss, val_accuracy = (evaluate_loss(model, val_batches(), forward, device,
                                                        config.mixed_precision, cluster)
                                          if val_batches else (None, None))
                total_loss, correct, count = cluster.sum(state.total_loss, state.correct, state.count)
                record = EpochRecord(epoch, total_loss / max(count, 1), correct / max(count, 1),
                                     val_loss, val_accuracy, optimizer.param_groups[0]["lr"],
                                     time.perf_counter() - started)
                improved = val_loss is None or val_loss < state.best_loss
                if improved:
                    state.best_epoch, state.stale = epoch, 0
                    if val_loss is not None:
                        state.best_loss = val_loss
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    state.stale += 1
                if progress:
                    validated = (f"val loss {val_loss:.4f} acc {val_accuracy:.4f}" if val_loss is not None
                                 else "no validation (refit)")
                    tqdm.write(f"epoch {epoch}: train loss {record.train_loss:.4f} acc {record.train_accuracy:.4f} | "
                               f"{validated} | {record.seconds:.0f}s" + (" *best*" if improved and val_loss is not None else ""))
                state.history.append(asdict(record))
                state.elapsed = elapsed_before + time.perf_counter() - session_started
                if on_epoch_end:
                    on_epoch_end(record, improved, state)
            state.epoch, state.step, state.total_loss, state.correct, state.count = epoch + 1, 0, 0.0, 0, 0
            state.epoch_seconds = 0.0
            stopping = bool(config.early_stopping_patience and state.stale >= config.early_stopping_patience)
            if stopping:
                state.epoch = config.epochs + 1  # a resumed run must not train on after stopping early
            save()
            if stopping:
                return FitResult(state.history, state.best_epoch, best_state, True, state)
            if cluster.any(stop.requested):
                raise Interrupted(f"stopped after epoch {epoch}")
    return FitResult(state.history, state.best_epoch, best_state, len(state.history) < config.epochs, state)
