"""A user's own reviews as CSV: text and label columns, an optional split column, bad rows named by line."""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import UserError
from .corpus import MAX_REVIEW_BYTES, NEGATIVE, POSITIVE, Corpus, Reviews

_LABEL_VALUES = {"positive": POSITIVE, "pos": POSITIVE, "1": POSITIVE, "negative": NEGATIVE, "neg": NEGATIVE, "0": NEGATIVE}
_TEXT_COLUMNS = ("review", "text")
_LABEL_COLUMNS = ("sentiment", "label")


def parse_label(value: str) -> int | None:
    return _LABEL_VALUES.get(value.strip().lower())


def read_header(reader, source: Path, empty: str) -> list[str]:
    """The first row of a CSV reader, or one line naming the file: `empty` when there is none."""
    try:
        return next(reader)
    except StopIteration:
        raise UserError(f"{source}: {empty}") from None
    except csv.Error as exc:
        raise UserError(f"{source}:1: unreadable header row ({exc})") from None


def read_csv(path: Path, skip_bad_rows: bool = False) -> Corpus:
    """Header row with review|text and sentiment|label columns; an optional `split` column (train/test)."""
    csv.field_size_limit(MAX_REVIEW_BYTES)
    train, test = Reviews(), Reviews()
    skipped = 0
    # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is not part of the first column's name
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        header = read_header(reader, path, "empty CSV file (expected a header row)")
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
