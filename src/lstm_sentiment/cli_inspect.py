"""The commands that look inside data and models: `data stats --plot`, `explain`, `report`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import UserError


def plot_data_stats(corpus, path: str, maxlen: int | None) -> dict:
    from .data.stats import plot_stats

    if maxlen is None:
        from .model_dir import load_model_files
        from .predict import default_model_dir

        folder = default_model_dir()
        maxlen = load_model_files(folder)[1].data.maxlen if folder else 200
    if maxlen < 1:
        raise UserError("--maxlen must be at least 1")
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise UserError(f"--plot {path}: use a .png file name")
    try:
        summary = plot_stats(corpus, maxlen, out)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    print(f"plot written to {out} (maxlen {maxlen} truncates {summary['truncated_share']:.1%} of training reviews)",
          file=sys.stderr)
    return {**summary, "file": str(out)}


def run_explain(args: argparse.Namespace) -> int:
    from .explain import explain
    from .predict import load_model

    if not args.text.strip():
        raise UserError("empty review text")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".html", ".png"):
        raise UserError(f"--out {out}: use a .html or .png file name")
    explanation = explain(load_model(args.model, device="auto"), args.text, args.method)
    if out is not None:
        from .explain_view import write_explanation

        try:
            write_explanation(explanation, out)
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror}") from None
    if args.json:
        print(json.dumps(explanation.to_dict(), ensure_ascii=False))
    elif out is None or args.out:
        strongest = sorted(zip(explanation.contributions, explanation.tokens), key=lambda item: -abs(item[0]))[:8]
        print(f"{explanation.label}  P(positive) = {explanation.probability:.4f}")
        print("strongest words: " + ", ".join(f"{token} {value:+.2f}" for value, token in strongest))
        if explanation.truncated_tokens:
            print(f"note: {explanation.truncated_tokens} tokens beyond maxlen cut at the {explanation.truncated_side}")
        if explanation.ngram_unread:
            print(f"note: the n-gram member reads nothing of it; the LSTM decides (alone: {explanation.lstm_probability:.4f})")
        if out is not None:
            print(f"written to {out}")
    return 0


def run_cache(args: argparse.Namespace) -> int:
    from .data.cache_eviction import cache_limit_bytes, entry_sizes, evict_least_recently_used
    from .data.sources import cache_dir

    prepared = cache_dir() / "prepared"
    sizes = entry_sizes(prepared)
    if args.cache_command == "clear":
        evict_least_recently_used(prepared, 0)
        print(f"removed {len(sizes)} entries ({sum(sizes.values()) / 1e6:,.0f} MB) from {prepared}")
    else:
        print(f"{prepared}: {len(sizes)} entries, {sum(sizes.values()) / 1e6:,.0f} MB (cap "
              f"{cache_limit_bytes() / 1e9:g} GB: LSTM_SENTIMENT_CACHE_MAX_GB; least recently used go first)")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from .behaviour.html_view import results_page
    from .behaviour.run import format_results, run_suite, unknown_common_words
    from .predict import load_model, resolve_model_dir

    model_dir = resolve_model_dir(args.model)
    predictor = load_model(model_dir, device="auto")
    if args.examples < 0:
        raise UserError(f"--examples must be 0 or more, not {args.examples}")
    results = {"model": str(model_dir), **run_suite(lambda texts: predictor.probabilities(texts, batch_size=256),
                                                     examples=args.examples,
                                                     unknown_words=unknown_common_words(predictor.vocab.unknown_words))}
    if args.out:
        out = Path(args.out)
        try:
            out.write_text(results_page(results, f"Behavioural tests: {model_dir.name}"), encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror}") from None
    print(json.dumps(results) if args.json else format_results(results))
    if args.out and not args.json:
        print(f"written to {args.out}")
    return 1 if args.strict and not results["summary"]["targets_met"] else 0


def run_report(args: argparse.Namespace) -> int:
    from .data.sources import resolve_data_path, source_parts
    from .files import read_json
    from .model_dir import METRICS
    from .predict import load_model, resolve_model_dir
    from .report import build_report

    run_dir = resolve_model_dir(args.run_dir)
    predictor = load_model(run_dir, device="auto")
    run_metrics = read_json(run_dir / METRICS) if (run_dir / METRICS).exists() else {}
    split = args.split or run_metrics.get("split", "test")
    recorded = run_metrics.get("data")
    data = args.data or (recorded if recorded and all(part.exists() for part in source_parts(recorded)) else None)
    page = build_report(predictor, run_dir, resolve_data_path(data), split)
    out = Path(args.out) if args.out else (run_dir if args.run_dir else Path(".")) / "report.html"
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    print(f"report written to {out}")
    return 0
