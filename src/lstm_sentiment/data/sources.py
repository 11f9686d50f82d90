"""Where labelled reviews come from: resolving --data (one source or several), and reading each kind of source
(aclImdb archive or folder, CSV, the sentiment treebank) into one Corpus."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ..errors import UserError
from .corpus import LABEL_NAMES, MAX_REVIEW_BYTES, NEGATIVE, POSITIVE, UNLABELLED, Corpus, Reviews, concatenate
from .csv_reviews import parse_label, read_csv
from .imdb import read_archive, read_folder
from .treebank import SENTENCES_ONLY, TreebankOptions, binary_examples, is_treebank, read_trees, split_texts

ARCHIVE_NAME = "aclImdb_v1.tar.gz"
# the readers' names, importable from here as before the split into modules
__all__ = ["ARCHIVE_NAME", "LABEL_NAMES", "MAX_REVIEW_BYTES", "NEGATIVE", "POSITIVE", "UNLABELLED", "Corpus",
           "Reviews", "cache_dir", "combine", "data_fingerprint", "load_corpus", "parse_label", "read_archive",
           "read_csv", "read_folder", "read_treebank", "resolve_data_path", "source_kind", "source_parts"]


def cache_dir() -> Path:
    """Where downloads and prepared tensors live; LSTM_SENTIMENT_CACHE overrides the XDG default."""
    if os.environ.get("LSTM_SENTIMENT_CACHE"):
        return Path(os.environ["LSTM_SENTIMENT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lstm-sentiment"


def resolve_data_path(path: str | Path | list[str] | None) -> Path:
    """--data, then $LSTM_SENTIMENT_DATA, then the downloaded archive in the cache. Several sources (--data given
    more than once) become one path-list (joined by os.pathsep, as PATH is) that load_corpus reads part by part."""
    if isinstance(path, list):
        if len(path) > 1:
            return Path(os.pathsep.join(str(resolve_data_path(part)) for part in path))
        path = path[0] if path else None
    candidates = [("--data", path), ("LSTM_SENTIMENT_DATA", os.environ.get("LSTM_SENTIMENT_DATA"))]
    for origin, value in candidates:
        if value:
            resolved = Path(value).expanduser()
            if not resolved.exists() and os.pathsep in str(value):
                return Path(os.pathsep.join(str(resolve_data_path(part)) for part in str(value).split(os.pathsep)))
            if not resolved.exists():
                raise UserError(f"data path {resolved} (from {origin}) does not exist")
            return resolved
    cached = cache_dir() / ARCHIVE_NAME
    if cached.exists():
        return cached
    raise UserError(
        "no data found: pass --data PATH (an aclImdb .tar.gz archive, an extracted aclImdb folder or a CSV), "
        f"set LSTM_SENTIMENT_DATA, or run `lstm-sentiment data download` to fetch it into {cache_dir()}"
    )


def source_parts(path: str | Path) -> list[Path]:
    """The sources a data path names: itself, or each part of a path-list (see resolve_data_path)."""
    path = Path(path)
    if not path.exists() and os.pathsep in str(path):
        return [Path(part) for part in str(path).split(os.pathsep) if part]
    return [path]


def source_kind(path: Path) -> str:
    """"sst" (the sentiment treebank), "csv" or "imdb" (an aclImdb archive or folder)."""
    if is_treebank(path):
        return "sst"
    return "csv" if path.suffix.lower() == ".csv" else "imdb"


def data_fingerprint(path: Path) -> str:
    """Cheap identity of a data source (path, size, mtime of its files) for keying the prepared-tensor cache.

    A folder is summarised by its file count and up to ~2000 evenly spaced files, plus the folder itself.
    """
    parts = source_parts(path)
    if len(parts) > 1:
        return hashlib.sha256("|".join(data_fingerprint(part) for part in parts).encode()).hexdigest()[:16]
    digest = hashlib.sha256(str(path.resolve()).encode())
    if path.is_file():
        sampled = [path]
    else:
        files = sorted(p for p in path.rglob("*") if p.is_file())
        sampled = files[:: max(1, len(files) // 2000)] + [path]
        digest.update(str(len(files)).encode())
    for entry in sampled:
        stat = entry.stat()
        digest.update(f"{entry}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def load_corpus(path: str | Path, include_unsup: bool = False, skip_bad_rows: bool = False,
                treebank: TreebankOptions = SENTENCES_ONLY) -> Corpus:
    """treebank: what a treebank source's training trees add to their sentences (ignored by other sources)."""
    parts = source_parts(path)
    if len(parts) > 1:
        return combine([load_corpus(part, include_unsup, skip_bad_rows, treebank) for part in parts])
    path = Path(path)
    if not os.access(path, os.R_OK):
        raise UserError(f"cannot read data path {path}")
    if is_treebank(path):
        return read_treebank(path, treebank)
    if path.is_dir():
        return read_folder(path, include_unsup)
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz", ".tar")):
        return read_archive(path, include_unsup)
    if name.endswith(".csv"):
        return read_csv(path, skip_bad_rows)
    raise UserError(f"{path}: unsupported data file (expected an aclImdb .tar.gz archive or folder, a .csv, or the "
                    "sentiment treebank's trainDevTestTrees_PTB.zip)")


def combine(parts: list[Corpus]) -> Corpus:
    """One corpus of several sources; the parts stay inside so that each is split by its own rules."""
    merged = [concatenate([getattr(part, split) for part in parts]) for split in ("train", "test", "unsup")]
    return Corpus(*merged, os.pathsep.join(part.source for part in parts),
                  has_test_split=any(part.has_test_split for part in parts),
                  skipped_rows=sum(part.skipped_rows for part in parts), parts=parts)


def read_treebank(path: Path, options: TreebankOptions = SENTENCES_ONLY) -> Corpus:
    """Sentences of the official train/dev/test trees (binary, neutral dropped); the options apply to the training
    trees only (validation and test stay SST-2's sentences, binary)."""
    splits = {}
    for split, (where, lines) in split_texts(path).items():
        trees = list(read_trees(iter(lines), where))
        reviews = Reviews()
        train = split == "train"
        for text, label, target in binary_examples(trees, options if train else SENTENCES_ONLY):
            reviews.add(text, label, target=target)
        if not reviews.texts:
            raise UserError(f"{where}: no sentence with a non-neutral label")
        splits[split] = reviews
    return Corpus(splits["train"], splits["test"], Reviews(), str(path), validation=splits["validation"])
