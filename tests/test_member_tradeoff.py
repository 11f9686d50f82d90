"""benchmarks/member_tradeoff.py: the refitted mixes weigh what they are given."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from member_tradeoff import Scored, fitted_mix, mix_logits

from lstm_sentiment.ngram_fit import fit_mix


def scored(lstm, ngram, labels, short) -> Scored:
    found = Scored.__new__(Scored)  # without a model: the logits are given
    found.lstm, found.ngram = np.asarray(lstm, float), np.asarray(ngram, float)
    found.labels, found.short = np.asarray(labels), np.asarray(short, float)
    return found


def test_constructions_weighed_in_turn_the_ngram_member_down():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    sign = 2.0 * labels - 1.0
    # natural texts: both members right, the n-gram member noisier; constructions: the n-gram member backwards
    validation = scored(sign + rng.normal(0, 1.0, 400), sign + rng.normal(0, 1.5, 400), labels, np.zeros(400))
    constructions = scored(sign + rng.normal(0, 1.0, 400), -sign + rng.normal(0, 1.5, 400), labels, np.ones(400))
    rows, construction_rows = np.arange(400), np.arange(400)

    alone = fitted_mix(validation, constructions, rows, construction_rows, 0.0, False)
    expected = fit_mix(validation.lstm, validation.ngram, labels.tolist())
    assert np.allclose(alone["weights"], [expected["lstm"], expected["ngram"]])
    weighed = fitted_mix(validation, constructions, rows, construction_rows, 1.0, False)
    assert alone["weights"][1] > 0 > weighed["weights"][1]
    # a second mix for short texts: the constructions are all short here, so their n-gram weight goes there
    apart = fitted_mix(validation, constructions, rows, construction_rows, 1.0, True)
    assert len(apart["weights"]) == 5 and apart["weights"][1] > 0 > apart["weights"][1] + apart["weights"][3]
    logits = mix_logits(apart, constructions.inputs(True))
    assert ((logits >= 0) == (labels == 1)).mean() > 0.75
