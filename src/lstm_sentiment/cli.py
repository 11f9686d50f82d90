"""The `lstm-sentiment` command: parses arguments and calls the modules that do the work."""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

from .errors import UserError


def _add_data_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", metavar="PATH",
                        help="aclImdb .tar.gz archive, extracted aclImdb folder or CSV file "
                             "(default: $LSTM_SENTIMENT_DATA, then the downloaded archive in the cache)")
    parser.add_argument("--skip-bad-rows", action="store_true",
                        help="CSV only: skip malformed rows (and report how many) instead of stopping at the first")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lstm-sentiment",
                                     description="Train, evaluate and use LSTM sentiment classifiers on IMDb reviews.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="download the dataset or describe it")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")
    download = data_commands.add_parser("download", help="fetch the official aclImdb archive (resumable, verified)")
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
    source = train.add_mutually_exclusive_group()
    source.add_argument("--preset", default=None, help="named preset (see `lstm-sentiment presets`); default seed000")
    source.add_argument("--config", metavar="FILE.toml", help="TOML file with [data], [model], [train] tables")
    _add_data_flag(train)
    train.add_argument("--out", metavar="RUN_DIR", help="run directory (default: runs/PRESET-TIMESTAMP)")
    train.add_argument("--epochs", type=int, help="override train.epochs")
    train.add_argument("--seed", type=int, help="override train.seed")
    train.add_argument("--limit", type=int, metavar="N",
                       help="train on a seeded, label-balanced sample of N training reviews (quick trials)")
    train.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override any config value, e.g. --set model.bidirectional=true (repeatable)")
    train.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    train.add_argument("--no-cache", action="store_true", help="do not read or write the prepared-tensor cache")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue an interrupted run from its last checkpoint (same config; flags that would "
                            "change it are refused)")
    train.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                       help="also checkpoint every N optimizer steps (always at the end of each epoch)")
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
    source = pretrain.add_mutually_exclusive_group()
    source.add_argument("--preset", default=None, help="named preset with a [pretrain] table (default: best)")
    source.add_argument("--config", metavar="FILE.toml", help="TOML file with [data], [model], [pretrain] tables")
    _add_data_flag(pretrain)
    pretrain.add_argument("--out", metavar="LM_DIR", help="output directory (default: runs/lm-PRESET-TIMESTAMP)")
    pretrain.add_argument("--epochs", type=int, help="override pretrain.epochs")
    pretrain.add_argument("--seed", type=int, help="override train.seed")
    pretrain.add_argument("--limit", type=int, metavar="N", help="use N training reviews (quick trials)")
    pretrain.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                          help="override any config value, e.g. --set pretrain.bptt=70 (repeatable)")
    pretrain.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    pretrain.add_argument("--no-cache", action="store_true", help="do not read or write the prepared-tensor cache")
    pretrain.add_argument("--quiet", action="store_true", help="no progress bars")
    pretrain.add_argument("--resume", metavar="LM_DIR", help="continue an interrupted pretraining run")
    pretrain.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                          help="also checkpoint every N windows (always at the end of each epoch)")

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

    explain = commands.add_parser("explain", help="why the model decided: gates, running probability and word "
                                                  "contributions for one review")
    explain.add_argument("text", metavar="TEXT", help="the review")
    explain.add_argument("--model", metavar="RUN_DIR", help="model directory (default: the shipped model)")
    explain.add_argument("--out", metavar="FILE.html|FILE.png", help="write a self-contained HTML page or a figure")
    explain.add_argument("--json", action="store_true", help="print one JSON object with the per-token lists")
    explain.add_argument("--method", default="integrated-gradients", choices=("integrated-gradients", "occlusion"),
                         help="how word contributions are measured (default: integrated-gradients)")

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

    commands.add_parser("presets", help="list the named presets")
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"lstm-sentiment: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lstm-sentiment: interrupted", file=sys.stderr)
        return 130


def run_data(args: argparse.Namespace) -> int:
    from .data.sources import load_corpus, resolve_data_path

    if args.data_command == "download":
        from .data.download import OFFICIAL_URL, download

        path = download(args.url or OFFICIAL_URL, Path(args.dest) if args.dest else None)
        print(f"saved {path}")
        return 0
    from .data.stats import corpus_stats, format_stats

    corpus = load_corpus(resolve_data_path(args.data), include_unsup=True, skip_bad_rows=args.skip_bad_rows)
    stats = corpus_stats(corpus)
    if args.plot:
        stats["plot"] = plot_data_stats(corpus, args.plot, args.maxlen)
    print(json.dumps(stats) if args.json else format_stats(stats))
    return 0


