"""Reviews per second of the shipped model on this CPU: PyTorch with our explicit LSTM path (the equations step
by step, compiled kernel), PyTorch with the fused path (oneDNN's LSTM), in float32 and bfloat16, and
onnxruntime on the exported graph; one review per call and 256 per call, reviews cut to maxlen tokens.

    python benchmarks/inference.py [--model RUN_DIR] [--data aclImdb_v1.tar.gz] [--maxlen 200] [--seconds 8]

Each configuration scores real test reviews (random draws, the same for every configuration) for a fixed time
after a warm-up, interleaved over 3 rounds; the table gives the median rate and its ratio to the fused float32
path measured in the same rounds.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch
from serve_load import typical_reviews

from lstm_sentiment.export import export_onnx
from lstm_sentiment.predict import load_model, resolve_model_dir
from lstm_sentiment.runtime import cpuinfo_line

RESULTS = Path(__file__).parent / "results" / "inference.json"


def rate(predictor, reviews: list[str], batch: int, seconds: float, seed: int) -> float:
    rng, scored, start = random.Random(seed), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        predictor.probabilities(rng.sample(reviews, batch))
        scored += batch
    return scored / (time.perf_counter() - start)


def process_rate(model_dir: str, precision: str, maxlen: int, reviews: list[str], seconds: float, seed: int,
                 chunk: int) -> float:
    """One of several processes scoring batches of 256 on one thread each (see the README for why)."""
    torch.set_num_threads(1)
    predictor = load_model(model_dir, "cpu", precision)
    predictor.config.data.maxlen = predictor.config.data.eval_maxlen = maxlen  # scoring reads this many tokens
    rng = random.Random(seed)
    for _ in range(3):
        predictor.probabilities(rng.sample(reviews, 256), chunk)
    scored, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        predictor.probabilities(rng.sample(reviews, 256), chunk)
        scored += 256
    return scored / (time.perf_counter() - start)


def processes_rows(args, model_dir: Path, reviews: list[str]) -> list[dict]:
    """Batched throughput of `processes` single-thread processes at once, each at chunk sizes 16 and 32."""
    import multiprocessing

    rows = []
    context = multiprocessing.get_context("spawn")
    for precision in ("float32", "bfloat16"):
        for chunk in (16, 32):
            with context.Pool(args.processes) as pool:
                rates = pool.starmap(process_rate, [(str(model_dir), precision, args.maxlen, reviews,
                                                     args.seconds * args.rounds, seed, chunk)
                                                    for seed in range(args.processes)])
            rows.append({"variant": f"PyTorch fused, {precision}, {args.processes} processes x 1 thread, "
                                    f"chunks of {chunk}", "batch": 256, "reviews_per_s": round(sum(rates), 1),
                         "per_process": [round(r, 1) for r in rates]})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--data", default="../shared/data/aclImdb_v1.tar.gz")
    parser.add_argument("--maxlen", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0, help="per configuration and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2, help="for the multi-process rows (0: skip them)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    reviews = typical_reviews(Path(args.data))
    with tempfile.TemporaryDirectory() as scratch:  # export into a copy: the shipped model's folder stays as it is
        model_dir = Path(scratch) / "model"
        shutil.copytree(resolve_model_dir(args.model), model_dir)
        export_onnx(model_dir)
        variants = {"PyTorch, explicit path (compiled kernel), float32": ("torch", "float32", "explicit"),
                    "PyTorch, fused path (oneDNN), float32": ("torch", "float32", "auto"),
                    "PyTorch, fused path (oneDNN), bfloat16": ("torch", "bfloat16", "auto"),
                    "onnxruntime, float32": ("onnx", "float32", "auto")}
        predictors = {}
        for name, (backend, precision, path) in variants.items():
            predictor = load_model(model_dir, "cpu", precision, backend)
            predictor.config.data.maxlen = predictor.config.data.eval_maxlen = args.maxlen
            for lstm in predictor.model.lstms:
                lstm.path = path
            predictors[name] = predictor
        rows = []
        for batch in (1, 256):
            rates = {name: [] for name in predictors}
            for round_ in range(args.rounds + 1):  # round 0 warms up every shape and is not counted
                for name, predictor in predictors.items():
                    seconds = args.seconds if round_ else 2.0
                    measured = rate(predictor, reviews, batch, seconds, seed=round_)
                    if round_:
                        rates[name].append(measured)
            baseline = statistics.median(rates["PyTorch, fused path (oneDNN), float32"])
            for name, values in rates.items():
                rows.append({"variant": name, "batch": batch, "reviews_per_s": round(statistics.median(values), 1),
                             "x_fused_float32": round(statistics.median(values) / baseline, 2),
                             "rounds": [round(v, 1) for v in values]})
                print(json.dumps(rows[-1]), flush=True)
        process_rows = processes_rows(args, model_dir, reviews) if args.processes else []
    report = {"machine": cpuinfo_line("model name") or "unknown CPU", "threads": torch.get_num_threads(),
              "torch": torch.__version__, "maxlen": args.maxlen, "model": args.model or "default", "rows": rows,
              "processes": process_rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nmaxlen {args.maxlen}, {report['threads']} threads, {report['machine']}, torch {report['torch']}")
    print("| variant | reviews per call | reviews/s | x fused float32 |\n| --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['variant']} | {row['batch']} | {row['reviews_per_s']:,} | {row['x_fused_float32']} |")
    for row in process_rows:
        print(f"| {row['variant']} | {row['batch']} | {row['reviews_per_s']:,} | |")


if __name__ == "__main__":
    main()
