"""What a server needs to know before it loads anything (it travels to worker processes as it is)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError


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
    # explanations running or waiting at once (each takes up to seconds); more get 503 with Retry-After
    max_explain_queue: int = 4
    # tokens an explanation may read: its running probability costs tokens^2 model steps (1,500 tokens: ~8 s)
    max_explain_tokens: int = 1000
    # seconds for a request's head to arrive, and for each piece of its body (the whole body: 6x this); slower
    # clients are disconnected (head) or answered 408 (body), so slow or stalled clients cannot hold connections
    read_timeout: float = 10.0
    device: str = "auto"
    precision: str = "float32"  # or "bfloat16" (faster where the hardware has it natively; see Predictor)

    def __post_init__(self) -> None:
        for name in ("port", "workers", "max_body_bytes", "max_texts", "max_chars", "max_batch", "max_explain_queue",
                     "max_explain_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "port" else 1):
                raise UserError(f"serve: {name.replace('_', '-')} must be a positive integer, got {value!r}")
        if not isinstance(self.read_timeout, (int, float)) or not 0 < self.read_timeout <= 3600:
            raise UserError(f"serve: read-timeout must be between 0 and 3600 seconds, got {self.read_timeout!r}")
        if self.port > 65535:
            raise UserError(f"serve: port must be at most 65535, got {self.port}")
