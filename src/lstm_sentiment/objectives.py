"""What fit minimises: the Objective protocol and the classifier's binary cross-entropy (pretrain.py has the
language model's). Kept apart from the loop so that new objectives (distillation, virtual adversarial terms)
plug in without touching it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Protocol

import torch
from torch import Tensor, nn

from .checkpoint import Progress
from .distributed import Cluster
from .runtime import autocast

# (model, batch) -> (logits, labels); supplied by the caller, so the loop never sees what the model is.
ForwardFn = Callable[[nn.Module, object], tuple[Tensor, Tensor]]


class Objective(Protocol):
    """What fit minimises and how it scores an epoch: the loop knows steps, checkpoints and schedules, the
    objective knows the model's outputs. BinaryCrossEntropy trains classifiers; pretrain.py's language-model
    objective plugs in the same way (so would distillation or any mixed objective)."""

    activity: str  # named in messages: "training", "pretraining"
    label: str  # shown on the progress bar: "epoch", "pretrain"
    unit: str  # what one step consumes: "batch", "win"
    validates: bool  # False: a final refit, every epoch counts as an improvement

    def loss(self, net: nn.Module, batch) -> tuple[Tensor, object]:
        """The mean loss that backward sees, and whatever tally() needs from this step."""

    def adversarial_loss(self, net: nn.Module, batch) -> Tensor:
        """The loss of the same step's second pass, with the word vectors adversarially perturbed
        (train.adversarial): the terms that depend on the batch's own words only, since any other terms were
        counted once in the clean pass."""

    def tally(self, loss: Tensor, outputs: object) -> tuple[float, int, int]:
        """(summed loss, correct, count) of one step, for the epoch's running means."""

    def validate(self, model: nn.Module) -> tuple[float, dict]:
        """(the loss that selects the best epoch, the record's validation fields)."""

    def record(self, epoch: int, train: tuple[float, float], validation: dict, learning_rate: float,
               seconds: float) -> dict:
        """One history row: (train loss, train accuracy), validate()'s fields, the rate and the time."""

    def describe(self, row: dict, improved: bool) -> str:
        """The line printed at the end of an epoch."""

    def postfix(self, state: Progress, seconds: float) -> dict:
        """The progress bar's running figures."""


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None  # None without a validation split
    val_accuracy: float | None
    learning_rate: float
    seconds: float


class BinaryCrossEntropy:
    """A classifier's objective: binary cross-entropy on (logits, labels) from `forward`, labels 0/1 or soft
    targets in [0, 1]; accuracy counts labels >= 0.5 as positive."""

    activity, label, unit = "training", "epoch", "batch"

    def __init__(self, forward: ForwardFn, device: torch.device, mixed_precision: bool,
                 val_batches: Callable[[], Iterable] | None = None, cluster: Cluster | None = None):
        self.forward, self.device, self.mixed_precision = forward, device, mixed_precision
        self.val_batches, self.cluster = val_batches, cluster
        self.validates = val_batches is not None

    def loss(self, net: nn.Module, batch) -> tuple[Tensor, object]:
        with autocast(self.device, self.mixed_precision):
            logits, labels = self.forward(net, batch)
            return nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float()), (logits, labels)

    def adversarial_loss(self, net: nn.Module, batch) -> Tensor:
        return BinaryCrossEntropy.loss(self, net, batch)[0]  # the labelled loss, whatever a subclass adds

    def tally(self, loss: Tensor, outputs: object) -> tuple[float, int, int]:
        logits, labels = outputs
        return loss.item() * len(labels), int(((logits.detach() > 0) == (labels >= 0.5)).sum()), len(labels)

    def validate(self, model: nn.Module) -> tuple[float, dict]:
        loss, accuracy = evaluate_loss(model, self.val_batches(), self.forward, self.device, self.mixed_precision,
                                       self.cluster)
        return loss, {"val_loss": loss, "val_accuracy": accuracy}

    def record(self, epoch: int, train: tuple[float, float], validation: dict, learning_rate: float,
               seconds: float) -> dict:
        return asdict(EpochRecord(epoch, *train, validation.get("val_loss"), validation.get("val_accuracy"),
                                  learning_rate, seconds))

    def describe(self, row: dict, improved: bool) -> str:
        validated = (f"val loss {row['val_loss']:.4f} acc {row['val_accuracy']:.4f}" if self.validates
                     else "no validation (refit)")
        return (f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.4f} | "
                f"{validated} | {row['seconds']:.0f}s" + (" *best*" if improved and self.validates else ""))

    def postfix(self, state: Progress, seconds: float) -> dict:
        return {"loss": f"{state.total_loss / state.count:.4f}", "acc": f"{state.correct / state.count:.4f}"}



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
