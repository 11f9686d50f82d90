"""Validation columns of several runs per recipe, and each recipe's mean and spread over its seeds.

    python benchmarks/seed_spread.py --imdb aclImdb_v1.tar.gz --sst trainDevTestTrees_PTB.zip \\
        --run recipe=runs/recipe-s2 --run recipe=runs/recipe-s3 --run idioms=runs/idioms-s2 ... \\
        [--out benchmarks/results/seed_spread.json]

Why: a recipe chosen because it scored best at seeds 0 and 1 scores above its own mean at those seeds (the
winner's curse), so a new option compared with it at the same seeds starts behind. Comparing on seeds the recipe
was not chosen with, and reporting the spread, is what tells an option's effect from the draw of a seed.
Columns, all on validation data only (the test splits are not read): the run's combined validation accuracy (its
metrics.json: IMDb reviews of held-out movies plus the treebank's dev sentences), `lstm-sentiment evaluate
--split validation` on each source, and `check`'s summary. Each run directory is scored as saved.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

COLUMNS = ("combined_val", "imdb_val", "sst2_dev", "check_mft_failure_mean", "check_worst_negation")


def cli_json(*args: str) -> dict:
    done = subprocess.run(["lstm-sentiment", *args, "--json"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"lstm-sentiment {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def score_run(run: Path, imdb: str, sst: str) -> dict:
    metrics = json.loads((run / "metrics.json").read_text())
    if metrics.get("split") != "validation":
        sys.exit(f"{run}/metrics.json holds {metrics.get('split')} figures: score runs trained with --no-test")
    check = cli_json("check", "--model", str(run))["summary"]
    return {
        "seed": metrics.get("seed"),
        "combined_val": metrics["accuracy"],
        "imdb_val": cli_json("evaluate", "--model", str(run), "--data", imdb, "--split", "validation")["accuracy"],
        "sst2_dev": cli_json("evaluate", "--model", str(run), "--data", sst, "--split", "validation")["accuracy"],
        "check_mft_failure_mean": check["mft_failure_rate_mean"],
        "check_worst_negation": check["negation_failure_rate_max"],
    }


def summarise(rows: list[dict]) -> dict:
    """Mean and sample standard deviation of each column over a recipe's runs."""
    summary = {"runs": len(rows)}
    for column in COLUMNS:
        values = [row[column] for row in rows]
        summary[column] = {"mean": statistics.fmean(values),
                           "sd": statistics.stdev(values) if len(values) > 1 else 0.0}
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imdb", required=True, help="aclImdb_v1.tar.gz or its folder")
    parser.add_argument("--sst", required=True, help="trainDevTestTrees_PTB.zip or its folder")
    parser.add_argument("--run", action="append", required=True, metavar="RECIPE=DIR",
                        help="a run directory and the recipe it belongs to; repeatable")
    parser.add_argument("--out", help="write runs and summaries as JSON here")
    args = parser.parse_args()
    recipes: dict[str, list[dict]] = {}
    for spec in args.run:
        recipe, _, directory = spec.partition("=")
        if not directory or not (Path(directory) / "metrics.json").is_file():
            parser.error(f"--run {spec}: expected RECIPE=DIR with DIR a run directory holding metrics.json")
        row = {"run": directory, **score_run(Path(directory), args.imdb, args.sst)}
        recipes.setdefault(recipe, []).append(row)
        print(f"{recipe:<28} seed {row['seed']}: " + "  ".join(f"{c} {row[c]:.4f}" for c in COLUMNS), flush=True)
    summaries = {recipe: summarise(rows) for recipe, rows in recipes.items()}
    print()
    for recipe, summary in summaries.items():
        print(f"{recipe:<28} {summary['runs']} runs: "
              + "  ".join(f"{c} {summary[c]['mean']:.4f} ± {summary[c]['sd']:.4f}" for c in COLUMNS))
    if args.out:
        Path(args.out).write_text(json.dumps({"runs": recipes, "summaries": summaries}, indent=2) + "\n")


if __name__ == "__main__":
    main()
