"""Print the README results rows from finished run directories: python scripts/results_table.py RUN_DIR ..."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def row(run_dir: Path) -> str:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    name = metrics.get("preset") or re.sub(r"-(final|v\d+)$", "", run_dir.name)
    split = f"pooled 20% ({metrics['n']:,})" if config["data"]["pool"] else f"official test ({metrics['n']:,})"
    command = f"`lstm-sentiment train --preset {name} --data aclImdb_v1.tar.gz --seed {metrics['seed']}`"
    return (f"| `{name}` | {split} | {metrics['accuracy']:.4f} | {metrics['precision']:.4f} | "
            f"{metrics['recall']:.4f} | {metrics['f1']:.4f} | {metrics['roc_auc']:.4f} | "
            f"{metrics['epochs_run']} (best {metrics['best_epoch']}) | {metrics['seconds'] / 60:.1f} min | {command} |")


if __name__ == "__main__":
    print("| preset | test split (n) | accuracy | precision | recall | F1 | ROC-AUC | epochs | wall time | command |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for folder in sys.argv[1:]:
        print(row(Path(folder)))
