"""keep_freed_memory(): freed large buffers are reused instead of being faulted in again (glibc only)."""

from __future__ import annotations

import ctypes.util
import json
import platform
import subprocess
import sys

import pytest

from lstm_sentiment.allocator import keep_freed_memory

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="mallopt thresholds are a glibc feature")

# malloc, fill and free a 64 MB buffer (above glibc's largest automatic mmap threshold) a few times; report the
# minor page faults the repeats cost after the first.
CHILD = """
import ctypes, ctypes.util, json, resource, sys
from lstm_sentiment.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, (ctypes.c_size_t,), (ctypes.c_void_p,)
def fill_and_free():
    buffer = libc.malloc(64 << 20)
    ctypes.memset(buffer, 1, 64 << 20)
    libc.free(buffer)
fill_and_free()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    fill_and_free()
print(json.dumps({"applied": applied, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""
PAGES_PER_BUFFER = (64 << 20) // 4096


def faults_of_repeats(setting: str) -> dict:
    finished = subprocess.run([sys.executable, "-c", CHILD, setting], check=True, capture_output=True, text=True)
    return json.loads(finished.stdout)


@glibc_only
def test_freed_buffers_are_reused_instead_of_faulted_in_again():
    default, kept = faults_of_repeats("default"), faults_of_repeats("keep")
    assert kept["applied"] is True
    assert default["faults"] > 3 * PAGES_PER_BUFFER  # each repeat maps fresh zeroed pages
    assert kept["faults"] < PAGES_PER_BUFFER // 4  # the heap keeps the pages; repeats touch no new ones


def test_reports_false_where_there_is_no_c_library(monkeypatch):
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert keep_freed_memory() is False
