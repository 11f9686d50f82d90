"""benchmarks/member_rescope.py: a member refitted into a copy of a run, for validation-only runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import train_tiny_run

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "member_rescope.py"


def rescope(run: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--imdb", "x", "--sst", "y", "--run", str(run), "--out",
                           str(out), "--member-scope", "sentence"], capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_tested_runs_taken_copies_and_runs_without_a_member_are_refused_by_name(tmp_path, small_archive):
    tested = train_tiny_run(tmp_path, small_archive, 1)  # its metrics.json holds test figures
    done = rescope(tested, tmp_path / "copy")
    assert done.returncode == 2 and "use a --no-test run" in done.stderr and not (tmp_path / "copy").exists()
    metrics = json.loads((tested / "metrics.json").read_text())
    (tested / "metrics.json").write_text(json.dumps({**metrics, "split": "validation"}))
    done = rescope(tested, tmp_path)  # the copy's place is taken
    assert done.returncode == 2 and f"{tmp_path} exists" in done.stderr
    done = rescope(tested, tmp_path / "copy")  # the tiny configuration fits no member (ngram.order = 0)
    assert done.returncode == 2 and "no n-gram member" in done.stderr and not (tmp_path / "copy").exists()
