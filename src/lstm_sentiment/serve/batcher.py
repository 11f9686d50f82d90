"""Coalesce concurrent scoring requests into one model call, off the event loop.

An LSTM scores 32 reviews in one call far faster than in 32 calls, so while the model is busy, new requests
queue up and the next call takes all of them (up to max_batch texts). An idle server adds no waiting: a lone
request runs at once. The model runs in one worker thread, so the event loop keeps answering /health and
accepting connections while it computes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

Job = tuple[list[str], asyncio.Future]


class MicroBatcher:
    def __init__(self, score: Callable[[list[str]], Sequence[float]], executor: ThreadPoolExecutor,
                 max_batch: int = 256):
        self._score, self._executor, self._max_batch = score, executor, max_batch
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task | None = None

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def score(self, texts: list[str]) -> list[float]:
        self.start()
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((texts, future))
        return await future

    def _take_batch(self, first: Job) -> list[Job]:
        jobs, size = [first], len(first[0])
        while size < self._max_batch and not self._queue.empty():
            job = self._queue.get_nowait()
            jobs.append(job)
            size += len(job[0])
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [job for job in self._take_batch(await self._queue.get()) if not job[1].done()]
            if not jobs:
                continue
            texts = [text for job_texts, _ in jobs for text in job_texts]
            try:
                scores = await loop.run_in_executor(self._executor, self._score, texts)
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request, which reports it
                for _, future in jobs:
                    if not future.done():
                        future.set_exception(exc)
                continue
            start = 0
            for job_texts, future in jobs:
                if not future.done():
                    future.set_result([float(s) for s in scores[start: start + len(job_texts)]])
                start += len(job_texts)
