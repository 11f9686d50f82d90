"""Seeding, device choice, mixed precision and float modes, and the machine's description: the few decisions
every command shares about where it runs."""

from __future__ import annotations

import contextlib
import os
import platform
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


def denormals_flushed() -> bool:
    """Whether the calling thread flushes subnormal floats to zero (a subnormal times one comes out as zero)."""
    return torch.tensor([1e-40], dtype=torch.float32).mul(1.0).item() == 0.0


@contextlib.contextmanager
def flush_denormals(enabled: bool | None = None):
    """Treat subnormal floats as zero on the CPU while the block runs, then restore the caller's setting.

    As LSTM gates saturate, gradients and activations fall into subnormal floats, which x86 cores compute an order
    of magnitude slower: a seed000 epoch grew from 24 to 40 s over five epochs without this, and stayed flat at
    22-25 s with it, with the same validation accuracy to four decimals (issue 19). The setting (x86 FTZ/DAZ) is
    per thread and inherited by threads created later: the command line enters this before the first tensor
    operation, so torch's worker threads start with it; an in-process caller whose thread pool already exists gets
    it on the calling thread only. enabled None: on unless LSTM_SENTIMENT_FLUSH_DENORMALS=0 (benchmarks/denormals.py
    measures both)."""
    if enabled is None:
        enabled = os.environ.get("LSTM_SENTIMENT_FLUSH_DENORMALS", "1") != "0"
    if not enabled:
        yield False
        return
    before = denormals_flushed()
    took = torch.set_flush_denormal(True)
    try:
        yield took
    finally:
        if took and not before:
            torch.set_flush_denormal(False)


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r} (use auto, cpu, cuda or cuda:N)") from None
    if device.type not in ("cpu", "cuda", "mps"):  # meta, xla, ...: tensors without data or another runtime
        raise UserError(f"device {name!r} cannot run a model here (use auto, cpu, cuda or cuda:N)")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device {name!r} requested but CUDA is not available")
    return device


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: oneDNN's bf16 LSTM and matrix products run about twice as fast as float32 there.
    Elsewhere bf16 is emulated and slower, so CPU autocast stays off."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def mixed_precision_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    """The autocast dtype a run uses on this device, or None for plain float32."""
    if not enabled:
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast on CUDA where supported (fp16 otherwise) and on CPUs with native bf16; else a no-op."""
    dtype = mixed_precision_dtype(device, enabled)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def needs_grad_scaler(device: torch.device, enabled: bool) -> bool:
    return enabled and device.type == "cuda" and not torch.cuda.is_bf16_supported()


def cpuinfo_line(prefix: str) -> str | None:
    """The value of the first /proc/cpuinfo line starting with `prefix` (Linux), else None."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            line = next((line for line in cpuinfo if line.startswith(prefix)), None)
    except OSError:
        return None
    return line.split(":", 1)[1].strip() if line and ":" in line else None


def machine_description() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__.split('+')[0]}"


def cpu_name() -> str:
    return cpuinfo_line("model name") or f"{platform.machine()} CPU"
