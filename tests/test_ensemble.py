"""model.members: an ensemble trains each member on its own loss, predicts with the mean logit, and goes
everywhere a single classifier goes (save/load, pack, evaluate, ONNX)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from conftest import TINY_CONFIG, train_tiny_run
from lstm_sentiment.cli import main
from lstm_sentiment.config import ModelConfig
from lstm_sentiment.model import EnsembleClassifier, SentimentClassifier, build_classifier, flatten_members
from lstm_sentiment.model_dir import load_model_files
from lstm_sentiment.predict import load_model

CONFIG = ModelConfig(embedding_dim=6, hidden_sizes=[5], bidirectional=True, pooling="maxmean", members=3)
REVIEWS = ["a great wonderful film", "an awful boring mess", "fine", "x " * 40]


def batch(vocab_size=40, size=4, steps=9, seed=0):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, vocab_size, (size, steps), generator=generator)
    return ids, torch.full((size,), steps), torch.tensor([0, 1, 1, 0])


def test_a_single_classifier_is_built_unchanged_and_members_start_apart():
    torch.manual_seed(0)
    single = build_classifier(ModelConfig(embedding_dim=6, hidden_sizes=[5]), 40)
    assert isinstance(single, SentimentClassifier) and "embedding.weight" in single.state_dict()
    ensemble = build_classifier(CONFIG, 40)
    assert isinstance(ensemble, EnsembleClassifier) and len(ensemble.members) == 3
    first, second = (member.embedding.weight for member in ensemble.members[:2])
    assert not torch.equal(first, second)


def test_training_gives_each_member_its_own_loss_and_evaluation_averages_logits():
    torch.manual_seed(0)
    model = build_classifier(CONFIG, 40).double()
    ids, lengths, labels = batch()
    model.train()
    rows = model(ids, lengths, "right")
    assert rows.shape == (3, 4)
    logits, repeated = flatten_members(rows, labels)
    nn.functional.binary_cross_entropy_with_logits(logits, repeated.double()).backward()
    together = [p.grad.clone() for p in model.members[0].parameters()]
    model.zero_grad()
    own = model.members[0](ids, lengths, "right")
    nn.functional.binary_cross_entropy_with_logits(own, labels.double()).backward()
    for shared, alone in zip(together, model.members[0].parameters(), strict=True):
        torch.testing.assert_close(shared, alone.grad / 3)  # the mean of 3 losses: no term from other members
    model.eval()
    mean = torch.stack([member(ids, lengths, "right") for member in model.members]).mean(0)
    torch.testing.assert_close(model(ids, lengths, "right"), mean)


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory, small_archive):
    return train_tiny_run(tmp_path_factory.mktemp("ensemble"), small_archive, 2,
                          TINY_CONFIG.replace('pooling = "max"', 'pooling = "maxmean"\nmembers = 2'),
                          "--set", "model.bidirectional=true")


def test_an_ensemble_run_saves_loads_evaluates_and_packs(ensemble_run, small_archive, tmp_path, capsys):
    model, config, _ = load_model_files(ensemble_run)
    assert config.model.members == 2 and isinstance(model, EnsembleClassifier)
    history = json.loads((ensemble_run / "history.json").read_text())
    assert len(history) == 2 and all(0 <= row["train_accuracy"] <= 1 for row in history)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(ensemble_run), "--data", str(small_archive), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 <= report["accuracy"] <= 1 and set(report["by_length"]) == {"<100", "100-299", "300-599", ">=600"}
    assert main(["pack", "--model", str(ensemble_run), "--out", str(tmp_path / "packed")]) == 0
    original = load_model(ensemble_run).probabilities(REVIEWS)
    assert load_model(tmp_path / "packed").probabilities(REVIEWS) == pytest.approx(original, abs=2e-3)


def test_an_ensemble_exports_to_onnx(ensemble_run, tmp_path):
    pytest.importorskip("onnxruntime")
    copy = tmp_path / "copy"
    shutil.copytree(ensemble_run, copy)
    assert main(["export", "--model", str(copy)]) == 0
    np.testing.assert_allclose(load_model(copy, backend="onnx").probabilities(REVIEWS),
                               load_model(copy).probabilities(REVIEWS), atol=1e-5)


@pytest.mark.parametrize("extra, expected", [
    (("--set", "train.adversarial=0.02"), "train.adversarial works on a single classifier"),
    (("--pretrained", "LM_DIR"), "--pretrained fine-tunes a single classifier"),
])
def test_what_an_ensemble_cannot_do_is_refused_by_name(extra, expected, tmp_path, small_archive, tiny_config, capsys):
    code = main(["train", "--config", str(tiny_config), "--data", str(small_archive), "--out", str(tmp_path / "r"),
                 "--set", "model.members=2", *(str(tmp_path) if a == "LM_DIR" else a for a in extra)])
    assert code == 2 and expected in capsys.readouterr().err
