"""benchmarks/seed_spread.py: each run's validation columns, and a recipe's mean and spread over its seeds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from seed_spread import COLUMNS, score_run, summarise

from conftest import TINY_CONFIG, train_tiny_run
from test_negation import write_treebank


def test_summarise_gives_the_mean_and_the_sample_spread_of_every_column():
    rows = [dict.fromkeys(COLUMNS, value) for value in (0.90, 0.92, 0.94)]
    summary = summarise(rows)
    assert summary["runs"] == 3
    for column in COLUMNS:
        assert summary[column]["mean"] == pytest.approx(0.92)
        assert summary[column]["sd"] == pytest.approx(0.02)
    assert summarise(rows[:1])["combined_val"]["sd"] == 0.0


@pytest.mark.slow
def test_a_run_is_scored_on_validation_data_and_by_check(tmp_path, small_archive):
    run = train_tiny_run(tmp_path, small_archive, 1, TINY_CONFIG, "--no-test")
    treebank = write_treebank(tmp_path / "sst.zip", train=["(4 (2 It) (4 (2 is) (4 superb)))"],
                              dev=["(4 (2 It) (4 (2 is) (4 superb)))", "(0 (2 It) (0 (2 is) (0 awful)))"],
                              test=["(0 (2 It) (0 (2 is) (0 awful)))"])
    row = score_run(run, str(small_archive), str(treebank))
    metrics = json.loads((run / "metrics.json").read_text())
    assert row["combined_val"] == metrics["accuracy"] and metrics["split"] == "validation"
    assert row["sst2_dev"] in (0.0, 0.5, 1.0)  # two dev sentences
    assert all(0.0 <= row[column] <= 1.0 for column in COLUMNS)
    (tmp_path / "tested").mkdir()
    tested = train_tiny_run(tmp_path / "tested", small_archive, 1)  # its metrics.json holds test figures
    with pytest.raises(SystemExit, match="--no-test"):
        score_run(tested, str(small_archive), str(treebank))


def test_a_run_without_metrics_is_refused_by_name(tmp_path):
    done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "benchmarks" / "seed_spread.py"),
                           "--imdb", "x", "--sst", "y", "--run", f"recipe={tmp_path}"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and f"--run recipe={tmp_path}" in done.stderr and "metrics.json" in done.stderr
