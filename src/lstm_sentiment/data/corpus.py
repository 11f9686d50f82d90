"""Labelled reviews in memory: the shapes every reader returns, and the limits they all apply."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UserError

NEGATIVE, POSITIVE = 0, 1
UNLABELLED = -1
LABEL_NAMES = {NEGATIVE: "negative", POSITIVE: "positive"}
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


def concatenate(parts: list[Reviews]) -> Reviews:
    """The reviews of every part in order; soft targets kept where any part has them (the labels elsewhere)."""
    soft = any(p.targets for p in parts)
    return Reviews([t for p in parts for t in p.texts], [label for p in parts for label in p.labels],
                   [m for p in parts for m in (p.movies or [""] * len(p))],
                   [t for p in parts for t in p.target_list()] if soft else [])


def decode_utf8(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
