"""The commands that use a trained model on new text: `predict` (also streaming files), `export`, `serve`."""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from .data.sources import MAX_REVIEW_BYTES
from .errors import UserError


def batched(items, size: int) -> Iterator[tuple]:
    iterator = iter(items)
    while chunk := tuple(itertools.islice(iterator, size)):
        yield chunk


PREDICT_CHUNK = 2048  # reviews per model call when reading a file or standard input: memory stays flat
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def iter_texts(args: argparse.Namespace) -> Iterator[str]:
    """The reviews to score: arguments, or one per line of --file/standard input, read line by line (a line over
    MAX_REVIEW_BYTES is refused by number, so an endless stream cannot exhaust memory); blank lines are skipped."""
    if args.texts and args.file:
        raise UserError("give review texts as arguments or with --file, not both")
    if args.texts:
        for number, text in enumerate(args.texts, start=1):
            if not text.strip():
                raise UserError(f"argument {number}: empty review text")
        yield from args.texts
        return
    if args.file in (None, "-"):
        if args.file is None and sys.stdin.isatty():
            raise UserError("no review given: pass TEXT arguments, --file F, or pipe reviews on standard input")
        handle, origin = sys.stdin.buffer, "standard input"
    else:
        try:
            handle, origin = open(args.file, "rb"), args.file  # noqa: SIM115 - closed below, also on errors
        except OSError as exc:
            raise UserError(f"cannot read {args.file}: {exc.strerror}") from None
    found = False
    try:
        for number, line in enumerate(iter(lambda: handle.readline(MAX_REVIEW_BYTES + 1), b""), start=1):
            if len(line) > MAX_REVIEW_BYTES:
                raise UserError(f"{origin}, line {number}: longer than {MAX_REVIEW_BYTES:,} bytes (one review per line)")
            try:
                text = line.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise UserError(f"{origin}, line {number}: not UTF-8") from None
            if text.strip():
                found = True
                yield text
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    if not found:
        raise UserError(f"no review text found in {origin}")


def printable(text: str) -> str:
    """A review as one terminal line: control characters (escape codes included) shown as U+FFFD, never obeyed."""
    return _CONTROL.sub("\ufffd", " ".join(text.split()))


def run_predict(args: argparse.Namespace) -> int:
    from .predict import load_model

    if (args.column or args.out) and not (args.file and args.file != "-"):
        raise UserError("--column and --out work with --file F (a file path)")
    if args.column and not args.out:
        raise UserError("--column needs --out SCORED.csv (the scored rows are written there)")
    if args.out:
        return score_to_file(args)
    texts = iter_texts(args)
    first = next(texts)  # a bad first line or empty input is reported before the model loads
    predictor = load_model(args.model, device="auto", precision=args.precision, backend=args.backend)
    for chunk in batched(itertools.chain([first], texts), PREDICT_CHUNK):
        for prediction in predictor.predict(list(chunk)):
            if args.json:
                print(json.dumps(prediction.to_dict(), ensure_ascii=False))
            else:
                shown = printable(prediction.text)
                shown = shown if len(shown) <= 70 else shown[:67] + "..."
                print(f"{prediction.label:<8}  {prediction.probability:.4f}  {shown}")
    return 0


def score_to_file(args: argparse.Namespace) -> int:
    from .predict import load_model
    from .scoring import score_file

    if args.texts:
        raise UserError("give review texts as arguments or with --file, not both")
    predictor = load_model(args.model, device="auto", precision=args.precision, backend=args.backend)
    summary = score_file(predictor, Path(args.file), Path(args.out), args.column, workers=args.workers)
    empty = f" ({summary.empty:,} with empty text, left unscored)" if summary.empty else ""
    print(f"scored {summary.rows:,} rows{empty} into {args.out}", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from .export import export_onnx

    out = export_onnx(Path(args.model), Path(args.onnx) if args.onnx else None)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB); score with `lstm-sentiment predict --model "
          f"{args.model} --backend onnx`" if not args.onnx else f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from .serve.server import serve
    from .serve.settings import ServeSettings

    serve(ServeSettings(model=args.model, host=args.host, port=args.port, workers=args.workers,
                        max_body_bytes=args.max_body_bytes, max_texts=args.max_texts, max_chars=args.max_chars,
                        max_explain_queue=args.max_explain_queue, max_explain_tokens=args.max_explain_tokens,
                        read_timeout=args.read_timeout,
                        device=args.device, precision=args.precision))
    return 0
