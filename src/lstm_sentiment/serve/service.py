"""The loaded model and the two thread pools it runs in: what the HTTP layer calls, with no HTTP in it."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import torch

from ..data.text import tokenize
from ..errors import UserError
from ..explain import Explanation, explain
from ..predict import Predictor, load_model, resolve_model_dir
from ..runs import METRICS, weights_version
from .batcher import MicroBatcher
from .settings import ServeSettings

PRIVATE_METRICS = ("data", "machine")  # where the training data lay and what trained it: the operator's business


def recorded_metrics(model_dir: Path) -> dict | None:
    """The run's metrics.json as clients may see it: without file paths or machine details."""
    try:
        metrics = json.loads((model_dir / METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(metrics, dict):
        return None
    return {key: value for key, value in metrics.items() if key not in PRIVATE_METRICS}


def one_thread(name: str) -> ThreadPoolExecutor:
    """A worker thread whose PyTorch work runs on one OpenMP thread (see server.py for why)."""
    return ThreadPoolExecutor(1, thread_name_prefix=name, initializer=torch.set_num_threads, initargs=(1,))


class ModelService:
    """Scoring goes through a micro-batcher on one thread; explanations (slower) get their own thread, so a long
    explanation never holds up predictions."""

    def __init__(self, predictor: Predictor, model_dir: Path, settings: ServeSettings):
        self.predictor, self.model_dir, self.settings = predictor, model_dir, settings
        self.name = "default" if model_dir.name == "default_model" else model_dir.name
        self.version = weights_version(model_dir)
        self._explaining: ThreadPoolExecutor | None = None
        self._batcher: MicroBatcher | None = None

    @classmethod
    def load(cls, settings: ServeSettings) -> ModelService:
        model_dir = resolve_model_dir(settings.model)
        return cls(load_model(model_dir, settings.device, settings.precision), model_dir, settings)

    def start(self) -> None:
        """Open the worker threads (the app's lifespan calls this; close() ends them)."""
        if self._batcher is None:
            scoring = one_thread("score")
            self._batcher = MicroBatcher(self.predictor.probabilities, scoring, self.settings.max_batch)
            self._explaining = one_thread("explain")

    async def probabilities(self, texts: list[str]) -> list[float]:
        self.start()
        return await self._batcher.score(texts)

    async def explain(self, text: str, method: str) -> Explanation:
        if not tokenize(text):
            raise UserError("text: the review has no words to explain", field="text")
        self.start()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._explaining, explain, self.predictor, text, method)

    def describe(self) -> dict:
        metrics = recorded_metrics(self.model_dir)
        return {"name": self.name, "version": self.version, "vocab_size": self.predictor.vocab.size,
                "config": asdict(self.predictor.config), "metrics": metrics,
                "metrics_split": metrics.get("split") if metrics else None,
                "precision": self.predictor.precision,
                "limits": {key: getattr(self.settings, key) for key in ("max_body_bytes", "max_texts", "max_chars")}}

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.stop()
            self._explaining.shutdown(wait=False, cancel_futures=True)
            self._batcher = self._explaining = None
