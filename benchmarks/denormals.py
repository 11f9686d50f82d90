"""Epoch times with subnormal floats flushed to zero (the default) and kept, same preset, seed and data, each in a
fresh process, in one run.

    python benchmarks/denormals.py [--presets seed002 seed000] [--data aclImdb_v1.tar.gz]

As LSTM gates saturate, activations and gradients fall into subnormal floats, which x86 cores compute slowly; a
kept-subnormals run's epochs grow longer as training goes on. The table gives each epoch's seconds and the
validation accuracy of both runs (validation only: the test split is never read).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from lstm_sentiment.runtime import cpuinfo_line

RESULTS = Path(__file__).parent / "results" / "denormals.json"


def train(preset: str, data: str, flush: bool, folder: Path) -> list[dict]:
    out = folder / f"{preset}-{'flush' if flush else 'keep'}"
    env = {**os.environ, "LSTM_SENTIMENT_FLUSH_DENORMALS": "1" if flush else "0"}
    subprocess.run([sys.executable, "-m", "lstm_sentiment", "train", "--preset", preset, "--data", data, "--seed",
                    "0", "--no-test", "--quiet", "--out", str(out)], env=env, check=True)
    return json.loads((out / "history.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["seed002"])
    parser.add_argument("--data", default="../shared/data/aclImdb_v1.tar.gz")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for preset in args.presets:
            keep, flush = train(preset, args.data, False, Path(folder)), train(preset, args.data, True, Path(folder))
            rows.append({"preset": preset,
                         "kept_seconds": [round(r["seconds"], 1) for r in keep],
                         "flushed_seconds": [round(r["seconds"], 1) for r in flush],
                         "kept_val_accuracy": [round(r["val_accuracy"], 4) for r in keep],
                         "flushed_val_accuracy": [round(r["val_accuracy"], 4) for r in flush]})
            row = rows[-1]
            ratio = sum(row["flushed_seconds"]) / sum(row["kept_seconds"])
            row["time_ratio"] = round(ratio, 3)
            print(f"{preset}: kept {row['kept_seconds']} s, flushed {row['flushed_seconds']} s "
                  f"(ratio {ratio:.2f}); validation accuracy kept {row['kept_val_accuracy']}, "
                  f"flushed {row['flushed_val_accuracy']}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": cpuinfo_line("model name"), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
