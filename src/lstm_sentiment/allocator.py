"""How the process allocates memory: kept apart from torch so the command line can set it before anything runs."""

from __future__ import annotations

import ctypes
import ctypes.util

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP_BYTES = 1 << 30


def keep_freed_memory() -> bool:
    """Let glibc keep freed blocks for reuse instead of handing them back to the kernel.

    Training allocates and frees the same large activation buffers (tens of MB) at every step. By default glibc
    serves blocks that large with mmap and unmaps them on free, so every step faults fresh zeroed pages back in:
    on the 2-core development machine a third of a `quick` epoch went to those page faults (the kernel's time).
    Raising the mmap and trim thresholds to 1 GiB keeps the pages mapped, at the price of memory the process keeps
    (benchmarks/allocator.py: steps 1.48x faster, peak memory a third higher). Returns whether the setting took
    (False off glibc, e.g. macOS, Windows or musl: nothing changes)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
