"""Print the results rows (README, docs/results.md) from finished run directories.

    python scripts/results_table.py RUN_DIR ...

Runs of the same preset with different seeds also get a summary row: mean and sample standard deviation.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

HEADER = ("| preset | seed | test split (n) | accuracy | precision | recall | F1 | ROC-AUC | epochs | wall time "
          "| test acc >= 0.88 after | machine | command |")


def load(run_dir: Path) -> tuple[dict, dict]:
    return (json.loads((run_dir / "metrics.json").read_text()), json.loads((run_dir / "config.json").read_text()))


def row(run_dir: Path) -> str:
    metrics, config = load(run_dir)
    name = metrics.get("preset") or re.sub(r"-(final|v\d+)$", "", run_dir.name)
    split = f"pooled 20% ({metrics['n']:,})" if config["data"]["pool"] else f"official test ({metrics['n']:,})"
    reached = metrics.get("time_to_accuracy") or {}
    tracking = f" --time-to-accuracy {reached['target']}" if reached else ""
    command = (f"`lstm-sentiment train --preset {name} --data aclImdb_v1.tar.gz --seed {metrics['seed']} --no-cache"
               f"{tracking}`")
    to_target = (f"{reached['seconds'] / 60:.1f} min (epoch {reached['epoch']})" if reached.get("epoch")
                 else ("not reached" if reached else "-"))
    return (f"| `{name}` | {metrics['seed']} | {split} | {metrics['accuracy']:.4f} | {metrics['precision']:.4f} | "
            f"{metrics['recall']:.4f} | {metrics['f1']:.4f} | {metrics['roc_auc']:.4f} | "
            f"{metrics['epochs_run']} (best {metrics['best_epoch']}) | {metrics['seconds'] / 60:.1f} min | "
            f"{to_target} | {metrics['machine']} | {command} |")


def summary(name: str, runs: list[dict]) -> str:
    accuracy = [m["accuracy"] for m in runs]
    minutes = [m["seconds"] / 60 for m in runs]
    spread = statistics.stdev(accuracy) if len(accuracy) > 1 else 0.0
    return (f"| **`{name}` mean of {len(runs)}** | {', '.join(str(m['seed']) for m in runs)} | | "
            f"**{statistics.mean(accuracy):.4f}** ± {spread:.4f} (min {min(accuracy):.4f}, max {max(accuracy):.4f}) "
            f"| | | | | | {statistics.mean(minutes):.1f} min (max {max(minutes):.1f}) | | | |")


if __name__ == "__main__":
    print(HEADER)
    print("|" + " --- |" * HEADER.count(" | ") + " --- |")
    groups = defaultdict(list)
    for folder in map(Path, sys.argv[1:]):
        print(row(folder))
        metrics, _ = load(folder)
        groups[metrics.get("preset")].append(metrics)
    for name, runs in groups.items():
        if len(runs) > 1:
            print(summary(name, runs))
