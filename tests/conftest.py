"""Small data made on the spot: an aclImdb-shaped archive and folder, and CSV files; never the real dataset."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import tarfile
from pathlib import Path

import pytest
import torch

# Tiny models run fastest on one thread, and subprocesses inherit the setting.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)

POSITIVE_WORDS = ["great", "wonderful", "loved", "brilliant", "superb", "enjoyable", "moving", "best"]
NEGATIVE_WORDS = ["awful", "boring", "terrible", "worst", "dull", "waste", "poorly", "hated"]
FILLER = ["the", "movie", "film", "plot", "actor", "scene", "story", "was", "and", "a", "it", "this", "of"]


def synthetic_review(rng: random.Random, positive: bool, length: int | None = None) -> str:
    """Filler words with a few sentiment words; an HTML break, as in the real reviews."""
    length = length or rng.randint(8, 40)
    words = [rng.choice(FILLER) for _ in range(length)]
    cue = POSITIVE_WORDS if positive else NEGATIVE_WORDS
    for _ in range(max(2, length // 8)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(cue))
    return " ".join(words[: len(words) // 2]) + ". <br /><br />" + " ".join(words[len(words) // 2:]) + "!"


def review_files(n_per_class: int, seed: int = 0, unsup: int = 4) -> dict[str, str]:
    rng = random.Random(seed)
    files = {}
    for split in ("train", "test"):
        for folder in ("pos", "neg"):
            for i in range(n_per_class):
                rating = rng.randint(7, 10) if folder == "pos" else rng.randint(1, 4)
                files[f"aclImdb/{split}/{folder}/{i}_{rating}.txt"] = synthetic_review(rng, folder == "pos")
            # four reviews per movie; train and test movies differ, as in IMDb
            movies = [f"http://www.imdb.com/title/tt{(split == 'test') * 5000 + (folder == 'neg') * 2000 + i // 4:07d}"
                      f"/usercomments" for i in range(n_per_class)]
            files[f"aclImdb/{split}/urls_{folder}.txt"] = "\n".join(movies) + "\n"
    for i in range(unsup):
        files[f"aclImdb/train/unsup/{i}_0.txt"] = synthetic_review(rng, rng.random() < 0.5)
    files["aclImdb/README"] = "synthetic test fixture"
    return files


def write_archive(path: Path, files: dict[str, str | bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_folder(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return root / "aclImdb"


def write_csv(path: Path, rows: list[tuple[str, str]], header: tuple[str, str] = ("review", "sentiment")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own cache folder and no data from the environment."""
    monkeypatch.setenv("LSTM_SENTIMENT_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("LSTM_SENTIMENT_DATA", raising=False)


@pytest.fixture(scope="session")
def small_archive(tmp_path_factory) -> Path:
    return write_archive(tmp_path_factory.mktemp("data") / "aclImdb_v1.tar.gz", review_files(60))


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory) -> Path:
    rng = random.Random(1)
    rows = [(synthetic_review(rng, i % 2 == 0), "positive" if i % 2 == 0 else "negative") for i in range(200)]
    return write_csv(tmp_path_factory.mktemp("csv") / "reviews.csv", rows)


TINY_CONFIG = """
[data]
num_words = 60
maxlen = 30

[model]
embedding_dim = 8
hidden_sizes = [8]
pooling = "max"

[train]
epochs = 2
batch_size = 8
learning_rate = 0.02
"""


def copy_model_dir(source: Path, target: Path) -> Path:
    """The files of a model directory copied, for a test that damages or edits them."""
    target.mkdir()
    for path in source.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    return target


def member_record_edited(source: Path, target: Path, edit) -> Path:
    """A copy of a model directory whose ngram.json record edit(record) changed in place."""
    from lstm_sentiment.ngram import NGRAM_FILE

    copy = copy_model_dir(source, target)
    record = json.loads((copy / NGRAM_FILE).read_text())
    edit(record)
    (copy / NGRAM_FILE).write_text(json.dumps(record))
    return copy


def train_tiny_run(folder: Path, archive: Path, epochs: int, config_text: str = TINY_CONFIG,
                   *extra: str) -> Path:
    """A tiny model trained on the fixture archive: the model directory for tests that need one."""
    from lstm_sentiment.cli import main

    config = folder / "tiny.toml"
    config.write_text(config_text)
    out = folder / "run"
    assert main(["train", "--config", str(config), "--data", str(archive), "--out", str(out), "--quiet",
                 "--epochs", str(epochs), "--no-cache", *extra]) == 0
    return out


@pytest.fixture
def tiny_config(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG)
    return path
