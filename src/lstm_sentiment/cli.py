"""The `lstm-sentiment` command: parses arguments and calls the modules that do the work."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from .allocator import keep_freed_memory
from .cli_inspect import plot_data_stats, run_cache, run_check, run_explain, run_report
from .cli_train import run_pretrain, run_train
from .cli_use import run_export, run_predict, run_serve
from .errors import UserError
from .runtime import flush_denormals


def _add_data_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="PATH", action="append",
                        help="aclImdb .tar.gz archive or extracted folder, CSV file, or the sentiment treebank's "
                             "trainDevTestTrees_PTB.zip (default: $LSTM_SENTIMENT_DATA, then the downloaded archive "
                             "in the cache); repeat to combine sources, each split by its own rules")
    parser.add_argument("--skip-bad-rows", action="store_true",
                        help="CSV only: skip malformed rows (and report how many) instead of stopping at the first")


def _add_run_flags(parser: argparse.ArgumentParser, out: str, default_preset: str, epochs: str, tables: str,
                   steps: str, example: str) -> None:
    """The flags `train` and `pretrain` share."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--preset", default=None,
                        help=f"named preset (see `lstm-sentiment presets`); default {default_preset}")
    source.add_argument("--config", metavar="FILE.toml", help=f"TOML file with {tables} tables")
    _add_data_flag(parser)
    parser.add_argument("--out", metavar=out,
                        help="output directory (default: under runs/, named after the preset and the time)")
    parser.add_argument("--epochs", type=int, help=f"override {epochs}")
    parser.add_argument("--seed", type=int, help="override train.seed")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="use a seeded, label-balanced sample of N training reviews (quick trials)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help=f"override any config value, e.g. --set {example} (repeatable)")
    parser.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the prepared-tensor cache")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--resume", metavar=out,
                        help="continue an interrupted run from its last checkpoint (same config; flags that would "
                             "change it are refused)")
    parser.add_argument("--overwrite", action="store_true",
                        help="--out may already hold a model or run: it is replaced, in one step, once the new one "
                             "is complete (until then the old one stays as it was)")
    parser.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                        help=f"also checkpoint every N {steps} (always at the end of each epoch)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lstm-sentiment",
                                     description="Train, evaluate and use LSTM sentiment classifiers on IMDb reviews.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="download the dataset or describe it")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    download = data_commands.add_parser("download", help="fetch the official aclImdb archive, or the sentiment "
                                                         "treebank with `download sst` (resumable, verified)")
    download.add_argument("dataset", nargs="?", choices=("imdb", "sst"), default="imdb",
                          help="imdb (default): the Large Movie Review Dataset; sst: the Stanford Sentiment Treebank")
    download.add_argument("--dest", metavar="DIR", help="folder to download into (default: the cache folder)")
    download.add_argument("--url", default=None, help="alternative address of the same archive")
    stats = data_commands.add_parser("stats", help="counts per split and label, review lengths, vocabulary size")
    _add_data_flag(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument("--plot", metavar="FILE.png", help="also draw class balance, review lengths with maxlen "
                                                          "marked, and the most frequent words per class")
    stats.add_argument("--maxlen", type=int, default=None,
                       help="maxlen to mark on the length plot (default: the shipped model's)")

    train = commands.add_parser("train", help="train a classifier and write a model directory")
    _add_run_flags(train, "RUN_DIR", "seed000", "train.epochs", "[data], [model], [train]",
                   "optimizer steps", "model.bidirectional=true")
    train.add_argument("--no-test", action="store_true",
                       help="report final metrics on the validation split and never touch the test split "
                            "(for runs that compare settings)")
    train.add_argument("--time-to-accuracy", type=float, metavar="ACC",
                       help="also measure test accuracy after each epoch (reported only, never used to choose the "
                            "model) and record in metrics.json when it first reaches ACC")
    train.add_argument("--pretrained", metavar="LM_DIR",
                       help="start the embedding and first LSTM layer from `lstm-sentiment pretrain` output")

    pretrain = commands.add_parser("pretrain", help="pretrain a bidirectional LSTM language model on the training "
                                                    "and unlabelled reviews (for `train --pretrained`)")
    _add_run_flags(pretrain, "LM_DIR", "best", "pretrain.epochs", "[data], [model], [pretrain]", "windows",
                   "pretrain.bptt=70")

    evaluate = commands.add_parser("evaluate", help="metrics of a trained model on a split")
    evaluate.add_argument("--model", metavar="RUN_DIR", help="model directory (default: the shipped model)")
    _add_data_flag(evaluate)
    evaluate.add_argument("--split", default="test", choices=("test", "validation", "train"))
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")

    predict = commands.add_parser("predict", help="label reviews as positive or negative")
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="reviews to classify")
    predict.add_argument("--model", metavar="RUN_DIR", help="model directory (default: the shipped model)")
    predict.add_argument("--file", metavar="F", help="file with one review per line ('-' for standard input)")
    predict.add_argument("--json", action="store_true", help="one JSON object per line")
    predict.add_argument("--column", metavar="NAME", help="with --file: read it as CSV and score this column")
    predict.add_argument("--out", metavar="SCORED.csv", help="with --file: stream every row, in order, to this CSV "
                                                             "with label and probability columns added "
                                                             "(bounded memory, any file size)")
    predict.add_argument("--workers", type=int, default=1, help="with --out: score chunks in this many processes, "
                                                                 "one thread each (default: 1)")
    predict.add_argument("--backend", default="torch", choices=("torch", "onnx"),
                         help="onnx: onnxruntime on RUN_DIR/model.onnx from `export` (default: torch)")
    predict.add_argument("--precision", default="float32", choices=("float32", "bfloat16"),
                         help="bfloat16: faster on CPUs with native bf16 and on GPUs (default: float32, exact)")

    export = commands.add_parser("export", help="write the classifier as ONNX (ids, lengths -> probability) for "
                                                "onnxruntime; needs the [onnx] extra")
    export.add_argument("--model", metavar="RUN_DIR", required=True, help="trained model directory")
    export.add_argument("--onnx", metavar="OUT.onnx", help="where to write (default: RUN_DIR/model.onnx)")

    explain = commands.add_parser("explain", help="why the model decided: gates, running probability and word "
                                                  "contributions for one review")
    explain.add_argument("text", metavar="TEXT", help="the review")
    explain.add_argument("--model", metavar="RUN_DIR", help="model directory (default: the shipped model)")
    explain.add_argument("--out", metavar="FILE.html|FILE.png", help="write a self-contained HTML page or a figure")
    explain.add_argument("--json", action="store_true", help="print one JSON object with the per-token lists")
    explain.add_argument("--method", default="integrated-gradients", choices=("integrated-gradients", "occlusion"),
                         help="how word contributions are measured (default: integrated-gradients)")

    check = commands.add_parser("check", help="behavioural tests (CheckList-style): negation, contrast, "
                                              "robustness...; failure rate per test with failing examples")
    check.add_argument("--model", metavar="RUN_DIR", help="model directory (default: the shipped model)")
    check.add_argument("--json", action="store_true", help="print one JSON object (keys in docs/behaviour.md)")
    check.add_argument("--out", metavar="FILE.html", help="also write the table and examples as an HTML page")
    check.add_argument("--examples", type=int, default=2, metavar="N",
                       help="failing examples shown per test, the clearest first (default 2)")
    check.add_argument("--strict", action="store_true",
                       help="exit 1 when a target is missed (negation tests <= 20%%, mean MFT <= 10%%, INV <= 5%%)")

    report = commands.add_parser("report", help="one self-contained HTML page about a trained run")
    report.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="model directory (default: the shipped model)")
    _add_data_flag(report)
    report.add_argument("--out", metavar="FILE.html",
                        help="where to write (default: RUN_DIR/report.html; ./report.html for the shipped model)")
    report.add_argument("--split", choices=("test", "validation"),
                        help="split to report on (default: the split the run reported, so --no-test runs stay "
                             "away from the test split)")

    pack = commands.add_parser("pack", help="copy a model directory with smaller (float16) weights for shipping")
    pack.add_argument("--model", metavar="RUN_DIR", required=True, help="trained model directory")
    pack.add_argument("--out", metavar="DIR", required=True, help="directory to write")
    pack.add_argument("--dtype", default="float16", choices=("float16", "bfloat16", "float32"))
    pack.add_argument("--overwrite", action="store_true",
                      help="--out may already hold a model or run: it is replaced as a whole, in one step")

    serve = commands.add_parser("serve", help="an HTTP API (/predict, /explain, /model, /health, docs at /docs) "
                                              "and a page for trying reviews at /; needs the [serve] extra")
    serve.add_argument("--model", metavar="RUN_DIR", help="model directory (default: the shipped model)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1; "
                                                          "0.0.0.0 listens on every interface)")
    serve.add_argument("--port", type=int, default=8000, help="default: 8000")
    serve.add_argument("--workers", type=int, default=1, help="worker processes, each with its own model and a "
                                                               "share of the cores (default: 1)")
    serve.add_argument("--max-body-bytes", type=int, default=1 << 20, help="largest request body (default: 1 MiB)")
    serve.add_argument("--max-texts", type=int, default=256, help="texts per /predict request (default: 256)")
    serve.add_argument("--max-chars", type=int, default=50_000, help="characters per text (default: 50000)")
    serve.add_argument("--max-explain-queue", type=int, default=4,
                       help="explanations running or waiting at once; more get 503 with Retry-After (default: 4)")
    serve.add_argument("--max-explain-tokens", type=int, default=1000,
                       help="longest review /explain takes, in tokens (its cost grows with the square; default: 1000)")
    serve.add_argument("--read-timeout", type=float, default=10.0,
                       help="seconds for a request's head, and for each piece of its body (6x for the whole body); "
                            "slower clients are cut off (default: 10)")
    serve.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    serve.add_argument("--precision", default="float32", choices=("float32", "bfloat16"),
                       help="bfloat16: about 1.5x faster on CPUs with native bf16 and on GPUs, probabilities within "
                            "0.01 of float32 (default: float32, exact)")

    commands.add_parser("presets", help="list the named presets")
    cache = commands.add_parser("cache", help="the prepared-tensor cache: its size, or clear it")
    cache.add_argument("cache_command", choices=("info", "clear"), metavar="info|clear",
                       help="info: entries and size; clear: delete every entry (rebuilt when next needed)")
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # every command that runs the model allocates the same large buffers again and again
    try:
        with flush_denormals():  # before the first tensor operation, so torch's worker threads inherit it
            return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"lstm-sentiment: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lstm-sentiment: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`... | head`): stop quietly, as cat does, and keep Python from complaining
        # again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def run_data(args: argparse.Namespace) -> int:
    from .data.sources import load_corpus, resolve_data_path

    if args.data_command == "download":
        from .data.download import DATASETS, download

        url, sha256 = DATASETS[args.dataset]
        path = download(args.url or url, Path(args.dest) if args.dest else None, sha256=sha256)
        print(f"saved {path}")
        return 0
    from .data.stats import corpus_stats, format_stats

    corpus = load_corpus(resolve_data_path(args.data), include_unsup=True, skip_bad_rows=args.skip_bad_rows)
    stats = corpus_stats(corpus)
    if args.plot:
        stats["plot"] = plot_data_stats(corpus, args.plot, args.maxlen)
    print(json.dumps(stats) if args.json else format_stats(stats))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from .data.prepare import split_corpus
    from .data.sources import load_corpus, resolve_data_path
    from .evaluate import evaluate_reviews, format_metrics
    from .predict import load_model

    predictor = load_model(args.model, device="auto")
    corpus = load_corpus(resolve_data_path(args.data), skip_bad_rows=args.skip_bad_rows)
    reviews = split_corpus(corpus, predictor.config.data)[args.split]
    if not len(reviews):
        raise UserError(f"the {args.split} split is empty")
    metrics, _ = evaluate_reviews(predictor, reviews)
    metrics["split"] = args.split
    print(json.dumps(metrics) if args.json else format_metrics(metrics))
    return 0


