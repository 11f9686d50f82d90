"""Start the server: one process, or N processes sharing the port (SO_REUSEPORT; the kernel spreads connections).

Two findings shape this file (benchmarks/README.md has the numbers):
- The model runs on one OpenMP thread per worker thread. PyTorch's oneDNN LSTM called from a thread other than
  the main one, with several OpenMP teams in the process, ran 5x slower than on the main thread; with one
  thread per team it runs at full speed. Throughput then comes from processes: `--workers N`.
- Listening sockets are created with protocol IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections
  only then, and without it every keep-alive request waited 40 ms for a delayed ACK (uvicorn's own --workers
  mode creates its socket without it).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket

from ..errors import UserError
from ..processes import die_with_parent
from .settings import ServeSettings


def listening_socket(host: str, port: int, share_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


def run_worker(settings: ServeSettings, service=None, parent_pid: int | None = None) -> None:
    """One process: the API on its event loop, the model on its worker threads. parent_pid: a worker of
    `--workers N`, which stops when that process does."""
    import torch
    import uvicorn

    if parent_pid is not None:
        die_with_parent(parent_pid)

    from .app import build_app
    from .service import ModelService

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)  # this process serves and does nothing else: see runtime.flush_denormals
    service = service or ModelService.load(settings)
    sock = listening_socket(settings.host, settings.port, settings.workers > 1)
    from .protocol import guarded_protocol

    server = uvicorn.Server(uvicorn.Config(build_app(service), log_level="warning", timeout_keep_alive=30,
                                           http=guarded_protocol(settings.read_timeout)))
    server.run(sockets=[sock])


def serve(settings: ServeSettings) -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UserError(f"serving needs the [serve] extra ({exc.name} is missing): "
                        "pip install 'lstm-sentiment[serve]'") from None
    from .service import ModelService

    if settings.workers > 1 and not hasattr(socket, "SO_REUSEPORT"):
        raise UserError("--workers above 1 needs SO_REUSEPORT (Linux, BSD, macOS); run one worker per port instead")
    if settings.workers > 1 and settings.port == 0:
        raise UserError("--workers above 1 needs a fixed --port (the workers share it)")
    service = ModelService.load(settings)  # a bad --model fails here, with a message, before any port is bound
    # port taken, by anyone (another server's shared sockets included): say so now. Bound without SO_REUSEPORT,
    # so a second `serve --workers N` on a served port is refused instead of splitting its requests
    listening_socket(settings.host, settings.port, False).close()
    print(f"serving model {service.name} ({service.version}) with {settings.workers} worker(s) at "
          f"http://{settings.host}:{settings.port}/ (API docs at /docs); Ctrl-C stops", flush=True)
    if settings.workers == 1:
        run_worker(settings, service)
        return
    context = multiprocessing.get_context("spawn")  # no fork after torch has started its threads
    workers = [context.Process(target=run_worker, args=(settings, None, os.getpid()), daemon=True)
               for _ in range(settings.workers)]
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # SIGTERM: drain the workers, as Ctrl-C does
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for worker in workers:
            worker.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
        for worker in workers:
            worker.join(10)
        for worker in workers:
            if worker.is_alive():
                worker.kill()


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
