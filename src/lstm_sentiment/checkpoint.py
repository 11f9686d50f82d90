"""Training checkpoints: everything needed to continue a run bit-for-bit, in one safetensors file.

Tensors (weights, best weights, optimizer moments, random generator states) are safetensors entries; the rest
(position in the data, history, scheduler, config) is JSON in the file's metadata. One file written atomically
means a kill at any instant leaves either the previous checkpoint or the new one, never a mixture. No pickle.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor

from .errors import UserError
from .faults import FaultInjector
from .files import atomic_write
from .integrity import STATE_KEY, tensors_digest, text_digest

CHECKPOINT = "checkpoint.safetensors"
CHECKPOINT_VERSION = 1


@dataclass
class Progress:
    """Where a run stands: the loop continues from exactly here."""

    epoch: int = 1  # the epoch in progress (1-based)
    step: int = 0  # batches finished in that epoch
    total_loss: float = 0.0  # running sums of the epoch in progress
    correct: int = 0
    count: int = 0
    epoch_seconds: float = 0.0  # time already spent in the epoch in progress
    elapsed: float = 0.0  # seconds of the run so far, across restarts
    excluded: float = 0.0  # seconds of extra measurements not counted as the run's time (test tracking)
    best_loss: float = float("inf")
    best_epoch: int = 0
    stale: int = 0
    history: list[dict] = field(default_factory=list)


def random_states() -> dict[str, Tensor]:
    states = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states.update({f"rng.cuda.{k}": s for k, s in enumerate(torch.cuda.get_rng_state_all())})
    _, keys, position, has_gauss, gauss = np.random.get_state()
    states["rng.numpy"] = torch.from_numpy(keys.astype(np.int64))
    states["rng.numpy.extra"] = torch.tensor([position, has_gauss], dtype=torch.int64)
    states["rng.numpy.gauss"] = torch.tensor([gauss], dtype=torch.float64)
    version, python_state, gauss_next = random.getstate()
    states["rng.python"] = torch.tensor(python_state, dtype=torch.int64)
    states["rng.python.meta"] = torch.tensor([version, gauss_next is not None], dtype=torch.int64)
    states["rng.python.gauss"] = torch.tensor([gauss_next or 0.0], dtype=torch.float64)
    return states


def restore_random_states(tensors: dict[str, Tensor]) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    cuda = sorted((k for k in tensors if k.startswith("rng.cuda.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])
    position, has_gauss = tensors["rng.numpy.extra"].tolist()
    np.random.set_state(("MT19937", tensors["rng.numpy"].numpy().astype(np.uint32), position, has_gauss,
                         float(tensors["rng.numpy.gauss"][0])))
    version, has_next = tensors["rng.python.meta"].tolist()
    gauss_next = float(tensors["rng.python.gauss"][0]) if has_next else None
    random.setstate((version, tuple(tensors["rng.python"].tolist()), gauss_next))


def _optimizer_tensors(state: dict) -> tuple[dict[str, Tensor], dict]:
    """Split an optimizer state dict into tensors and a JSON-able remainder."""
    tensors, plain = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, Tensor):
                tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                plain[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "plain": plain}


def _optimizer_state(tensors: dict[str, Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for name, value in meta["plain"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    groups = [{**g, **({"betas": tuple(g["betas"])} if "betas" in g else {})} for g in meta["param_groups"]]
    return {"state": state, "param_groups": groups}


def save_checkpoint(run_dir: Path, model: torch.nn.Module, best_state: dict[str, Tensor],
                    optimizer: torch.optim.Optimizer, scheduler, progress: Progress, config: dict,
                    faults: FaultInjector | None = None, average: dict[str, Tensor] | None = None,
                    grad_scaler: dict | None = None) -> None:
    """grad_scaler: the float16 loss scaler's state (CUDA without bf16), so a resumed run does not start its loss
    scale over and skip steps finding it again."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tensors.update({f"best.{k}": v.detach().cpu().contiguous() for k, v in best_state.items()})
    tensors.update({f"average.{k}": v.detach().cpu().contiguous() for k, v in (average or {}).items()})
    optimizer_tensors, optimizer_meta = _optimizer_tensors(optimizer.state_dict())
    tensors.update(optimizer_tensors)
    tensors.update(random_states())
    meta = {
        "version": CHECKPOINT_VERSION,
        "progress": asdict(progress),
        "optimizer": optimizer_meta,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "grad_scaler": grad_scaler,
        "config": config,
    }
    state = json.dumps(meta)
    # one digest over every tensor and the JSON state: a flipped byte or an edited epoch number is refused on resume
    metadata = {"format": "lstm-sentiment-checkpoint", "state": state,
                STATE_KEY: text_digest(tensors_digest(tensors) + state)}

    def write(path: Path) -> None:
        save_file(tensors, str(path), metadata=metadata)
        if faults:
            faults.reached("checkpoint-write")

    atomic_write(run_dir / CHECKPOINT, write)


@dataclass
class Checkpoint:
    model: dict[str, Tensor]
    best: dict[str, Tensor]
    average: dict[str, Tensor]  # the weight average (averaging.py); empty when the run keeps none
    optimizer: dict
    scheduler: dict | None
    grad_scaler: dict | None  # the loss scaler's state; None when the run used none (or predates it)
    progress: Progress
    config: dict
    tensors: dict[str, Tensor]  # all of them, random generator states included

    def restore(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler,
                grad_scaler=None) -> dict[str, Tensor]:
        """Load every state back; returns the best weights so far."""
        model.load_state_dict(self.model)
        optimizer.load_state_dict(self.optimizer)
        if scheduler is not None and self.scheduler is not None:
            scheduler.load_state_dict(self.scheduler)
        if grad_scaler is not None and self.grad_scaler is not None:
            grad_scaler.load_state_dict(self.grad_scaler)
        restore_random_states(self.tensors)
        return self.best


def load_checkpoint(run_dir: Path) -> Checkpoint:
    path = run_dir / CHECKPOINT
    if not path.exists():
        raise UserError(f"{path}: no checkpoint to resume from (was the run started by this version?)")
    try:
        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not a dict)
        meta = json.loads(metadata["state"])
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path}: unreadable checkpoint ({exc})") from None
    if STATE_KEY in metadata and metadata[STATE_KEY] != text_digest(tensors_digest(tensors) + metadata["state"]):
        raise UserError(f"{path}: the checkpoint does not match the checksum recorded when it was written (damaged "
                        "or edited); nothing was changed")
    if meta.get("version", 0) > CHECKPOINT_VERSION:
        raise UserError(f"{path}: checkpoint version {meta['version']} is newer than this lstm-sentiment supports")
    return Checkpoint(
        model={k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")},
        best={k.removeprefix("best."): v for k, v in tensors.items() if k.startswith("best.")},
        average={k.removeprefix("average."): v for k, v in tensors.items() if k.startswith("average.")},
        optimizer=_optimizer_state(tensors, meta["optimizer"]),
        scheduler=meta["scheduler"],
        grad_scaler=meta.get("grad_scaler"),
        progress=Progress(**meta["progress"]),
        config=meta["config"],
        tensors=tensors,
    )


def config_differences(saved: dict[str, Any], requested: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested config dicts."""
    keys = sorted(set(saved) | set(requested))
    differences = []
    for key in keys:
        a, b = saved.get(key), requested.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            differences.extend(config_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            differences.append(f"{prefix}{key} ({a!r} in the run, {b!r} now)")
    return differences
