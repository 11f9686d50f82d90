"""Print the README results rows from finished run directories: python scripts/results_table.py RUN_DIR ..."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def row(run_dir: Path) -> str:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    name = run_dir.name.removesuffix("-final")
    command = f"`lstm-sentiment train --preset {name} --data aclImdb_v1.tar.gz --seed {metrics['seed']}`"
    return (f"| `{name}` | {metrics['accuracy']:.4f} | {metrics['f1']:.4f} | {metrics['roc_auc']:.4f} | "
            f"{metrics['best_epoch']} of {metrics['epochs_run']} | {metrics['seconds'] / 60:.1f} min | "
            f"{metrics['machine']} | {command} |"
            + ("" if config["data"]["pool"] is False else " <!-- pooled 80/20 split -->"))


if __name__ == "__main__":
    print("| preset | test accuracy | F1 | ROC-AUC | best epoch | wall time | machine | command |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for folder in sys.argv[1:]:
        print(row(Path(folder)))
