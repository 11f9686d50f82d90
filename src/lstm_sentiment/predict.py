"""load_model(dir) -> Predictor: raw review strings in, labels and probabilities out."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .config import Config
from .data.batching import trim_and_right_align
from .data.sources import LABEL_NAMES
from .data.vocab import Vocabulary, pad_sequences
from .errors import UserError
from .model import SentimentClassifier
from .runs import load_model_files
from .runtime import resolve_device


@dataclass
class Prediction:
    text: str
    label: str  # "positive" or "negative"
    probability: float  # P(positive)

    def to_dict(self) -> dict:
        return asdict(self)


def default_model_dir() -> Path | None:
    """The small model shipped inside the package, if this installation has one."""
    folder = Path(str(resources.files("lstm_sentiment") / "default_model"))
    return folder if (folder / "model.safetensors").exists() else None


def resolve_model_dir(path: str | Path | None) -> Path:
    if path:
        return Path(path)
    default = default_model_dir()
    if default is None:
        raise UserError("no --model given and this installation ships no default model; "
                        "train one with `lstm-sentiment train --out RUN_DIR` and pass --model RUN_DIR")
    return default


class Predictor:
    """A loaded model with its own vocabulary and text settings; nothing else is needed to use it."""

    def __init__(self, model: SentimentClassifier, config: Config, vocab: Vocabulary, device: torch.device,
                 name: str = "model"):
        self.model, self.config, self.vocab, self.device, self.name = model, config, vocab, device, name

    def encode(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """ids [n, maxlen] padded and truncated exactly as in training, and lengths [n]."""
        data = self.config.data
        ids, lengths = pad_sequences([self.vocab.encode_text(t) for t in texts], data.maxlen, data.padding,
                                     data.truncating)
        return torch.from_numpy(ids), torch.from_numpy(lengths)

    def probabilities(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """P(positive) per text. Texts are sorted by length inside so batches carry little padding."""
        if isinstance(texts, str):
            texts = [texts]
        ids, lengths = self.encode(list(texts))
        out = np.empty(len(texts), dtype=np.float64)
        order = torch.argsort(lengths, descending=True)
        with torch.inference_mode():
            for chunk in order.split(batch_size):
                chunk_ids = trim_and_right_align(ids[chunk], lengths[chunk], self.config.data.padding)
                logits = self.model(chunk_ids.to(self.device), lengths[chunk].to(self.device), "right")
                out[chunk.numpy()] = torch.sigmoid(logits.float()).double().cpu().numpy()
        return out

    def predict(self, texts: list[str] | str, batch_size: int = 256) -> list[Prediction]:
        texts = [texts] if isinstance(texts, str) else list(texts)
        probabilities = self.probabilities(texts, batch_size)
        return [Prediction(text, LABEL_NAMES[int(p >= 0.5)], float(p)) for text, p in zip(texts, probabilities)]


def load_model(path: str | Path | None = None, device: str = "cpu") -> Predictor:
    """Load a model directory (or the shipped default model when path is None)."""
    folder = resolve_model_dir(path)
    target = resolve_device(device)
    model, config, vocab = load_model_files(folder, target)
    return Predictor(model, config, vocab, target, name=folder.name)
