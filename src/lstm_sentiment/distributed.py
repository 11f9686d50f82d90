"""Training on several processes with PyTorch's DistributedDataParallel, started by torchrun.

Every process builds the same global batches (same seed, same epoch order) and trains on its contiguous share of
each. Each share's mean loss is weighted by share / global batch x world size, so after DDP averages the
gradients they equal one process's gradient on the whole global batch: N processes reproduce a one-process run
with the same global batch size. Sums for the logs and validation are added across processes; only rank 0
writes files. gloo on CPU, NCCL on CUDA (one GPU per process, by LOCAL_RANK).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from torch import Tensor, nn

from .runtime import resolve_device


@dataclass(frozen=True)
class Cluster:
    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def share(self, index: Tensor) -> tuple[Tensor, float]:
        """This process's rows of a global batch, and the weight of its mean loss (see the module docstring).
        A process left with no rows trains on the batch's first row at weight 0, so every process still takes
        part in each gradient exchange."""
        if not self.active:
            return index, 1.0
        mine = index.tensor_split(self.world_size)[self.rank]
        if len(mine) == 0:
            return index[:1], 0.0
        return mine, len(mine) / len(index) * self.world_size

    def sum(self, *values: float) -> list[float]:
        if not self.active:
            return list(values)
        totals = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(totals)
        return totals.tolist()

    def any(self, flag: bool) -> bool:
        return self.sum(float(flag))[0] > 0 if self.active else flag

    def wrap(self, model: nn.Module) -> nn.Module:
        """DDP over the parameters that currently require gradients (rewrap when that set changes)."""
        if not self.active:
            return model
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)

    def barrier(self) -> None:
        if self.active:
            dist.barrier()


def launched_rank() -> int:
    """This process's rank in a torchrun launch (0 outside one), read before any process group exists."""
    return int(os.environ.get("RANK", "0"))


def launched_world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def join_cluster(device_name: str) -> Cluster:
    """The Cluster torchrun describes in the environment, or a single process."""
    world_size = launched_world_size()
    if world_size <= 1:
        return Cluster(device=resolve_device(device_name))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = device_name != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    return Cluster(rank, world_size, device)


def leave_cluster() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
