"""On the real aclImdb archive (when present): stats counts, and a tiny model that clearly beats chance."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lstm_sentiment.cli import main

ARCHIVE = Path(os.environ.get("LSTM_SENTIMENT_REAL_DATA",
                              Path(__file__).resolve().parents[2] / "shared" / "data" / "aclImdb_v1.tar.gz"))
pytestmark = [pytest.mark.real_data, pytest.mark.slow,
              pytest.mark.skipif(not ARCHIVE.exists(), reason=f"real archive not found at {ARCHIVE}")]


def test_stats_report_the_official_counts(capsys):
    assert main(["data", "stats", "--data", str(ARCHIVE), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert [stats["splits"][s]["total"] for s in ("train", "test", "unsup")] == [25000, 25000, 50000]
    assert stats["splits"]["train"]["positive"] == 12500


def test_tiny_model_on_a_few_thousand_reviews_beats_chance(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--data", str(ARCHIVE), "--out", str(out), "--limit", "3000", "--epochs", "3", "--quiet",
                 "--set", "train.learning_rate=0.003", "--set", "data.maxlen=100",
                 "--set", "model.recurrent_dropout=0.0", "--set", "model.pooling=max", "--set", "data.num_words=5000"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 25000
    assert metrics["accuracy"] > 0.65, metrics
