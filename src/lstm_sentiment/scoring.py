"""`predict --file F --out O`: score files of any size in bounded memory, keeping every row and its order.

Rows are read, scored and written a chunk at a time, so memory depends on the chunk size, not the file. The
output goes to a temporary file beside O and is renamed into place only when every row is scored: a bad row
or Ctrl-C stops the run with a message and leaves no half-written O behind (and an existing O untouched).
"""

from __future__ import annotations

import contextlib
import csv
import io
import multiprocessing
import os
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .data.csv_reviews import read_header
from .data.sources import LABEL_NAMES
from .errors import UserError
from .files import current_umask
from .predict import Predictor

CHUNK_ROWS = 2048  # rows per model call (and per task for --workers)
OUTPUT_COLUMNS = ("label", "probability")


@dataclass
class ScoringSummary:
    rows: int = 0
    empty: int = 0  # rows whose text was empty: written with empty label and probability


class _CountingReader(io.RawIOBase):
    """Counts bytes read, for a progress bar in bytes (the only size known before reading a CSV)."""

    def __init__(self, raw, bar: tqdm):
        self._raw, self._bar = raw, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        self._bar.update(count or 0)
        return count


def _rows(handle, source: Path, column: str | None) -> tuple[list[str], int | None, Iterator[tuple[int, list[str]]]]:
    """(output header, index of the text column or None for plain lines, numbered rows)."""
    if column is None:  # one review per line
        return ["review"], None, ((number, [line.rstrip("\r\n")]) for number, line in enumerate(handle, start=1))
    reader = csv.reader(handle)
    header = read_header(reader, source, f"empty file (expected a header row with a {column!r} column)")
    if column not in header:
        raise UserError(f"{source}, line 1: no column {column!r} (columns: {', '.join(header) or 'none'})")
    taken = [name for name in OUTPUT_COLUMNS if name in header]
    if taken:
        raise UserError(f"{source}, line 1: already has a column named {taken[0]!r}, which the output adds; "
                        "rename it first")

    def numbered() -> Iterator[tuple[int, list[str]]]:
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as exc:
            raise UserError(f"{source}, line {reader.line_num}: {exc}") from None

    return header, header.index(column), numbered()


def label_texts(predictor: Predictor, texts: list[str]) -> list[tuple[str, str]]:
    """(label, probability) cells per text; empty texts get empty cells."""
    return label_encoded(predictor, encode_texts(predictor, texts))


def encode_texts(predictor: Predictor, texts: list[str]):
    """(number of texts, indices of the non-empty ones, their ids and lengths): the tokenising half."""
    scored = [k for k, text in enumerate(texts) if text.strip()]
    return len(texts), scored, predictor.encode_with_ngrams([texts[k] for k in scored]) if scored else None


def label_encoded(predictor: Predictor, encoded) -> list[tuple[str, str]]:
    """The model's half: cells for what encode_texts gave."""
    count, scored, tensors = encoded
    probabilities = predictor.probabilities_of(*tensors) if scored else []
    cells = [("", "")] * count
    for k, probability in zip(scored, probabilities):
        cells[k] = (LABEL_NAMES[int(probability >= 0.5)], f"{probability:.6f}")
    return cells


class _Overlapped:
    """A chunk tokenised on a helper thread while the model scores the one before (tokenising holds the GIL,
    the model's kernels release it: on 2 cores the two halves overlap); scored when its result is asked for."""

    def __init__(self, predictor: Predictor, encoding):
        self._predictor, self._encoding = predictor, encoding

    def result(self):
        return label_encoded(self._predictor, self._encoding.result())


_worker_predictor: Predictor | None = None  # set once in each pool process by _start_worker; nowhere else


def _start_worker(model_dir: str, precision: str, backend: str, parent_pid: int) -> None:
    import torch

    from .predict import load_model
    from .processes import die_with_parent

    die_with_parent(parent_pid)
    global _worker_predictor
    torch.set_num_threads(1)  # N single-thread processes outrun one N-thread process (benchmarks/README.md)
    torch.set_flush_denormal(True)  # this process is ours alone: see runtime.flush_denormals
    _worker_predictor = load_model(model_dir, "cpu", precision, backend)


