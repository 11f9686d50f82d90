"""The Python API in a few calls, for notebooks and scripts: the same work as the command line, same files."""

from __future__ import annotations

from pathlib import Path

from .config import Config
from .config_io import layered_config
from .data.prepare import balanced_sample, split_corpus
from .data.sources import Corpus, load_corpus, resolve_data_path
from .evaluate import evaluate_reviews
from .explain import Explanation, explain
from .predict import Predictor, load_model


def load_data(path: str | Path | None = None, unlabelled: bool = False) -> Corpus:
    """The reviews (aclImdb archive or folder, or CSV); path None: $LSTM_SENTIMENT_DATA or the downloaded archive."""
    return load_corpus(resolve_data_path(path), include_unsup=unlabelled)


def make_config(preset: str = "quick", overrides: dict[str, object] | None = None) -> Config:
    """A preset with `{"section.key": value}` overrides applied (typed and validated as a config file's)."""
    return layered_config(preset, values=overrides)


def train(preset: str = "quick", data: str | Path | None = None, out: str | Path = "runs/api",
          overrides: dict[str, object] | None = None, limit: int | None = None, progress: bool = True) -> dict:
    """Train like `lstm-sentiment train`; returns metrics.json's content. The model directory is `out`."""
    from .training_run import RunOptions, train_run

    options = RunOptions(str(resolve_data_path(data)), limit=limit, preset=preset)
    return train_run(make_config(preset, overrides), options, Path(out), progress=progress)


def evaluate(model: str | Path | Predictor | None = None, data: str | Path | None = None, split: str = "test",
             limit: int | None = None) -> dict:
    """The `evaluate --json` metrics of a model on a split (on `limit` reviews, half of each label, if given)."""
    predictor = model if isinstance(model, Predictor) else load_model(model)
    reviews = split_corpus(load_data(data), predictor.config.data)[split]
    if limit is not None:  # a seeded sample with both labels in equal numbers
        reviews = balanced_sample(reviews, limit, seed=0)
    return evaluate_reviews(predictor, reviews)[0]


__all__ = ["Explanation", "evaluate", "explain", "load_data", "load_model", "make_config", "train"]
