"""Learning from unlabelled reviews too: virtual adversarial training and entropy minimisation.

Virtual adversarial training (Miyato, Dai & Goodfellow 2017): for a batch of unlabelled reviews, find the small
perturbation of their word vectors that most changes the model's prediction (one power iteration from a random
direction), and add the KL divergence between the clean and the perturbed predictions to the loss, so the model
is smooth around real reviews, labelled or not. Entropy minimisation (Grandvalet & Bengio 2005; used with VAT by
Sachan et al. 2019) adds the entropy of the predictions on unlabelled reviews, pushing them away from 0.5.

Both are an Objective for fit (objectives.py): the labelled loss plus these terms on the unlabelled batch that
each training batch carries (batch.unlabelled, chosen from the step's own seeded generator, so a resumed run sees
the same unlabelled reviews at the same step). Random directions come from torch's generator, which checkpoints
save and restore like dropout's.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from .adversarial import review_norm
from .data.vocab import PAD_ID
from .errors import UserError
from .objectives import BinaryCrossEntropy
from .runtime import autocast

XI = 1e-6  # size of the random probe, relative to the embedded review's norm (finite-difference step)


def binary_kl(clean_logits: Tensor, logits: Tensor) -> Tensor:
    """Mean KL(p || q) of Bernoulli predictions p = sigmoid(clean), q = sigmoid(logits)."""
    log_p, log_not_p = nn.functional.logsigmoid(clean_logits), nn.functional.logsigmoid(-clean_logits)
    log_q, log_not_q = nn.functional.logsigmoid(logits), nn.functional.logsigmoid(-logits)
    p = torch.sigmoid(clean_logits)
    return (p * (log_p - log_q) + (1 - p) * (log_not_p - log_not_q)).mean()


def binary_entropy(logits: Tensor) -> Tensor:
    p = torch.sigmoid(logits)
    return -(p * nn.functional.logsigmoid(logits) + (1 - p) * nn.functional.logsigmoid(-logits)).mean()


def embed(model: nn.Module, ids: Tensor) -> Tensor:
    """The model's word vectors of ids, without calling its embedding module: train.adversarial's hook on that
    module must see only the labelled batch (it records the vectors whose gradient it follows)."""
    return nn.functional.embedding(ids, model.embedding.weight, model.embedding.padding_idx)


def logits_of_embedded(model: nn.Module, embedded: Tensor, lengths: Tensor, padding_side: str) -> Tensor:
    outputs, final, _ = model.encode_embedded(embedded, lengths, padding_side)
    return model.classify(outputs, final, lengths, padding_side)


def virtual_adversarial_loss(model: nn.Module, ids: Tensor, lengths: Tensor, epsilon: float,
                             padding_side: str = "right") -> Tensor:
    """KL(p(x) || p(x + r)) where r, of norm epsilon * ||e|| per review (e: the review's word vectors), is the
    direction one power iteration finds to change p most; the clean prediction is a constant target."""
    embedded = embed(model, ids)
    valid = (ids != PAD_ID).unsqueeze(-1).to(embedded.dtype)
    with torch.no_grad():
        clean = logits_of_embedded(model, embedded, lengths, padding_side).float()
    scale = review_norm(embedded.detach().float())
    probe = torch.randn(embedded.shape, device=embedded.device) * valid
    probe = (XI * scale * probe / review_norm(probe).clamp(min=1e-12)).requires_grad_()
    divergence = binary_kl(clean, logits_of_embedded(model, embedded.detach() + probe.to(embedded.dtype),
                                                     lengths, padding_side).float())
    (gradient,) = torch.autograd.grad(divergence, probe)
    gradient = torch.nan_to_num(gradient, nan=0.0, posinf=0.0, neginf=0.0) * valid
    perturbation = epsilon * scale * gradient / review_norm(gradient).clamp(min=1e-12)
    return binary_kl(clean, logits_of_embedded(model, embedded + perturbation.to(embedded.dtype).detach(),
                                               lengths, padding_side).float())


class SemiSupervised(BinaryCrossEntropy):
    """Binary cross-entropy on the labelled batch, plus virtual adversarial training (epsilon > 0) and entropy
    minimisation (weight > 0) on the unlabelled batch it carries. The tallies stay those of the labelled loss."""

    def __init__(self, forward, device: torch.device, mixed_precision: bool, val_batches=None, cluster=None, *,
                 model: nn.Module, epsilon: float = 0.0, entropy_weight: float = 0.0):
        super().__init__(forward, device, mixed_precision, val_batches, cluster)
        self.model, self.epsilon, self.entropy_weight = model, epsilon, entropy_weight

    def loss(self, net: nn.Module, batch) -> tuple[Tensor, object]:
        loss, outputs = super().loss(net, batch)
        unlabelled = getattr(batch, "unlabelled", None)
        if unlabelled is None or not net.training:
            return loss, outputs
        ids, lengths = (t.to(self.device) for t in unlabelled)
        with autocast(self.device, self.mixed_precision):
            extra = loss.new_zeros(())
            if self.epsilon > 0:
                extra = extra + virtual_adversarial_loss(self.model, ids, lengths, self.epsilon)
            if self.entropy_weight > 0:
                predicted = logits_of_embedded(self.model, embed(self.model, ids), lengths, "right")
                extra = extra + self.entropy_weight * binary_entropy(predicted.float())
        return loss + extra, outputs


def classifier_objective(config, forward, device: torch.device, val_batches, cluster, model: nn.Module):
    """The objective a classifier trains on: SemiSupervised when train.virtual_adversarial or
    train.entropy_minimisation is set (one process only), plain binary cross-entropy otherwise."""
    if not config.semi_supervised:
        return BinaryCrossEntropy(forward, device, config.mixed_precision, val_batches, cluster)
    if cluster is not None and cluster.active:
        raise UserError("train.virtual_adversarial and train.entropy_minimisation run on one process; launch "
                        "without torchrun")
    return SemiSupervised(forward, device, config.mixed_precision, val_batches, cluster, model=model,
                          epsilon=config.virtual_adversarial, entropy_weight=config.entropy_minimisation)


class UnlabelledReviews:
    """Unlabelled reviews (the archive's unsup reviews and the training reviews without their labels) as id
    rows cut to maxlen, drawn for each step from that step's generator."""

    def __init__(self, flat: np.ndarray, maxlen: int):
        ends = np.flatnonzero(flat == -1)
        starts = np.concatenate([[0], ends[:-1] + 1])
        keep = ends > starts
        self.flat, self.starts, self.ends, self.maxlen = flat, starts[keep], ends[keep], maxlen

    def __len__(self) -> int:
        return len(self.starts)

    def batch(self, size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """(ids [size, longest] right-padded, lengths [size]) of `size` reviews drawn with `generator`; the last
        maxlen tokens of each (as training keeps them with truncating = "pre")."""
        picks = torch.randint(len(self.starts), (size,), generator=generator).numpy()
        rows = [self.flat[max(self.starts[k], self.ends[k] - self.maxlen): self.ends[k]] for k in picks]
        lengths = torch.tensor([len(row) for row in rows])
        ids = torch.full((size, int(lengths.max())), PAD_ID, dtype=torch.long)
        for k, row in enumerate(rows):
            ids[k, : len(row)] = torch.from_numpy(row.astype(np.int64))
        return ids, lengths
