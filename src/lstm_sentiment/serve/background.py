"""A server in a child process on a free loopback port: for the browser and fuzz tests, the load benchmark,
and notebooks that want to try the API without a second terminal."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def background_server(*flags: str, log: Path | None = None, timeout: float = 120.0) -> Iterator[str]:
    """Start `lstm-sentiment serve FLAGS` on 127.0.0.1 and yield its base URL once /health answers."""
    port = free_port()
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed when the server stops)
    process = subprocess.Popen([sys.executable, "-m", "lstm_sentiment", "serve", "--port", str(port), *flags],
                               stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with status {process.returncode}" +
                                   (f"; see {log}" if log else ""))
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            output.close()
