"""benchmarks/member_abstain.py: texts the member reads nothing of are rescored, the rest keep the saved mix."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from member_abstain import scored_three_ways

from lstm_sentiment.data.text import tokenize
from lstm_sentiment.ngram import NgramMember


class StubPredictor:
    """Given LSTM logits; the real member's features, mixes and combine."""

    def __init__(self, lstm: list[float]) -> None:
        self.lstm = np.asarray(lstm)
        self.ngram = NgramMember(grams=["dull"], weights=np.array([-2.0], np.float32), bias=-0.5, order=1,
                                 mix={"lstm": 1.0, "ngram": 1.0, "bias": 0.0}, negation_scope="sentence",
                                 sentence_mix={"lstm": 2.0, "ngram": 1.0, "bias": -1.0, "words": 60})

    def encode_with_ngrams(self, texts):
        tokenized = [tokenize(text) for text in texts]
        return None, torch.tensor([len(tokens) for tokens in tokenized]), self.ngram.scores(tokenized)

    def logits_of(self, ids, lengths):
        return self.lstm


def test_only_the_unread_texts_lose_the_sentence_mixs_constant():
    texts = ["It isn't dull.", "It is dull."]  # the first is unread by a "sentence" member
    labels = np.array([1, 0])
    row = scored_three_ways(StubPredictor([0.4, -0.3]), texts, labels)
    # as saved: 2 x 0.4 + (-0.5) - 1 = -0.7 (wrong) and 2 x -0.3 + (-2.5) - 1 (right)
    assert row == {"texts": 2, "unread": 1, "as saved": 0.5, "LSTM alone": 1.0, "mix without its constant": 1.0}
