"""The training loop: epochs, progress, validation, best-epoch selection, early stopping. Knows nothing of LSTMs."""

from __future__ import annotations

import copy
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
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
from .objectives import Objective
from .runtime import needs_grad_scaler


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


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int,
                   warmup: float = 0.3):
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                                                   total_steps=max(1, config.epochs * steps_per_epoch),
                                                   pct_start=warmup)
    return None


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


@dataclass
class FitOptions:
    """What fit does around the steps. `encoder`: pretrained parameters (discriminative learning rate, frozen
    for config.freeze_encoder_epochs); `cluster`: the processes of a torchrun launch (distributed.py), batches
    then carry each process's share; `embedding`: the layer whose output config.adversarial perturbs
    (adversarial training is off without it); `warmup`: the share of a one-cycle schedule spent rising."""

    on_epoch_end: Callable[[dict, bool, Progress], None] | None = None
    progress: bool = True
    checkpointing: Checkpointing | None = None
    resume: Checkpoint | None = None
    clock_start: float | None = None  # Progress.elapsed counts from here (default: now)
    encoder: list[nn.Parameter] | None = None
    cluster: Cluster | None = None
    embedding: nn.Module | None = None
    warmup: float = 0.3
    diverged_hint: str = "try a lower learning rate"


def fit(model: nn.Module, objective: Objective, train_batches: Callable[[int], Iterable], steps_per_epoch: int,
        config: TrainConfig, device: torch.device, options: FitOptions | None = None) -> FitResult:
    """Train for config.epochs; keep the weights of the epoch with the lowest validation loss (with
    config.weight_average, the averaged weights are the ones validated, kept and shown to on_epoch_end).
    Without validation (a final refit) every epoch counts as an improvement, so the last one is kept.

    train_batches(epoch) must give the same batches for the same epoch every time: resuming skips the batches
    a checkpoint had already done. With options.resume, every state (weights, optimizer, schedule, random
    generators, running sums) continues from the checkpoint, so the run ends exactly as an uninterrupted one
    would. Progress.elapsed counts from options.clock_start, plus the time of earlier sessions.
    """
    options = options or FitOptions()
    cluster, checkpointing, encoder = options.cluster or Cluster(device=device), options.checkpointing, options.encoder
    progress = options.progress and cluster.is_main
    optimizer = make_optimizer(model, config, encoder)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch, options.warmup)
    scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(device, config.mixed_precision) else None
    if options.resume is not None:
        best_state = options.resume.restore(model, optimizer, scheduler, scaler)
        state = options.resume.progress
    else:
        best_state, state = copy.deepcopy(model.state_dict()), Progress()
    average = None
    if config.weight_average > 0:
        average = WeightAverage(model, config.weight_average,
                                options.resume.average if options.resume is not None else None)
    perturbation = (EmbeddingPerturbation(options.embedding, config.adversarial)
                    if options.embedding is not None and config.adversarial else None)
    session_started = time.perf_counter() if options.clock_start is None else options.clock_start
    elapsed_before = state.elapsed

    def backward(loss: Tensor, weight: float) -> None:
        (scaler.scale(loss * weight) if scaler else loss * weight).backward()

    def save() -> None:
        if checkpointing is not None:
            state.elapsed = elapsed_before + time.perf_counter() - session_started
            checkpointing.save(model, best_state, optimizer, scheduler, state,
                               average.state_dict() if average else None, scaler.state_dict() if scaler else None)

    def step(net: nn.Module, batch, epoch: int) -> None:
        weight = getattr(batch, "loss_weight", 1.0)
        loss, outputs = objective.loss(net, batch)
        if not torch.isfinite(loss):
            every = checkpointing.every_steps if checkpointing else 0
            saved = checkpointing is not None and (bool(state.history) or 0 < every <= state.step)
            kept = "the last good checkpoint is kept" if saved else "no checkpoint had been written yet"
            raise UserError(f"{objective.activity} diverged: non-finite loss at epoch {epoch}, step {state.step + 1}; "
                            f"{kept}; {options.diverged_hint}")
        optimizer.zero_grad(set_to_none=True)
        adversarial = perturbation is not None and perturbation.armed()
        # with a second pass, DDP averages the gradients once, after both
        with net.no_sync() if adversarial and hasattr(net, "no_sync") else nullcontext():
            backward(loss, weight)
        if adversarial:
            with perturbation.perturbed():
                adversarial_loss = objective.adversarial_loss(net, batch)
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
            total, correct, count = objective.tally(loss, outputs)
            state.total_loss, state.correct, state.count = (state.total_loss + total, state.correct + correct,
                                                            state.count + count)

    def end_epoch(epoch: int, started: float) -> tuple[dict, bool]:
        with average.applied(model) if average else nullcontext():
            val_loss, validation = objective.validate(model) if objective.validates else (None, {})
            total_loss, correct, count = cluster.sum(state.total_loss, state.correct, state.count)
            row = objective.record(epoch, (total_loss / max(count, 1), correct / max(count, 1)), validation,
                                   optimizer.param_groups[0]["lr"], time.perf_counter() - started)
            improved = val_loss is None or val_loss < state.best_loss
            if improved:
                state.best_epoch, state.stale = epoch, 0
                if val_loss is not None:
                    state.best_loss = val_loss
                nonlocal best_state
                best_state = copy.deepcopy(model.state_dict())
            else:
                state.stale += 1
            if progress:
                tqdm.write(objective.describe(row, improved))
            state.history.append(row)
            state.elapsed = elapsed_before + time.perf_counter() - session_started
            if options.on_epoch_end:
                options.on_epoch_end(row, improved, state)
        return row, improved

    with StopRequest() as stop, perturbation or nullcontext():
        while state.epoch <= config.epochs:
            epoch = state.epoch
            model.train()
            for parameter in encoder or []:
                parameter.requires_grad_(epoch > config.freeze_encoder_epochs)
            net = cluster.wrap(model)  # after the freeze decision: DDP syncs the parameters that learn
            started = time.perf_counter() - state.epoch_seconds
            batches = itertools.islice(train_batches(epoch), state.step, None)
            bar = tqdm(batches, desc=f"{objective.label} {epoch}/{config.epochs}", unit=objective.unit,
                       total=steps_per_epoch, initial=state.step, disable=not progress, mininterval=1.0,
                       dynamic_ncols=True)
            for batch in bar:
                step(net, batch, epoch)
                if state.count:
                    bar.set_postfix(objective.postfix(state, time.perf_counter() - started), refresh=False)
                every = checkpointing.every_steps if checkpointing else 0
                requested = cluster.any(stop.requested)  # every process stops at the same step
                if requested or (every and state.step % every == 0 and state.step < steps_per_epoch):
                    state.epoch_seconds = time.perf_counter() - started
                    save()
                    if requested:
                        bar.close()
                        raise Interrupted(f"stopped at epoch {epoch}, step {state.step}")
            bar.close()
            end_epoch(epoch, started)
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
