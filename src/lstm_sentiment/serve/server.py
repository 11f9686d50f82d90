"""Start uvicorn: one process holding the model, or N worker processes that each load it."""

from __future__ import annotations

import os

from ..errors import UserError
from .settings import ServeSettings


def threads_per_worker(workers: int) -> int:
    """Split the cores between worker processes so N copies of the model do not fight over them."""
    return max(1, (os.cpu_count() or 1) // workers)


def serve(settings: ServeSettings) -> None:
    try:
        import uvicorn

        from .app import build_app
        from .service import ModelService
    except ImportError as exc:
        raise UserError(f"serving needs the [serve] extra ({exc.name} is missing): "
                        "pip install 'lstm-sentiment[serve]'") from None
    import torch

    torch.set_num_threads(threads_per_worker(settings.workers))
    service = ModelService.load(settings)  # a bad --model fails here, with a message, before any port is bound
    print(f"serving model {service.name} ({service.version}) at http://{settings.host}:{settings.port}/ "
          f"(API docs at /docs); Ctrl-C stops", flush=True)
    if settings.workers == 1:
        uvicorn.run(build_app(service), host=settings.host, port=settings.port, log_level="warning")
        return
    os.environ.update(settings.to_environment())  # read by each worker's app_from_environment
    uvicorn.run("lstm_sentiment.serve.app:app_from_environment", factory=True, host=settings.host,
                port=settings.port, workers=settings.workers, log_level="warning")
