"""Fault injection for the reliability tests: LSTM_SENTIMENT_FAULT="POINT:N" kills the process (SIGKILL, no
clean-up, like the OOM killer or a power cut) the N-th time it reaches POINT. Points: "step" (after an optimizer
step), "epoch-end" (after an epoch's checkpoint), "checkpoint-write" (checkpoint written to its temporary file,
not yet renamed). Unset, this costs one dictionary lookup per call."""

from __future__ import annotations

import os
import signal
from collections import Counter


class FaultInjector:
    def __init__(self, spec: str | None = None):
        spec = os.environ.get("LSTM_SENTIMENT_FAULT", "") if spec is None else spec
        point, _, count = spec.partition(":")
        self.point, self.count = (point, int(count or 1)) if point else (None, 0)
        self.seen: Counter[str] = Counter()

    def reached(self, point: str) -> None:
        if point != self.point:
            return
        self.seen[point] += 1
        if self.seen[point] == self.count:
            os.kill(os.getpid(), signal.SIGKILL)
