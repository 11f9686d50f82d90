"""Writing and reading the small files everything shares: atomically, with the umask's permissions, errors as
one line. Knows nothing of models, so every layer can use it (the training loop included)."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import UserError


def current_umask() -> int:
    """The process's umask, read without changing it where Linux says it (os.umask would, for a moment)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write) -> None:
    """Write through a temporary file, fsync and rename, so readers see the old file or the new one. The file
    gets the permissions the umask allows (mkstemp alone would leave it readable by its owner only)."""
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    os.close(handle)
    try:
        write(Path(temporary))
        with open(temporary, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise UserError(f"disk full while writing {path}; the previous version of the file is intact") from None
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: Any) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n"))


def read_json(path: Path, what: str = "JSON") -> Any:
    """The parsed file; every failure is one line naming the file (`what` names the kind: "vocabulary")."""
    if path.exists() and not path.is_file():  # a FIFO would block the reader forever
        raise UserError(f"{path}: not a regular file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: missing {'' if what == 'JSON' else what + ' '}file") from None
    except RecursionError:
        raise UserError(f"{path}: unreadable {what} (nested too deeply)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: unreadable {what} ({exc})") from None
