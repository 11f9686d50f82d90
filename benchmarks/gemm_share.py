"""How close a preset's training step comes to this machine's matrix-multiply peak, measured in one run.

    python benchmarks/gemm_share.py [--presets seed000 quick] [--steps 10] [--out FILE.json]

The peak is a plain square GEMM (torch.mm, 2048 x 2048) in float32 and in bfloat16 with all threads. A
training step of the preset's classifier is timed on fixed random batches at the preset's maxlen and batch
size, in the precision the preset trains in (bfloat16 autocast on CPUs with native bf16); its useful work is
counted as the LSTM's matrix multiplies: per token, layer and direction, 2 * 4H * (input + H) flops forward
and twice that backward (gradients of inputs and of weights), so 3x forward in all. Embedding lookups,
pooling, elementwise gate arithmetic and the optimizer are not counted: the share is a lower bound of what the
step does, and the distance to 1.0 is the most any matrix-multiply kernel could still win.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from lstm_sentiment.config_io import load_preset
from lstm_sentiment.model import build_classifier, flatten_members
from lstm_sentiment.runtime import autocast, cpuinfo_line, mixed_precision_dtype

RESULTS = Path(__file__).parent / "results" / "gemm_share.json"


def gemm_peak(dtype: torch.dtype, size: int = 2048, seconds: float = 3.0) -> float:
    """flop/s of repeated size x size matrix products."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    for _ in range(3):
        torch.mm(a, b)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        torch.mm(a, b)
        done += 1
    return done * 2 * size ** 3 / (time.perf_counter() - started)


def lstm_flops_per_step(config, batch: int, steps: int) -> float:
    """Matrix-multiply flops of one training step (forward + backward) of the preset's LSTM layers."""
    model = config.model
    directions = 2 if model.bidirectional else 1
    total, width = 0.0, model.embedding_dim
    for hidden in model.hidden_sizes:
        forward = 2 * 4 * hidden * (width + hidden) * batch * steps * directions
        total += 3 * forward
        width = hidden * directions
    return total * model.members


def step_seconds(preset: str, steps: int) -> tuple[float, object, int, int]:
    config = load_preset(preset)
    torch.manual_seed(0)
    vocab = min(config.data.num_words, 30000)
    model = build_classifier(config.model, vocab).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    device = torch.device("cpu")
    batch, length = config.train.batch_size, config.data.maxlen
    ids, lengths = torch.randint(2, vocab, (batch, length)), torch.full((batch,), length)
    labels = torch.randint(0, 2, (batch,)).float()

    def step() -> None:
        with autocast(device, config.train.mixed_precision):
            logits, targets = flatten_members(model(ids, lengths, "right"), labels)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - started) / steps, config, batch, length


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["seed000", "quick"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_flush_denormal(True)
    peaks = {"float32": gemm_peak(torch.float32), "bfloat16": gemm_peak(torch.bfloat16)}
    print(f"GEMM peak: float32 {peaks['float32'] / 1e9:,.0f} GFLOP/s, bfloat16 {peaks['bfloat16'] / 1e9:,.0f} GFLOP/s")
    rows = []
    for preset in args.presets:
        seconds, config, batch, length = step_seconds(preset, args.steps)
        dtype = mixed_precision_dtype(torch.device("cpu"), config.train.mixed_precision)
        precision = "bfloat16" if dtype == torch.bfloat16 else "float32"
        achieved = lstm_flops_per_step(config, batch, length) / seconds
        rows.append({"preset": preset, "batch": batch, "tokens_per_row": length, "precision": precision,
                     "step_seconds": round(seconds, 4), "lstm_gflops": round(achieved / 1e9, 1),
                     "peak_gflops": round(peaks[precision] / 1e9, 1),
                     "share_of_peak": round(achieved / peaks[precision], 3)})
        print(json.dumps(rows[-1]), flush=True)
    report = {"machine": cpuinfo_line("model name") or "unknown CPU", "threads": torch.get_num_threads(),
              "torch": torch.__version__, "peaks_gflops": {k: round(v / 1e9, 1) for k, v in peaks.items()},
              "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