def _label_in_worker(texts: list[str]) -> list[tuple[str, str]]:
    return label_texts(_worker_predictor, texts)


@contextlib.contextmanager
def _labeller(predictor: Predictor, workers: int):
    """submit(texts) -> a future of label_texts(texts): here, or in `workers` processes with a model each."""
    if workers <= 1:
        with ThreadPoolExecutor(1, thread_name_prefix="tokenise") as encoder:
            yield lambda texts: _Overlapped(predictor, encoder.submit(encode_texts, predictor, texts))
        return
    context = multiprocessing.get_context("spawn")
    arguments = (str(predictor.source), predictor.precision, "onnx" if predictor.onnx is not None else "torch",
                 os.getpid())
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=arguments) as pool:
        yield lambda texts: pool.submit(_label_in_worker, texts)


def score_file(predictor: Predictor, source: Path, out: Path, column: str | None = None,
               chunk_rows: int = CHUNK_ROWS, progress: bool = True, workers: int = 1) -> ScoringSummary:
    """Write `out`: every row of `source` (CSV with `column`, or one review per line) plus label, probability.
    workers > 1: chunks are scored by that many processes, at most 2 per process in flight, written in order."""
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    try:
        size = source.stat().st_size
        raw = open(source, "rb")  # noqa: SIM115 - closed below, after the bar
    except OSError as exc:
        raise UserError(f"cannot read {source}: {exc.strerror}") from None
    if out.resolve() == source.resolve():
        raise UserError("--out must differ from --file (scoring never overwrites its input)")
    if out.is_dir():
        raise UserError(f"--out {out}: is a directory; name the CSV file to write")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for stale in out.parent.glob(f".{out.name}.*.partial"):  # left by a scoring run that was killed
            stale.unlink(missing_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    except OSError as exc:
        raw.close()
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    bar = tqdm(total=size, unit="B", unit_scale=True, desc="scoring", disable=not progress, file=sys.stderr)
    summary, number = ScoringSummary(), 0  # number: the last line read, for messages
    try:
        text = io.TextIOWrapper(io.BufferedReader(_CountingReader(raw, bar)), encoding="utf-8-sig", newline="")
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as written, \
                _labeller(predictor, workers) as submit:
            header, text_index, rows = _rows(text, source, column)
            writer = csv.writer(written)
            writer.writerow([*header, *OUTPUT_COLUMNS])
            pending: deque = deque()
            in_flight = 2 if workers == 1 else 2 * workers - 1  # in process: one tokenising, one waiting

            def write_oldest() -> None:
                chunk, future = pending.popleft()
                cells = future.result()
                for row, cell in zip(chunk, cells):
                    writer.writerow([*row, *cell])
                summary.rows += len(chunk)
                summary.empty += sum(1 for label, _ in cells if not label)
                bar.set_postfix(rows=f"{summary.rows:,}")

            def flush(chunk: list[list[str]]) -> None:
                pending.append((chunk, submit([row[text_index or 0] for row in chunk])))
                while len(pending) > in_flight:  # bounded: memory stays flat however big the file
                    write_oldest()

            chunk: list[list[str]] = []
            number = 1 if text_index is not None else 0  # the header
            for number, row in rows:
                if text_index is not None and len(row) != len(header):
                    raise UserError(f"{source}, line {number}: {len(row)} fields where the header has {len(header)}")
                chunk.append(row)
                if len(chunk) == chunk_rows:
                    flush(chunk)
                    chunk = []
            if chunk:
                flush(chunk)
            while pending:
                write_oldest()
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, out)
    except UnicodeDecodeError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UserError(f"{source}: not UTF-8 text (byte {exc.object[exc.start]:#04x} after line {number})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        bar.close()
        raw.close()
    return summary

