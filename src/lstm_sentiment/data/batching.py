"""Batches of encoded reviews, bucketed by length so that padding costs almost nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

if TYPE_CHECKING:  # prepare.py pulls in scikit-learn (word vectors for aliases): 1 s of `predict`'s cold start
    from .prepare import EncodedSplit


@dataclass
class Batch:
    ids: Tensor  # [batch, time] right-padded, trimmed to the longest review in the batch
    lengths: Tensor  # [batch]
    labels: Tensor  # [batch] 0/1, or float targets in [0, 1] for a training split that has them
    index: Tensor  # [batch] positions in the split
    loss_weight: float = 1.0  # scales this batch's mean loss (a process's share of a distributed global batch)

    def to(self, device: torch.device) -> Batch:
        non_blocking = device.type == "cuda"
        return Batch(*(t.to(device, non_blocking=non_blocking) for t in (self.ids, self.lengths, self.labels)),
                     self.index, self.loss_weight)


def trim_and_right_align(ids: Tensor, lengths: Tensor, padding: str) -> Tensor:
    """Cut a padded id batch to its longest row and move padding to the right.

    Padding is invisible to the model, so the side only matters for speed: realigning integer ids here is far
    cheaper than letting the LSTM rotate float activations (and their gradients) for left padding.
    """
    width = max(1, int(lengths.max())) if len(lengths) else 1
    if padding == "post":
        return ids[:, :width]
    ids = ids[:, -width:]
    if bool((lengths == width).all()):
        return ids
    index = torch.remainder(torch.arange(width)[None, :] + (width - lengths)[:, None], width)
    return ids.gather(1, index)


def batch_order(lengths: Tensor, batch_size: int, shuffle: bool, bucket: bool, generator: torch.Generator | None,
                pool_batches: int = 50, max_tokens: int | None = None) -> list[Tensor]:
    """Index lists, one per batch. Bucketing sorts pools of `pool_batches` batches by length, then shuffles the
    batches, so each epoch still sees a new order while batches hold reviews of similar length. max_tokens also
    caps a batch's padded size (reviews x longest review)."""
    n = len(lengths)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    if bucket:
        pool = batch_size * pool_batches
        chunks = []
        for start in range(0, n, pool):
            chunk = order[start: start + pool]
            chunks.append(chunk[lengths[chunk].argsort(descending=True, stable=True)])
        order = torch.cat(chunks) if chunks else order
    batches = (token_capped(order, lengths, batch_size, max_tokens) if max_tokens
               else list(order.split(batch_size)))
    if shuffle and bucket:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    return batches


def token_capped(order: Tensor, lengths: Tensor, batch_size: int, max_tokens: int) -> list[Tensor]:
    """`order` cut into consecutive batches of at most batch_size reviews and max_tokens padded tokens (a review
    longer than max_tokens gets a batch of its own). Scoring whole reviews (data.eval_maxlen) then needs no
    more memory per batch than scoring typical ones: long reviews come in smaller batches."""
    kept = lengths[order].tolist()
    batches, start = [], 0
    while start < len(kept):
        end, longest = start + 1, kept[start]
        while end < len(kept) and end - start < batch_size and max(longest, kept[end]) * (end - start + 1) <= max_tokens:
            longest = max(longest, kept[end])
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def iterate_batches(split: EncodedSplit, batch_size: int, padding: str, shuffle: bool = False,
                    bucket: bool = True, generator: torch.Generator | None = None,
                    max_tokens: int | None = None) -> Iterator[Batch]:
    for index in batch_order(split.lengths, batch_size, shuffle, bucket, generator, max_tokens=max_tokens):
        yield make_batch(split, index, padding)


def make_batch(split: EncodedSplit, index: Tensor, padding: str) -> Batch:
    lengths = split.lengths[index]
    ids = trim_and_right_align(split.ids[index], lengths, padding)
    if ids.device.type == "cpu" and torch.cuda.is_available():
        ids = ids.pin_memory()
    labels = split.targets[index] if split.targets is not None else split.labels[index]
    return Batch(ids, lengths, labels, index)
