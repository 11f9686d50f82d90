"""Worker processes that never outlive the process that started them (`serve --workers`, `predict --workers`)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, poll_seconds: float = 1.0) -> None:
    """Call first thing in a worker. On Linux the kernel sends SIGTERM when the parent dies (PR_SET_PDEATHSIG);
    everywhere, a daemon thread also checks that the parent is still ours and exits if not, which also covers
    a parent that died before the request was made."""
    if sys.platform.startswith("linux"):
        name = ctypes.util.find_library("c")
        if name is not None:
            libc = ctypes.CDLL(name, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent is gone already: nobody is left to serve or to read our results

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGTERM)  # the same clean stop as the kernel's signal
                time.sleep(10)
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
