"""Seeding, device choice and mixed precision: the few decisions every command shares."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch

from .errors import UserError


def set_seed(seed: int) -> torch.Generator:
    """Seed every generator we use; returns a dedicated generator for data order."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r} (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested but CUDA is not available")
    return device


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast on CUDA where supported, fp16 otherwise; a no-op on CPU."""
    if not enabled or device.type != "cuda":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


def needs_grad_scaler(device: torch.device, enabled: bool) -> bool:
    return enabled and device.type == "cuda" and not torch.cuda.is_bf16_supported()
