"""The loaded model and the two thread pools it runs in: what the HTTP layer calls, with no HTTP in it."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import torch

from ..data.text import tokenize
from ..errors import UserError
from ..explain import Explanation, explain
from ..model_dir import METRICS, weights_version
from ..predict import Predictor, load_model, resolve_model_dir
from .batcher import MicroBatcher
from .settings import ServeSettings

PRIVATE_METRICS = ("data", "data_sources", "machine")  # where the training data lay and what trained it: the operator's business


def recorded_metrics(model_dir: Path) -> dict | None:
    """The run's metrics.json as clients may see it: without file paths or machine details."""
    try:
        metrics = json.loads((model_dir / METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(metrics, dict):
        return None
    return {key: value for key, value in metrics.items() if key not in PRIVATE_METRICS}


class Busy(Exception):
    """More work queued than the server takes: HTTP 503 with Retry-After."""


def one_thread(name: str) -> ThreadPoolExecutor:
    """A worker thread whose PyTorch work runs on one OpenMP thread (see server.py for why)."""
    return ThreadPoolExecutor(1, thread_name_prefix=name, initializer=torch.set_num_threads, initargs=(1,))


class ModelService:
    """Scoring goes through a micro-batcher on one thread; explanations (slower) get their own thread, so a long
    explanation never holds up predictions."""

    def __init__(self, predictor: Predictor, model_dir: Path, settings: ServeSettings):
        self.predictor, self.model_dir, self.settings = predictor, model_dir, settings
        self.name = "default" if model_dir.name == "default_model" else model_dir.name
        self.version = weights_version(model_dir, members=True)
        self._explaining: ThreadPoolExecutor | None = None
        self._batcher: MicroBatcher | None = None
        self._explains_pending = 0

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

    async def explain(self, text: str, method: str, client_gone=None) -> Explanation | None:
        """None when `client_gone()` (an async check) says the client left before its explanation started or
        while it waited: abandoned work is dropped instead of delaying everyone queued behind it."""
        tokens = len(tokenize(text))
        if not tokens:
            raise UserError("text: the review has no words to explain", field="text")
        if tokens > self.settings.max_explain_tokens:
            raise UserError(f"text: {tokens:,} tokens; this server explains reviews of up to "
                            f"{self.settings.max_explain_tokens:,} (--max-explain-tokens)", field="text")
        if self._explains_pending >= self.settings.max_explain_queue:
            raise Busy(f"{self._explains_pending} explanations are running or waiting; try again shortly")
        self.start()
        abandoned = threading.Event()

        def work() -> Explanation | None:
            return None if abandoned.is_set() else explain(self.predictor, text, method)

        self._explains_pending += 1
        try:
            future = asyncio.get_running_loop().run_in_executor(self._explaining, work)
            while True:
                done, _ = await asyncio.wait({future}, timeout=0.25)
                if done:
                    return future.result()
                if client_gone is not None and await client_gone():
                    abandoned.set()  # if it has not started, it never will
                    return None
        finally:
            self._explains_pending -= 1

    def describe(self) -> dict:
        metrics = recorded_metrics(self.model_dir)
        return {"name": self.name, "version": self.version, "vocab_size": self.predictor.vocab.size,
                "config": asdict(self.predictor.config), "metrics": metrics,
                "metrics_split": metrics.get("split") if metrics else None,
                "precision": self.predictor.precision,
                "limits": {key: getattr(self.settings, key)
                           for key in ("max_body_bytes", "max_texts", "max_chars", "max_explain_queue",
                                       "max_explain_tokens")}}

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.stop()
            self._explaining.shutdown(wait=False, cancel_futures=True)
            self._batcher = self._explaining = None
