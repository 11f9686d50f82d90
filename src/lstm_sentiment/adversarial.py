"""Adversarial training on word vectors (Miyato, Dai & Goodfellow 2017): each step also trains on the batch with
its embedded reviews pushed a small step in the direction that raises the loss most, so that no tiny change of
wording flips a prediction. Works through a forward hook on the embedding layer: the training loop needs no
knowledge of the model."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Self

import torch
from torch import Tensor, nn


class EmbeddingPerturbation:
    """Records the embedding layer's output in the clean pass and, inside `perturbed()`, adds
    r = epsilon * ||e|| * g / ||g|| per review, where e is the review's embedded sequence and g the loss gradient
    with respect to it. Relative to ||e||, epsilon means the same whatever the scale of the word vectors
    (Miyato et al. normalise the vectors instead and use an absolute size)."""

    def __init__(self, embedding: nn.Module, epsilon: float):
        self.epsilon = epsilon
        self._recorded: Tensor | None = None
        self._perturbation: Tensor | None = None
        self._handle = embedding.register_forward_hook(self._hook)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()  # the trained model leaves fit without the hook

    def _hook(self, module: nn.Module, inputs, output: Tensor):
        if self._perturbation is not None:
            return output + self._perturbation.to(output.dtype)
        if module.training and output.requires_grad:
            output.retain_grad()
            self._recorded = output
        else:
            self._recorded = None
        return None

    def armed(self) -> bool:
        """Whether the last clean pass recorded word vectors whose backward will give a gradient to follow (not
        while the embedding is frozen). Known before the backward, so DDP can hold back its averaging."""
        return self._recorded is not None

    @contextmanager
    def perturbed(self):
        """Inside, the embedding layer's output carries the adversarial perturbation of the last clean pass."""
        embedded, gradient = self._recorded.detach().float(), self._recorded.grad.detach().float()
        self._recorded = None
        gradient = torch.nan_to_num(gradient, nan=0.0, posinf=0.0, neginf=0.0)  # a skipped fp16 step's inf
        scale = self.epsilon * review_norm(embedded) / review_norm(gradient).clamp(min=1e-12)
        self._perturbation = gradient * scale
        try:
            yield
        finally:
            self._perturbation = None


def review_norm(x: Tensor) -> Tensor:
    """The Euclidean norm of each review's embedded sequence ([batch, ...] -> [batch, 1, ...])."""
    return x.pow(2).sum(dim=tuple(range(1, x.dim())), keepdim=True).sqrt()
