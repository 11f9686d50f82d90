"""benchmarks/baselines.py: the bag-of-words baselines fit, score and write JSON only (no pickle)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from test_treebank import write_treebank

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from baselines import NBSVM, TfidfLogistic


def test_nbsvm_ratios_point_the_right_way_and_both_baselines_learn():
    texts = ["great film", "wonderful great", "awful film", "dull awful"] * 5
    labels = [1, 1, 0, 0] * 5
    nbsvm = NBSVM(1.0).fit(texts, labels)
    vocabulary = nbsvm.vectorizer.vocabulary_
    ratios = nbsvm.ratios.diagonal()
    assert ratios[vocabulary["great"]] > 0 > ratios[vocabulary["awful"]]
    assert abs(ratios[vocabulary["film"]]) < 1e-9  # as often in both classes
    for model in (nbsvm, TfidfLogistic(1.0).fit(texts, labels)):
        assert np.all((model.probabilities(["great wonderful", "awful dull"]) > 0.5) == [True, False])


def test_the_benchmark_runs_end_to_end_and_writes_json_only(tmp_path, small_archive):
    sst = write_treebank(tmp_path / "sst.zip")
    out = tmp_path / "results" / "baselines.json"
    finished = subprocess.run([sys.executable, str(BENCHMARKS / "baselines.py"), "--imdb", str(small_archive),
                               "--sst", str(sst), "--train", f"imdb={small_archive}",
                               "--train", f"both={small_archive}+{sst}:phrases+verbs+lexicon+setphrases", "--out", str(out)],
                              check=False, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    result = json.loads(out.read_text())
    assert [row["model"] for row in result["rows"]] == [
        "TF-IDF (1-2 grams) + LR, trained on imdb", "NBSVM (1-3 grams), trained on imdb",
        "TF-IDF (1-2 grams) + LR, trained on both", "NBSVM (1-3 grams), trained on both"]
    assert all(0 <= row["imdb_test"] <= 1 and "mft_pass_rate" in row["check"] for row in result["rows"])
    assert [row["verb_opinions"] for row in result["rows"]] == [0, 0, 4, 4]
    assert [row["lexicon_words"] for row in result["rows"]] == ["none", "none"] + ["vader-calibrated"] * 2
    assert result["rows"][2]["training_examples"] > 3000  # the lexicon's words the small trees lack
    assert [row["idioms"] for row in result["rows"]] == [0, 0, 8, 8]
    assert sorted(path.name for path in out.parent.iterdir()) == ["baselines.json"]
    assert "| NBSVM (1-3 grams), trained on imdb |" in finished.stdout
