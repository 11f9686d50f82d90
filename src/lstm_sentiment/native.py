"""The compiled LSTM step kernels (kernels/lstm_steps.cpp), built once per machine on first use.

Building needs a C++ compiler and Python headers; where either is missing, or LSTM_SENTIMENT_NATIVE=0, the
explicit path runs the same equations as a Python loop of tensor operations (slower, identical results).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import warnings
from importlib import resources
from types import ModuleType

import torch

from .runtime import cpuinfo_line

KERNEL_VERSION = 1


def lstm_steps() -> ModuleType | None:
    """The extension module, or None where it is switched off (LSTM_SENTIMENT_NATIVE=0) or cannot be built."""
    if os.environ.get("LSTM_SENTIMENT_NATIVE", "1") == "0":
        return None
    return _build()


@functools.cache
def _build() -> ModuleType | None:
    """At most one build attempt per process; torch caches the built library on disk across processes."""
    source = resources.files("lstm_sentiment") / "kernels" / "lstm_steps.cpp"
    # -march=native code must not be reused on another CPU: the build folder's name carries the CPU's identity
    machine = f"{torch.__version__}|{torch.backends.cpu.get_cpu_capability()}|{cpuinfo_line('flags')}|{KERNEL_VERSION}"
    name = f"lstm_sentiment_steps_{hashlib.sha256(machine.encode()).hexdigest()[:12]}"
    try:
        from torch.utils.cpp_extension import load

        if not _already_built(name):
            print("lstm-sentiment: building the LSTM step kernel (once per machine, about a minute)...",
                  file=sys.stderr, flush=True)
        return load(name=name, sources=[str(source)], verbose=False,
                    extra_cflags=["-O3", "-ffast-math", "-fopenmp-simd", "-march=native"])
    except Exception as error:  # noqa: BLE001 - no compiler, no headers, read-only cache: fall back, say so once
        warnings.warn(f"LSTM step kernel unavailable, using the Python loop instead: {error}", stacklevel=2)
        return None


def _already_built(name: str) -> bool:
    from torch.utils.cpp_extension import _get_build_directory

    try:
        folder = _get_build_directory(name, verbose=False)
    except Exception:  # noqa: BLE001 - no build directory to look at: not built
        return False
    return any(entry.endswith(".so") for entry in os.listdir(folder))
