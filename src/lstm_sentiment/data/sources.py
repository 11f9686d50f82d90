"""Reading labelled reviews from an aclImdb archive (streamed, never extracted), an extracted folder, or a CSV."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import sys
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from .treebank import binary_examples, is_treebank, read_trees, split_texts

NEGATIVE, POSITIVE = 0, 1
UNLABELLED = -1
LABEL_NAMES = {NEGATIVE: "negative", POSITIVE: "positive"}
_LABEL_VALUES = {"positive": POSITIVE, "pos": POSITIVE, "1": POSITIVE, "negative": NEGATIVE, "neg": NEGATIVE, "0": NEGATIVE}
_TEXT_COLUMNS = ("review", "text")
_LABEL_COLUMNS = ("sentiment", "label")
_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")
# urls_pos.txt etc.: line k is the IMDb page of the movie that review k is about
_URLS = re.compile(r"(?:^|/)aclImdb/(train|test)/urls_(pos|neg|unsup)\.txt$")
_MOVIE = re.compile(r"title/(tt\d+)")
ARCHIVE_NAME = "aclImdb_v1.tar.gz"
# A review past this is not a review (IMDb's longest is 14 KB): archive members and CSV fields that large are
# skipped and counted instead of read, so a decompression bomb cannot exhaust memory
MAX_REVIEW_BYTES = 1_000_000


@dataclass
class Reviews:
    texts: list[str] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    movies: list[str] = field(default_factory=list)  # IMDb title id per review, "" where unknown (CSV)
    # training targets in [0, 1] where they are softer than the labels (graded treebank labels); empty: the labels
    targets: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str, label: int, movie: str = "", target: float | None = None) -> None:
        if target is not None and not self.targets:
            self.targets = [float(old) for old in self.labels]
        self.texts.append(text)
        self.labels.append(label)
        self.movies.append(movie)
        if self.targets:
            self.targets.append(float(label) if target is None else target)

    def target_list(self) -> list[float]:
        return self.targets or [float(label) for label in self.labels]


@dataclass
class Corpus:
    """Labelled train/test reviews (test may be empty for a CSV without a split) and optional unlabelled ones."""

    train: Reviews
    test: Reviews
    unsup: Reviews
    source: str
    has_test_split: bool = True
    skipped_rows: int = 0
    # a source's own validation split (the treebank's dev sentences): used as it is instead of a carve-out of train
    validation: Reviews | None = None
    # a combined source (several --data): each part keeps its own split rules, see prepare.split_corpus
    parts: list[Corpus] = field(default_factory=list)


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
                phrases: bool = False, graded: bool = False) -> Corpus:
    """phrases: a treebank's training trees also give every labelled phrase; graded: its training examples keep
    their five-point labels as soft targets, neutral ones included (both ignored by other sources)."""
    parts = source_parts(path)
    if len(parts) > 1:
        return combine([load_corpus(part, include_unsup, skip_bad_rows, phrases, graded) for part in parts])
    path = Path(path)
    if not os.access(path, os.R_OK):
        raise UserError(f"cannot read data path {path}")
    if is_treebank(path):
        return read_treebank(path, phrases, graded)
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
    merged = [Reviews(), Reviews(), Reviews()]
    for part in parts:
        for into, reviews in zip(merged, (part.train, part.test, part.unsup)):
            targets = reviews.targets or [None] * len(reviews)
            for text, label, movie, target in zip(reviews.texts, reviews.labels, reviews.movies or [""] * len(reviews),
                                                  targets):
                into.add(text, label, movie, target)
    return Corpus(*merged, os.pathsep.join(part.source for part in parts),
                  has_test_split=any(part.has_test_split for part in parts),
                  skipped_rows=sum(part.skipped_rows for part in parts), parts=parts)


def read_treebank(path: Path, phrases: bool = False, graded: bool = False) -> Corpus:
    """Sentences of the official train/dev/test trees (binary, neutral dropped); phrases: also every labelled
    phrase of the training trees; graded: training examples carry label/4 as their target, neutral ones too
    (validation and test stay binary, as SST-2)."""
    splits = {}
    for split, (where, lines) in split_texts(path).items():
        trees = list(read_trees(iter(lines), where))
        reviews = Reviews()
        for text, label, target in binary_examples(trees, phrases and split == "train", graded and split == "train"):
            reviews.add(text, label, target=target)
        if not reviews.texts:
            raise UserError(f"{where}: no sentence with a non-neutral label")
        splits[split] = reviews
    return Corpus(splits["train"], splits["test"], Reviews(), str(path), validation=splits["validation"])


def _sorted_corpus(found: dict[tuple[str, str], list[tuple[int, str]]], source: str, include_unsup: bool,
                   movies: dict[tuple[str, str], list[str]] | None = None) -> Corpus:
    """Order reviews by split, label and numeric id so every reader gives the same sequence."""
    corpus = Corpus(Reviews(), Reviews(), Reviews(), source)
    movies = movies or {}
    for split in ("train", "test"):
        for folder, label in (("neg", NEGATIVE), ("pos", POSITIVE)):
            reviews = found.get((split, folder), [])
            if not reviews:
                raise UserError(f"{source}: wrong layout or empty split: no reviews in aclImdb/{split}/{folder}/")
            titles = movies.get((split, folder), [])
            for review_id, text in sorted(reviews):
                getattr(corpus, split).add(text, label, titles[review_id] if review_id < len(titles) else "")
    if include_unsup:
        for _, text in sorted(found.get(("train", "unsup"), [])):
            corpus.unsup.add(text, UNLABELLED)
    return corpus


def _movie_ids(raw: bytes) -> list[str]:
    """One IMDb title id per line of a urls_*.txt file ("" for a line without one)."""
    lines = raw.decode("utf-8", errors="replace").splitlines()
    return [match.group(1) if (match := _MOVIE.search(line)) else "" for line in lines]


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None


def read_archive(path: Path, include_unsup: bool = False) -> Corpus:
    """Stream the .tar.gz member by member; nothing is written to disk and links are ignored."""
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    movies: dict[tuple[str, str], list[str]] = {}
    oversized = 0
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                archive.members.clear()  # streamed once: keeping every TarInfo costs ~450 bytes a member
                urls = _URLS.search(member.name)
                if urls and member.isfile() and member.size <= 64 * MAX_REVIEW_BYTES:
                    handle = archive.extractfile(member)
                    movies[urls.groups()] = _movie_ids(handle.read() if handle else b"")
                    continue
                match = _MEMBER.search(member.name)
                if not match or not member.isfile():
                    continue
                split, folder, review_id, _rating = match.groups()
                if folder == "unsup" and not include_unsup:
                    continue
                if member.size > MAX_REVIEW_BYTES:  # skipped unread: the header states the size
                    oversized += 1
                    continue
                handle = archive.extractfile(member)
                raw = handle.read(MAX_REVIEW_BYTES + 1) if handle else b""
                text = _decode(raw, f"{path}:{member.name}")
                found.setdefault((split, folder), []).append((int(review_id), text))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        reason = " ".join(str(exc).split())  # tarfile lists every method it tried, one per line
        if reason.startswith("file could not be opened successfully"):
            reason = "not a tar archive (plain, gzip, bzip2 or xz)"
        raise UserError(f"{path}: archive is truncated or corrupt ({exc.__class__.__name__}: {reason})") from None
    corpus = _sorted_corpus(found, str(path), include_unsup, movies)
    corpus.skipped_rows = oversized
    if oversized:
        print(f"lstm-sentiment: skipped {oversized} archive member(s) over {MAX_REVIEW_BYTES:,} bytes in {path}",
              file=sys.stderr)
    return corpus


def read_folder(path: Path, include_unsup: bool = False) -> Corpus:
    root = path / "aclImdb" if (path / "aclImdb").is_dir() else path
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    movies: dict[tuple[str, str], list[str]] = {}
    for split in ("train", "test"):
        for folder in ("neg", "pos", "unsup"):
            urls = root / split / f"urls_{folder}.txt"
            if urls.is_file() and not urls.is_symlink():
                movies[(split, folder)] = _movie_ids(urls.read_bytes())
            if folder == "unsup" and (split == "test" or not include_unsup):
                continue
            directory = root / split / folder
            if not directory.is_dir():
                continue
            for entry in os.scandir(directory):
                match = re.fullmatch(r"(\d+)_(\d+)\.txt", entry.name)
                if not match or not entry.is_file(follow_symlinks=False):
                    continue
                if entry.stat(follow_symlinks=False).st_size > MAX_REVIEW_BYTES:
                    continue
                text = _decode(Path(entry.path).read_bytes(), entry.path)
                found.setdefault((split, folder), []).append((int(match.group(1)), text))
    return _sorted_corpus(found, str(path), include_unsup, movies)


def parse_label(value: str) -> int | None:
    return _LABEL_VALUES.get(value.strip().lower())


def read_csv(path: Path, skip_bad_rows: bool = False) -> Corpus:
    """Header row with review|text and sentiment|label columns; an optional `split` column (train/test)."""
    csv.field_size_limit(MAX_REVIEW_BYTES)
    train, test = Reviews(), Reviews()
    skipped = 0
    # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is not part of the first column's name
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise UserError(f"{path}: empty CSV file (expected a header row)") from None
        except csv.Error as exc:
            raise UserError(f"{path}:1: unreadable header row ({exc})") from None
        columns = [c.strip().lower() for c in header]
        text_col = next((columns.index(c) for c in _TEXT_COLUMNS if c in columns), None)
        label_col = next((columns.index(c) for c in _LABEL_COLUMNS if c in columns), None)
        if text_col is None or label_col is None:
            raise UserError(
                f"{path}:1: missing column(s): need a text column (review or text) and a label column "
                f"(sentiment or label); found {', '.join(header) or 'none'}"
            )
        split_col = columns.index("split") if "split" in columns else None
        for row in _csv_rows(reader, path, skip_bad_rows):
            if row is None:  # a field over the size limit, skipped
                skipped += 1
                continue
            problem = _csv_row_problem(row, text_col, label_col, split_col)
            if problem:
                if skip_bad_rows:
                    skipped += 1
                    continue
                raise UserError(f"{path}:{reader.line_num}: {problem} (use --skip-bad-rows to skip such rows)")
            split = row[split_col].strip().lower() if split_col is not None else "train"
            (test if split == "test" else train).add(row[text_col], parse_label(row[label_col]))
    if not train.texts:
        raise UserError(f"{path}: no usable rows")
    corpus = Corpus(train, test, Reviews(), str(path), has_test_split=bool(test.texts), skipped_rows=skipped)
    return corpus


def _csv_rows(reader, path: Path, skip_bad_rows: bool):
    """The reader's rows; a field over MAX_REVIEW_BYTES ends the file with an error naming its line, or (with
    --skip-bad-rows) becomes None and reading goes on."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if not skip_bad_rows:
                raise UserError(f"{path}:{reader.line_num}: {exc} ({MAX_REVIEW_BYTES:,} bytes; use --skip-bad-rows "
                                "to skip such rows)") from None
            yield None


def _csv_row_problem(row: list[str], text_col: int, label_col: int, split_col: int | None) -> str | None:
    if not row:
        return "empty row"
    if len(row) <= max(text_col, label_col, split_col or 0):
        return f"row has {len(row)} field(s), fewer than the header"
    for value in row:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "not UTF-8"
    if not row[text_col].strip():
        return "empty review text"
    if parse_label(row[label_col]) is None:
        return f"unknown label {row[label_col]!r} (expected positive/negative, pos/neg or 1/0)"
    if split_col is not None and row[split_col].strip().lower() not in ("train", "test"):
        return f"unknown split {row[split_col]!r} (expected train or test)"
    return None