def run_pack(args: argparse.Namespace) -> int:
    from .model_dir import pack_model
    from .output_dir import claim, replace

    model_dir, out = Path(args.model), Path(args.out)
    if out.resolve() == model_dir.resolve():
        raise UserError("--out must differ from --model (packing never overwrites the original)")
    writing = claim(out, args.overwrite)
    sizes = pack_model(model_dir, writing, args.dtype)
    if writing != out:
        replace(writing, out)
    for name, size in sizes.items():
        print(f"{name:<20} {size / 1e6:8.2f} MB")
    print(f"total {sum(sizes.values()) / 1e6:.2f} MB in {out}; check it with `lstm-sentiment evaluate --model {out}`")
    return 0


def run_presets(args: argparse.Namespace) -> int:
    from .config_io import load_preset, preset_names

    for name in preset_names():
        config = load_preset(name)
        model = config.model
        scoring = f" (scoring {config.data.eval_maxlen})" if config.data.eval_maxlen else ""
        print(f"{name:<10} maxlen {config.data.maxlen:<4}{scoring} words {config.data.num_words:<6} "
              f"LSTM {model.hidden_sizes}{' bidirectional' if model.bidirectional else ''}  "
              f"epochs {config.train.epochs}  batch {config.train.batch_size}")
    return 0


COMMANDS = {"data": run_data, "train": run_train, "evaluate": run_evaluate, "predict": run_predict,
            "pack": run_pack, "presets": run_presets, "explain": run_explain, "report": run_report, "check": run_check, "cache": run_cache, "pretrain": run_pretrain,
            "serve": run_serve, "export": run_export}
