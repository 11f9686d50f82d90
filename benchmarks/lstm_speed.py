"""Forward+backward tokens per second of each LSTM variant at the tutorial shapes, as ratios to torch.nn.LSTM.

    python benchmarks/lstm_speed.py [--repeats 5] [--out benchmarks/results/lstm_speed.json]

All variants are timed in one process, interleaved round by round; each ratio is the median of the per-round
ratios, so the numbers hold even on a noisy shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from lstm_sentiment.lstm import LSTM, LSTMCell
from lstm_sentiment.native import lstm_steps
from lstm_sentiment.runtime import cpu_has_native_bf16

SHAPES = [  # (batch, length, input, hidden): the seed000 and seed002/seed001 tutorial shapes
    (64, 200, 128, 128),
    (32, 500, 128, 128),
]


def naive_cell_loop(cell: LSTMCell):
    """The textbook loop: one LSTMCell call per step, autograd records everything."""
    def run(x):
        h = c = None
        outputs = []
        for t in range(x.shape[1]):
            h, c = cell(x[:, t], None if h is None else (h, c))
            outputs.append(h)
        return torch.stack(outputs, 1)
    return run


def python_loop(run):
    """The explicit path with the compiled step kernel switched off (the Python loop of tensor operations)."""
    def wrapped(x):
        os.environ["LSTM_SENTIMENT_NATIVE"] = "0"
        try:
            return run(x)
        finally:
            del os.environ["LSTM_SENTIMENT_NATIVE"]
    return wrapped


def bf16(run):
    def wrapped(x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return run(x).float()
    return wrapped


def variants(input_size: int, hidden: int):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(input_size, hidden, batch_first=True)
    fused = LSTM(input_size, hidden, path="fused")
    explicit = LSTM(input_size, hidden, path="explicit")
    dropped = LSTM(input_size, hidden, recurrent_dropout=0.2, path="explicit").train()
    for module in (fused, explicit, dropped):
        module.load_state_dict(reference.state_dict())
    cell = LSTMCell(input_size, hidden)
    runs = {
        "torch.nn.LSTM": lambda x: reference(x)[0],
        "ours fused": lambda x: fused(x)[0],
        "ours explicit": lambda x: explicit(x)[0],
        "ours explicit + recurrent dropout 0.2": lambda x: dropped(x)[0],
        "ours explicit, Python loop": python_loop(lambda x: explicit(x)[0]),
        "ours explicit + rec. dropout, Python loop": python_loop(lambda x: dropped(x)[0]),
        "naive per-step cell": naive_cell_loop(cell),
    }
    if cpu_has_native_bf16():  # what training uses by default on such CPUs (train.mixed_precision)
        runs["torch.nn.LSTM, bf16 autocast"] = bf16(lambda x: reference(x)[0])
        runs["ours fused, bf16 autocast"] = bf16(lambda x: fused(x)[0])
    return runs


def time_step(run, x) -> float:
    started = time.perf_counter()
    run(x).sum().backward()
    return time.perf_counter() - started


def measure(shape, repeats: int) -> list[dict]:
    batch, length, input_size, hidden = shape
    runs = variants(input_size, hidden)
    x = torch.randn(batch, length, input_size, requires_grad=True)
    times = {name: [] for name in runs}
    for name, run in runs.items():  # warm-up: kernel selection, allocator
        time_step(run, x)
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(time_step(run, x))
    base = times["torch.nn.LSTM"]
    # Ratios are paired round by round (same moment, same machine load), then the median is taken.
    return [{"batch": batch, "length": length, "input": input_size, "hidden": hidden, "variant": name,
             "seconds_per_step": statistics.median(t), "tokens_per_second": batch * length / statistics.median(t),
             "ratio_to_nn_lstm": statistics.median(b / v for b, v in zip(base, t))} for name, t in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", default="benchmarks/results/lstm_speed.json")
    args = parser.parse_args()
    rows = [row for shape in SHAPES for row in measure(shape, args.repeats)]
    print(f"{'shape (B x T, in, hidden)':<28}{'variant':<44}{'s/step':>9}{'tokens/s':>11}{'x nn.LSTM':>11}")
    for row in rows:
        shape = f"{row['batch']} x {row['length']}, {row['input']}, {row['hidden']}"
        print(f"{shape:<28}{row['variant']:<44}{row['seconds_per_step']:>9.3f}{row['tokens_per_second']:>11,.0f}"
              f"{row['ratio_to_nn_lstm']:>11.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": f"{platform.machine()}, {torch.get_num_threads()} threads",
                               "step_kernel": "compiled" if lstm_steps() else "unavailable (Python loop)",
                               "torch": torch.__version__, "repeats": args.repeats, "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
