"""The commands that use a trained model on new text: `predict` (also streaming files), `export`, `serve`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import UserError


def read_texts(args: argparse.Namespace) -> list[str]:
    if args.texts and args.file:
        raise UserError("give review texts as arguments or with --file, not both")
    if args.texts:
        texts, origin = list(args.texts), "argument"
    else:
        if args.file in (None, "-"):
            if args.file is None and sys.stdin.isatty():
                raise UserError("no review given: pass TEXT arguments, --file F, or pipe reviews on standard input")
            raw, origin = sys.stdin.buffer.read(), "standard input"
        else:
            try:
                raw, origin = Path(args.file).read_bytes(), args.file
            except OSError as exc:
                raise UserError(f"cannot read {args.file}: {exc.strerror}") from None
        texts = []
        for number, line in enumerate(raw.splitlines(), start=1):
            try:
                texts.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                raise UserError(f"{origin}, line {number}: not UTF-8") from None
        texts = [t for t in texts if t.strip()]
    for number, text in enumerate(texts, start=1):
        if not text.strip():
            raise UserError(f"{origin} {number}: empty review text")
    if not texts:
        raise UserError(f"no review text found in {origin}")
    return texts


def run_predict(args: argparse.Namespace) -> int:
    from .predict import load_model

    if (args.column or args.out) and not (args.file and args.file != "-"):
        raise UserError("--column and --out work with --file F (a file path)")
    if args.column and not args.out:
        raise UserError("--column needs --out SCORED.csv (the scored rows are written there)")
    if args.out:
        return score_to_file(args)
    texts = read_texts(args)
    predictor = load_model(args.model, device="auto", precision=args.precision, backend=args.backend)
    for prediction in predictor.predict(texts):
        if args.json:
            print(json.dumps(prediction.to_dict(), ensure_ascii=False))
        else:
            shown = " ".join(prediction.text.split())
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
                        device=args.device, precision=args.precision))
    return 0