def plot_data_stats(corpus, path: str, maxlen: int | None) -> dict:
    from .data.stats import plot_stats

    if maxlen is None:
        from .predict import default_model_dir
        from .runs import load_model_files

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


def resolve_config(args: argparse.Namespace, base=None):
    """The preset or config file (or `base`), then --epochs/--seed/--device, then every --set."""
    from .config import apply_override, load_config_file, load_preset, set_field

    default = "best" if args.command == "pretrain" else "seed000"
    if args.config or args.preset or base is None:
        config = load_config_file(args.config) if args.config else load_preset(args.preset or default)
    else:
        config = copy.deepcopy(base)
    for flag in ("epochs", "seed", "device"):
        value = getattr(args, flag)
        if value is not None:
            section = config.pretrain if flag == "epochs" and args.command == "pretrain" else config.train
            set_field(section, flag, value, f"--{flag}")
    for assignment in args.set:
        apply_override(config, assignment)
    return config.validate()


def run_train(args: argparse.Namespace) -> int:
    from .runner import RunOptions, train_run

    if args.no_test and args.time_to_accuracy is not None:
        raise UserError("--time-to-accuracy measures the test split; it cannot be combined with --no-test")
    if args.checkpoint_every < 0:
        raise UserError("--checkpoint-every must be >= 0")
    if args.resume:
        config, options, out, checkpoint = resume_arguments(args)
    else:
        from .data.sources import resolve_data_path

        config = resolve_config(args)
        if args.limit is not None and args.limit < 2:
            raise UserError("--limit must be at least 2")
        name = args.preset or (Path(args.config).stem if args.config else "seed000")
        out = Path(args.out) if args.out else Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        if args.pretrained and not Path(args.pretrained).is_dir():
            raise UserError(f"--pretrained {args.pretrained}: no such directory")
        options = RunOptions(str(resolve_data_path(args.data)), args.limit, not args.no_cache, name,
                             args.time_to_accuracy, "validation" if args.no_test else "test", args.checkpoint_every,
                             str(Path(args.pretrained).resolve()) if args.pretrained else None)
        checkpoint = None
    from .train import Interrupted

    try:
        metrics = train_run(config, options, out, progress=not args.quiet, resume=checkpoint)
    except Interrupted as stop:
        print(f"lstm-sentiment: {stop}; checkpoint saved. Continue with: lstm-sentiment train --resume {out}",
              file=sys.stderr)
        return 130
    print(f"{metrics['split']} accuracy {metrics['accuracy']:.4f} (best epoch {metrics['best_epoch']} of "
          f"{metrics['epochs_run']}, {metrics['seconds']:.0f}s); model saved to {out}")
    if options.time_to_accuracy is not None:
        reached = metrics["time_to_accuracy"]
        print(f"test accuracy {options.time_to_accuracy} first reached at epoch {reached['epoch']}, "
              f"{reached['seconds']}s" if reached["epoch"] else f"test accuracy never reached {options.time_to_accuracy}")
    return 0


def run_pretrain(args: argparse.Namespace) -> int:
    from .pretrain import PretrainOptions, pretrain_run
    from .train import Interrupted

    if args.checkpoint_every < 0:
        raise UserError("--checkpoint-every must be >= 0")
    if args.resume:
        config, options, out, checkpoint = resume_arguments(args, PretrainOptions)
    else:
        from .data.sources import resolve_data_path

        config = resolve_config(args)
        name = args.preset or (Path(args.config).stem if args.config else "best")
        out = Path(args.out) if args.out else Path("runs") / f"lm-{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        options = PretrainOptions(str(resolve_data_path(args.data)), args.limit, not args.no_cache, name,
                                  args.checkpoint_every)
        checkpoint = None
    try:
        metrics = pretrain_run(config, options, out, progress=not args.quiet, resume=checkpoint)
    except Interrupted as stop:
        print(f"lstm-sentiment: {stop}; checkpoint saved. Continue with: lstm-sentiment pretrain --resume {out}",
              file=sys.stderr)
        return 130
    print(f"validation perplexity {metrics['validation_perplexity']:.1f} after {metrics['epochs']} epochs "
          f"({metrics['seconds']:.0f}s); language model saved to {out}; fine-tune with "
          f"`lstm-sentiment train --pretrained {out}`")
    return 0


