"""model.sentence_head_tokens: short texts scored by a head of their own, each head learning from its own texts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import TINY_CONFIG, train_tiny_run
from lstm_sentiment.cli import main
from lstm_sentiment.config import Config, ModelConfig
from lstm_sentiment.errors import UserError
from lstm_sentiment.model import SentimentClassifier
from lstm_sentiment.predict import load_model
from test_model import batch_both_sides

SHORT_BELOW = 5  # texts of fewer tokens go to the sentence head


def routed_model(seed: int = 0, **overrides) -> SentimentClassifier:
    torch.manual_seed(seed)
    config = ModelConfig(embedding_dim=6, hidden_sizes=[5], bidirectional=True, pooling="maxmean",
                         sentence_head_tokens=SHORT_BELOW, **overrides)
    config.validate()
    return SentimentClassifier(config, vocab_size=30).double().eval()


def test_each_text_is_scored_by_the_head_its_length_picks():
    model = routed_model()
    _, right, lengths = batch_both_sides([7, 2, 4, 5], 7, 30)
    outputs, final, _ = model.encode(right, lengths, "right")
    review = model.head(model.pool(outputs, final, lengths, "right", "maxmean")).squeeze(-1)
    sentence = model.sentence_head(model.pool(outputs, final, lengths, "right", "maxmeanlast")).squeeze(-1)
    logits = model(right, lengths, "right")
    short = lengths < SHORT_BELOW
    torch.testing.assert_close(logits[short], sentence[short])
    torch.testing.assert_close(logits[~short], review[~short])
    assert not torch.allclose(review, sentence)  # the two heads differ, so the check above tells them apart


def test_an_adding_sentence_head_adds_to_the_review_head_on_short_texts_only():
    model = routed_model(sentence_pooling="last", sentence_head_adds=True)
    _, right, lengths = batch_both_sides([7, 2, 4, 5], 7, 30)
    outputs, final, _ = model.encode(right, lengths, "right")
    review = model.head(model.pool(outputs, final, lengths, "right")).squeeze(-1)
    logits = model(right, lengths, "right")
    short = lengths < SHORT_BELOW
    torch.testing.assert_close(logits[short], review[short] + model.sentence_head(final[short]).squeeze(-1))
    torch.testing.assert_close(logits[~short], review[~short])
    model.train()
    model(right, lengths, "right")[short].sum().backward()  # sentences teach both heads
    assert all(float(p.grad.abs().sum()) > 0 for p in [*model.head.parameters(), *model.sentence_head.parameters()])


def test_a_head_learns_only_from_the_texts_it_scores():
    model = routed_model().train()
    _, right, lengths = batch_both_sides([7, 6, 2], 7, 30)
    for chosen, silent in ((lengths >= SHORT_BELOW, "sentence_head"), (lengths < SHORT_BELOW, "head")):
        model.zero_grad()
        model(right, lengths, "right")[chosen].sum().backward()
        assert all(float(p.grad.abs().sum()) == 0 for p in getattr(model, silent).parameters())
        other = "head" if silent == "sentence_head" else "sentence_head"
        assert all(float(p.grad.abs().sum()) > 0 for p in getattr(model, other).parameters())


@pytest.mark.parametrize("path", ["explicit", "fused"])
def test_padding_side_stays_invisible_with_two_heads(path):
    model = routed_model(lstm_path=path)
    left, right, lengths = batch_both_sides([7, 2, 5, 4], 7, 30)
    torch.testing.assert_close(model(left, lengths, "left"), model(right, lengths, "right"), rtol=1e-10, atol=1e-12)


def test_the_config_counts_both_heads():
    config = ModelConfig(embedding_dim=6, hidden_sizes=[5], bidirectional=True, pooling="maxmean",
                         sentence_head_tokens=SHORT_BELOW)
    assert config.parameter_count(30) == sum(p.numel() for p in SentimentClassifier(config, 30).parameters())


@pytest.mark.parametrize("overrides, named", [
    ({"model": {"sentence_head_tokens": -1}}, "model.sentence_head_tokens"),
    ({"model": {"sentence_head_tokens": 201}}, "model.sentence_head_tokens must not exceed data.maxlen"),
    ({"model": {"sentence_head_tokens": 10, "sentence_pooling": "attention"}}, "model.sentence_pooling"),
])
def test_bad_settings_are_refused_by_name(overrides, named):
    config = Config()
    for section, values in overrides.items():
        for key, value in values.items():
            setattr(getattr(config, section), key, value)
    with pytest.raises(UserError, match=named):
        config.validate()


@pytest.fixture(scope="module")
def routed_run(tmp_path_factory, small_archive):
    config = TINY_CONFIG.replace('pooling = "max"', 'pooling = "maxmean"\nsentence_head_tokens = 12')
    return train_tiny_run(tmp_path_factory.mktemp("routed"), small_archive, 1, config,
                          "--set", "model.bidirectional=true")


def test_a_saved_model_keeps_its_sentence_head(routed_run):
    saved = json.loads((routed_run / "config.json").read_text())
    assert saved["model"]["sentence_head_tokens"] == 12
    assert json.loads((routed_run / "metrics.json").read_text())["sentence_head_tokens"] == 12
    model = load_model(routed_run).model
    assert model.sentence_head is not None
    texts = ["great film", "awful " * 20]
    first = load_model(routed_run).probabilities(texts)
    np.testing.assert_allclose(first, load_model(routed_run).probabilities(texts), rtol=0, atol=0)


def test_onnx_export_routes_as_pytorch_does(routed_run):
    assert main(["export", "--model", str(routed_run), "--onnx", str(routed_run / "model.onnx")]) == 0
    texts = ["great superb film", "awful", "the plot " * 8, "x " * 70, "wonderful. " * 3]
    np.testing.assert_allclose(load_model(routed_run, backend="onnx").probabilities(texts, 32),
                               load_model(routed_run).probabilities(texts, 32), atol=1e-5)
