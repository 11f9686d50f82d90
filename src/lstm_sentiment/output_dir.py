"""Where a run or a packed model is written, so that a model directory is always the old model or the new one.

A directory that already holds a model or a run is refused unless the user says --overwrite; then the new one
is written into a sibling staging folder and swapped in when it is complete (one atomic exchange on Linux), so
a run that dies early leaves the old model as it was instead of old weights beside a new vocabulary.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from importlib import resources
from pathlib import Path

from .errors import UserError

# files that make a directory a model or a run (weights, their config and vocabulary, or a resumable checkpoint)
MARKERS = ("model.safetensors", "config.json", "vocab.json", "checkpoint.safetensors", "encoder.safetensors",
           "metrics.json", "history.json")
_RENAME_EXCHANGE = 2


def staging_dir(out: Path) -> Path:
    """The sibling a replacing run writes into (the same name on every process of a distributed run)."""
    return out.parent / f".{out.name}.partial"


def held_files(out: Path) -> list[str]:
    return [name for name in MARKERS if (out / name).exists()] if out.is_dir() else []


def refuse_package_folder(out: Path) -> None:
    package = Path(str(resources.files("lstm_sentiment"))).resolve()
    target = out.resolve()
    inside = package in target.parents and target != package / "default_model"
    if target == package or target in package.parents or inside:
        raise UserError(f"--out {out}: that is the lstm-sentiment package's own folder; write models elsewhere")


def claim(out: Path, overwrite: bool, clean: bool = True) -> Path:
    """The directory to write into: `out` itself when it holds no model or run, else (with overwrite) a fresh
    staging folder that replace() later swaps in. Refuses the package's own folder, and an existing model or
    run without overwrite. clean=False (the other processes of a distributed run) only decides, touching
    nothing."""
    refuse_package_folder(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"output path {out} exists and is not a directory")
    held = held_files(out)
    if not held:
        return out
    if not overwrite:
        raise UserError(f"output directory {out} already holds a model or run ({', '.join(held)}); "
                        "pass --overwrite to replace it when the new one is complete, or choose another --out")
    staging = staging_dir(out)
    if clean:
        shutil.rmtree(staging, ignore_errors=True)  # left by a replacing run that died before finishing
    return staging


def replace(staging: Path, out: Path) -> None:
    """Put the complete `staging` folder in place of `out` and delete the old one. Linux exchanges the two in one
    renameat2(RENAME_EXCHANGE) call, so a reader sees the old directory or the new one, never neither."""
    if not _exchange(staging, out):
        old = out.parent / f".{out.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
        os.replace(staging, out)
        staging = old
    shutil.rmtree(staging, ignore_errors=True)


def _exchange(first: Path, second: Path) -> bool:
    name = ctypes.util.find_library("c")
    if name is None or not second.exists():
        return False
    libc = ctypes.CDLL(name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    at_cwd = -100
    return renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), _RENAME_EXCHANGE) == 0


def check_output_dir(out: Path) -> None:
    """Fail before training, not after it, when the run directory cannot be written."""
    if out.exists() and not out.is_dir():
        raise UserError(f"output path {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output directory {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"output directory {out} is not writable")


def check_free_space(out: Path, model) -> None:
    """A checkpoint holds the weights, the best weights and two optimizer moments (float32), and is written
    next to the previous one; with the model file that is about 32 bytes per parameter, plus room for plots."""
    needed = 32 * sum(p.numel() for p in model.parameters()) + 5_000_000
    free = shutil.disk_usage(out).free
    if free < needed:
        raise UserError(f"not enough free disk space in {out}: a run of this model needs about "
                        f"{needed / 1e6:.0f} MB, {free / 1e6:.0f} MB are free")