def resume_arguments(args: argparse.Namespace, options_type=None):
    """The saved config and options of the run to resume; anything on the command line that would change the
    config is refused, naming the keys."""
    from .checkpoint import config_differences, load_checkpoint
    from .config import config_from_dict
    from .runner import RunOptions

    if args.out and Path(args.out) != Path(args.resume):
        raise UserError("--resume continues in its own directory; leave out --out")
    out = Path(args.resume)
    checkpoint = load_checkpoint(out)
    saved = checkpoint.config
    kind = "pretrain" if saved.get("kind") == "pretrain" else "train"
    if kind != args.command:
        raise UserError(f"{out} is a `{kind}` run; continue it with `lstm-sentiment {kind} --resume {out}`")
    config = config_from_dict(saved["config"], source=str(out / "checkpoint.safetensors"))
    differences = config_differences(saved["config"], resolve_config(args, base=config).to_dict())
    if differences:  # flags that leave the config as it was are accepted
        raise UserError(f"cannot resume {out} with a different config: {'; '.join(differences)}")
    options = (options_type or RunOptions)(**saved["options"])
    if args.data:
        from .data.sources import resolve_data_path

        options.data_path = str(resolve_data_path(args.data))
    if args.checkpoint_every:
        options.checkpoint_every = args.checkpoint_every
    return config, options, out, checkpoint


def run_evaluate(args: argparse.Namespace) -> int:
    from .data.prepare import encode_reviews, split_corpus
    from .data.sources import load_corpus, resolve_data_path
    from .evaluate import evaluate_split, format_metrics
    from .predict import load_model

    predictor = load_model(args.model, device="auto")
    corpus = load_corpus(resolve_data_path(args.data), skip_bad_rows=args.skip_bad_rows)
    reviews = split_corpus(corpus, predictor.config.data)[args.split]
    if not len(reviews):
        raise UserError(f"the {args.split} split is empty")
    split = encode_reviews(reviews.texts, reviews.labels, predictor.vocab, predictor.config.data)
    metrics, _ = evaluate_split(predictor.model, split, predictor.config.data.padding, predictor.device)
    metrics["split"] = args.split
    print(json.dumps(metrics) if args.json else format_metrics(metrics))
    return 0


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

    texts = read_texts(args)
    predictor = load_model(args.model, device="auto")
    for prediction in predictor.predict(texts):
        if args.json:
            print(json.dumps(prediction.to_dict(), ensure_ascii=False))
        else:
            shown = " ".join(prediction.text.split())
            shown = shown if len(shown) <= 70 else shown[:67] + "..."
            print(f"{prediction.label:<8}  {prediction.probability:.4f}  {shown}")
    return 0


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
        if out is not None:
            print(f"written to {out}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from .data.sources import resolve_data_path
    from .predict import load_model
    from .report import build_report
    from .runs import METRICS, read_json

    from .predict import resolve_model_dir

    run_dir = resolve_model_dir(args.run_dir)
    predictor = load_model(run_dir, device="auto")
    run_metrics = read_json(run_dir / METRICS) if (run_dir / METRICS).exists() else {}
    split = args.split or run_metrics.get("split", "test")
    data = args.data or (run_metrics.get("data") if run_metrics.get("data") and Path(run_metrics["data"]).exists()
                         else None)
    page = build_report(predictor, run_dir, resolve_data_path(data), split)
    out = Path(args.out) if args.out else (run_dir if args.run_dir else Path(".")) / "report.html"
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None
    print(f"report written to {out}")
    return 0


def run_pack(args: argparse.Namespace) -> int:
    from .runs import pack_model

    model_dir, out = Path(args.model), Path(args.out)
    if out.resolve() == model_dir.resolve():
        raise UserError("--out must differ from --model (packing never overwrites the original)")
    sizes = pack_model(model_dir, out, args.dtype)
    for name, size in sizes.items():
        print(f"{name:<20} {size / 1e6:8.2f} MB")
    print(f"total {sum(sizes.values()) / 1e6:.2f} MB in {out}; check it with `lstm-sentiment evaluate --model {out}`")
    return 0


def run_presets(args: argparse.Namespace) -> int:
    from .config import load_preset, preset_names

    for name in preset_names():
        config = load_preset(name)
        model = config.model
        print(f"{name:<10} maxlen {config.data.maxlen:<4} words {config.data.num_words:<6} "
              f"LSTM {model.hidden_sizes}{' bidirectional' if model.bidirectional else ''}  "
              f"epochs {config.train.epochs}  batch {config.train.batch_size}")
    return 0


COMMANDS = {"data": run_data, "train": run_train, "evaluate": run_evaluate, "predict": run_predict,
            "pack": run_pack, "presets": run_presets, "explain": run_explain, "report": run_report, "pretrain": run_pretrain}
