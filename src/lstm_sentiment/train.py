"""The training loop: epochs, progress, validation, best-epoch selection, early stopping. Knows nothing of LSTMs."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .config import TrainConfig
from .errors import UserError
from .runtime import autocast, needs_grad_scaler

# (model, batch) -> (logits, labels); supplied by the caller, so the loop never sees what the model is.
ForwardFn = Callable[[nn.Module, object], tuple[Tensor, Tensor]]


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    learning_rate: float
    seconds: float


@dataclass
class FitResult:
    history: list[EpochRecord]
    best_epoch: int
    best_state: dict[str, Tensor]
    stopped_early: bool


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    # The fused implementation updates all parameters in one kernel (CPU and CUDA) instead of one per tensor.
    return kind(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, fused=True)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.learning_rate,
                                                   total_steps=max(1, config.epochs * steps_per_epoch))
    return None


def evaluate_loss(model: nn.Module, batches: Iterable, forward: ForwardFn, device: torch.device,
                  mixed_precision: bool) -> tuple[float, float]:
    """Mean binary cross-entropy and accuracy over batches, without gradients."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad(), autocast(device, mixed_precision):
        for batch in batches:
            logits, labels = forward(model, batch)
            logits = logits.float()
            total_loss += nn.functional.binary_cross_entropy_with_logits(
                logits, labels.float(), reduction="sum").item()
            correct += int(((logits > 0).long() == labels).sum())
            count += len(labels)
    return total_loss / max(count, 1), correct / max(count, 1)


def fit(model: nn.Module, train_batches: Callable[[int], Iterable], steps_per_epoch: int, val_batches: Callable[[], Iterable],
        forward: ForwardFn, config: TrainConfig, device: torch.device,
        on_epoch_end: Callable[[EpochRecord, bool], None] | None = None, progress: bool = True) -> FitResult:
    """Train for config.epochs; keep the weights of the epoch with the lowest validation loss."""
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch)
    scaler = torch.amp.GradScaler("cuda") if needs_grad_scaler(device, config.mixed_precision) else None
    history: list[EpochRecord] = []
    best_loss, best_epoch, best_state, stale = math.inf, 0, copy.deepcopy(model.state_dict()), 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        started = time.perf_counter()
        total_loss, correct, count = 0.0, 0, 0
        bar = tqdm(train_batches(epoch), desc=f"epoch {epoch}/{config.epochs}", unit="batch", total=steps_per_epoch,
                   disable=not progress, mininterval=1.0, dynamic_ncols=True)
        for step, batch in enumerate(bar, start=1):
            with autocast(device, config.mixed_precision):
                logits, labels = forward(model, batch)
                loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float())
            if not torch.isfinite(loss):
                raise UserError(f"training diverged: non-finite loss at epoch {epoch}, step {step}; "
                                "try a lower learning rate or gradient clipping")
            optimizer.zero_grad(set_to_none=True)
            if scaler:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            else:
                loss.backward()
            if config.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            if scaler:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            if scheduler:
                scheduler.step()
            total_loss += loss.item() * len(labels)
            correct += int(((logits.detach() > 0).long() == labels).sum())
            count += len(labels)
            bar.set_postfix(loss=f"{total_loss / count:.4f}", acc=f"{correct / count:.4f}", refresh=False)
        bar.close()
        val_loss, val_accuracy = evaluate_loss(model, val_batches(), forward, device, config.mixed_precision)
        record = EpochRecord(epoch, total_loss / max(count, 1), correct / max(count, 1), val_loss, val_accuracy,
                             optimizer.param_groups[0]["lr"], time.perf_counter() - started)
        history.append(record)
        improved = val_loss < best_loss
        if improved:
            best_loss, best_epoch, stale = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
        if progress:
            tqdm.write(f"epoch {epoch}: train loss {record.train_loss:.4f} acc {record.train_accuracy:.4f} | "
                       f"val loss {val_loss:.4f} acc {val_accuracy:.4f} | {record.seconds:.0f}s"
                       + (" *best*" if improved else ""))
        if on_epoch_end:
            on_epoch_end(record, improved)
        if config.early_stopping_patience and stale >= config.early_stopping_patience:
            return FitResult(history, best_epoch, best_state, stopped_early=True)
    return FitResult(history, best_epoch, best_state, stopped_early=False)


def history_rows(history: list[EpochRecord]) -> list[dict]:
    return [asdict(record) for record in history]
