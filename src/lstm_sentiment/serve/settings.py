"""What a server needs to know before it loads anything; travels to uvicorn worker processes as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from ..errors import UserError

ENVIRONMENT_VARIABLE = "LSTM_SENTIMENT_SERVE"


@dataclass(frozen=True)
class ServeSettings:
    model: str | None = None  # model directory; None: the shipped default model
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_body_bytes: int = 1 << 20
    max_texts: int = 256  # texts per /predict request
    max_chars: int = 50_000  # characters per text
    max_batch: int = 256  # texts per model call when concurrent requests are coalesced
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("port", "workers", "max_body_bytes", "max_texts", "max_chars", "max_batch"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "port" else 1):
                raise UserError(f"serve: {name.replace('_', '-')} must be a positive integer, got {value!r}")
        if self.port > 65535:
            raise UserError(f"serve: port must be at most 65535, got {self.port}")

    def to_environment(self) -> dict[str, str]:
        return {ENVIRONMENT_VARIABLE: json.dumps(asdict(self))}

    @classmethod
    def from_environment(cls) -> ServeSettings:
        raw = os.environ.get(ENVIRONMENT_VARIABLE)
        return cls(**json.loads(raw)) if raw else cls()
