"""Training steps per second of a preset's classifier (default `quick`) with glibc's default allocator settings
and with `keep_freed_memory()` (what every `lstm-sentiment` command now sets), as a ratio measured in one run.

    python benchmarks/allocator.py [--preset quick] [--rounds 5] [--steps 12] [--out FILE.json]

The allocator setting lasts for the life of a process, so each round starts two fresh child processes, one per
setting, in alternating order; each child times the same training steps (same seed, same batches) after a
warm-up and reports seconds per step and the minor page faults it took. The ratio is the median of the
per-round ratios, which holds on a noisy shared machine where absolute times do not.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

LENGTHS = (150, 300, 600)  # bucketed batches of short, typical and truncated reviews (quick: maxlen 600)
BATCH = 64
VOCAB = 5000


def child(keep: bool, steps: int, preset: str) -> dict:
    """Time `steps` training steps of the preset's classifier on fixed random batches."""
    import torch

    from lstm_sentiment.allocator import keep_freed_memory
    from lstm_sentiment.config_io import load_preset
    from lstm_sentiment.model import build_classifier
    from lstm_sentiment.runtime import autocast

    if keep:
        keep_freed_memory()
    torch.manual_seed(0)
    config = load_preset(preset)
    model = build_classifier(config.model, VOCAB).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    device = torch.device("cpu")
    batches = [(torch.randint(2, VOCAB, (BATCH, length)), torch.full((BATCH,), length),
                torch.randint(0, 2, (BATCH,)).float()) for length in LENGTHS]

    def step(k: int) -> None:
        ids, lengths, labels = batches[k % len(batches)]
        with autocast(device, True):
            logits = model(ids, lengths, "right")
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for k in range(len(batches)):  # warm-up: first-call costs and the allocator's first growth
        step(k)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    started = time.perf_counter()
    for k in range(steps):
        step(k)
    seconds = (time.perf_counter() - started) / steps
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds_per_step": seconds, "minor_faults_per_step": (usage.ru_minflt - faults) / steps,
            "peak_resident_mb": usage.ru_maxrss / 1024}  # Linux reports kilobytes


def run_child(keep: bool, steps: int, preset: str) -> dict:
    command = [sys.executable, __file__, "--child", "keep" if keep else "default", "--steps", str(steps),
               "--preset", preset]
    finished = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="quick", help="whose classifier to train (batches of 64 always)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per child (a multiple of 3 "
                                                               "gives every length the same weight)")
    parser.add_argument("--child", choices=("default", "keep"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help="JSON file (default: benchmarks/results/allocator-PRESET.json)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child == "keep", args.steps, args.preset)))
        return
    rounds = []
    for index in range(args.rounds):
        order = (False, True) if index % 2 == 0 else (True, False)
        measured = {keep: run_child(keep, args.steps, args.preset) for keep in order}
        rounds.append({"default": measured[False], "keep_freed_memory": measured[True],
                       "speedup": measured[False]["seconds_per_step"] / measured[True]["seconds_per_step"]})
        print(f"round {index + 1}: default {measured[False]['seconds_per_step']:.3f} s/step, "
              f"keep_freed_memory {measured[True]['seconds_per_step']:.3f} s/step, "
              f"speedup {rounds[-1]['speedup']:.2f}x", flush=True)

    def median(setting: str, key: str) -> float:
        return statistics.median(row[setting][key] for row in rounds)

    summary = {"machine": f"{platform.processor() or platform.machine()}, torch {__import__('torch').__version__}",
               "preset": args.preset, "batch": BATCH, "lengths": LENGTHS, "steps": args.steps, "rounds": rounds,
               "median_speedup": statistics.median(row["speedup"] for row in rounds)}
    print("\n| allocator | s/step | minor page faults/step | peak resident memory | speedup |\n"
          "| --- | --- | --- | --- | --- |")
    for setting, label in (("default", "glibc default"), ("keep_freed_memory", "keep_freed_memory()")):
        speedup = 1.0 if setting == "default" else summary["median_speedup"]
        print(f"| {label} | {median(setting, 'seconds_per_step'):.3f} | "
              f"{median(setting, 'minor_faults_per_step'):,.0f} | {median(setting, 'peak_resident_mb'):,.0f} MB | "
              f"{speedup:.2f}x |")
    out = Path(args.out or Path(__file__).parent / "results" / f"allocator-{args.preset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
