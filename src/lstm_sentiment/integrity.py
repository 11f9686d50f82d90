"""SHA-256 digests that tie a safetensors file's tensors (and the vocabulary they were trained with) to what was
saved: flipped bytes, an edited epoch number or weights copied from another run are refused by name on load,
instead of loading as a silently different model."""

from __future__ import annotations

import hashlib

import torch
from torch import Tensor

TENSORS_KEY, VOCAB_KEY, STATE_KEY = "tensors_sha256", "vocab_sha256", "state_sha256"


def tensors_digest(tensors: dict[str, Tensor]) -> str:
    """Over every tensor's name, dtype, shape and bytes, in name order (independent of the file's layout)."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def vocab_digest(tokens: list[str]) -> str:
    return text_digest("\n".join(tokens))
