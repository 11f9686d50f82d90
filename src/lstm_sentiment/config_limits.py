"""Bounds every config section checks against, and the one way a bad value is refused (a UserError naming it)."""

from __future__ import annotations

from .errors import UserError

# Sizes past these are typing mistakes, not models (a 10^9-wide embedding asks for terabytes): refused before
# anything is allocated. The largest preset uses 30,000 words, 256 units and 1,500 tokens.
LIMITS = {"num_words": 10_000_000, "maxlen": 1_000_000, "embedding_dim": 16_384, "hidden_size": 16_384,
          "layers": 64, "members": 64, "batch_size": 1_000_000, "epochs": 100_000}
MAX_PARAMETERS = 2_000_000_000  # 8 GB of float32 weights, before optimizer state


def require(ok: bool, message: str) -> None:
    if not ok:
        raise UserError(message)
