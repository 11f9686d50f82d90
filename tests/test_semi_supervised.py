"""Virtual adversarial training and entropy minimisation (semi_supervised.py): the perturbation it finds, the
unlabelled batches, the objective inside fit, and exact resume with it on."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from conftest import TINY_CONFIG
from lstm_sentiment.adversarial import EmbeddingPerturbation
from lstm_sentiment.config import Config, ModelConfig, TrainConfig
from lstm_sentiment.data.prepare import EncodedSplit
from lstm_sentiment.distributed import Cluster
from lstm_sentiment.errors import UserError
from lstm_sentiment.faults import FaultInjector
from lstm_sentiment.model import SentimentClassifier
from lstm_sentiment.semi_supervised import (
    SemiSupervised,
    UnlabelledReviews,
    binary_entropy,
    binary_kl,
    logits_of_embedded,
    virtual_adversarial_loss,
)
from lstm_sentiment.training_run import batch_streams
from test_resume import fingerprint, run, train_command


def tiny_classifier() -> SentimentClassifier:
    torch.manual_seed(0)
    model = SentimentClassifier(ModelConfig(embedding_dim=8, hidden_sizes=[6], bidirectional=True,
                                            pooling="maxmean", embedding_dropout=0.0, output_dropout=0.0), 20)
    with torch.no_grad():
        model.head.weight.mul_(20)  # confident predictions: a perturbation has something to change
    return model.eval()


def test_the_virtual_adversarial_direction_raises_the_kl_more_than_random_ones():
    model = tiny_classifier()
    ids, lengths = torch.randint(2, 20, (6, 7)), torch.full((6,), 7)
    epsilon = 0.5
    torch.manual_seed(1)
    adversarial = float(virtual_adversarial_loss(model, ids, lengths, epsilon).detach())
    embedded = model.embedding(ids).detach()
    clean = logits_of_embedded(model, embedded, lengths, "right")
    norm = embedded.pow(2).sum(dim=(1, 2), keepdim=True).sqrt()
    generator = torch.Generator().manual_seed(2)
    random_kls = []
    for _ in range(20):
        direction = torch.randn(embedded.shape, generator=generator)
        direction = epsilon * norm * direction / direction.pow(2).sum(dim=(1, 2), keepdim=True).sqrt()
        with torch.no_grad():
            random_kls.append(float(binary_kl(clean, logits_of_embedded(model, embedded + direction, lengths,
                                                                         "right"))))
    assert adversarial > 0 and adversarial > max(random_kls)


def test_kl_and_entropy_of_bernoulli_predictions():
    logits = torch.tensor([-2.0, 0.0, 3.0])
    assert float(binary_kl(logits, logits)) == pytest.approx(0.0, abs=1e-7)
    assert float(binary_kl(torch.tensor([2.0]), torch.tensor([-2.0]))) > 0
    assert float(binary_entropy(torch.tensor([0.0]))) == pytest.approx(np.log(2))
    assert float(binary_entropy(torch.tensor([8.0]))) < 0.01


def test_unlabelled_batches_keep_the_last_maxlen_tokens_and_repeat_for_a_seed():
    flat = np.array([5, 6, 7, -1, 8, -1, -1, 9, 10, 11, 12, -1], dtype=np.int32)  # an empty document too
    reviews = UnlabelledReviews(flat, maxlen=3)
    assert len(reviews) == 3
    ids, lengths = reviews.batch(16, torch.Generator().manual_seed(0))
    rows = {tuple(row[: length].tolist()) for row, length in zip(ids, lengths)}
    assert rows <= {(5, 6, 7), (8,), (10, 11, 12)} and len(rows) == 3
    again = reviews.batch(16, torch.Generator().manual_seed(0))
    assert torch.equal(ids, again[0]) and torch.equal(lengths, again[1])


def test_the_unlabelled_batch_takes_its_own_size_and_length_when_set():
    split = EncodedSplit(ids=torch.randint(2, 20, (10, 6)), lengths=torch.full((10,), 6),
                         labels=torch.tensor([0, 1] * 5), words=torch.full((10,), 6))
    unlabelled = np.concatenate([np.append(np.arange(2, 2 + n), -1) for n in (30, 12, 25)]).astype(np.int64)
    data = SimpleNamespace(splits={"train": split, "validation": split}, unlabelled_ids=unlabelled)

    def first_unlabelled(**train_keys):
        config = Config()
        config.data.maxlen, config.train.batch_size, config.train.virtual_adversarial = 20, 4, 0.1
        for key, value in train_keys.items():
            setattr(config.train, key, value)
        train_batches, _, _ = batch_streams(config, data, Cluster(), torch.device("cpu"), FaultInjector(""))
        return next(iter(train_batches(0))).unlabelled

    ids, lengths = first_unlabelled()
    assert ids.shape[0] == 4 and int(lengths.max()) <= 20  # defaults: train.batch_size, data.maxlen
    ids, lengths = first_unlabelled(unlabelled_batch_size=7, unlabelled_maxlen=5)
    assert ids.shape == (7, 5) and torch.all(lengths == 5)
    with pytest.raises(UserError, match="unlabelled_batch_size"):
        TrainConfig(unlabelled_batch_size=-1).validate()


def test_the_objective_adds_its_terms_only_in_training_and_with_an_unlabelled_batch():
    model = tiny_classifier().train()

    class Batch:
        ids, lengths, labels = torch.randint(2, 20, (4, 5)), torch.full((4,), 5), torch.tensor([1, 0, 1, 1])

    forward = lambda net, batch: (net(batch.ids, batch.lengths, "right"), batch.labels)
    plain = SemiSupervised(forward, torch.device("cpu"), False, model=model, epsilon=0.0)
    semi = SemiSupervised(forward, torch.device("cpu"), False, model=model, epsilon=0.3, entropy_weight=1.0)
    base = float(plain.loss(model, Batch)[0])
    assert float(semi.loss(model, Batch)[0]) == pytest.approx(base)  # no unlabelled batch: the labelled loss
    Batch.unlabelled = (torch.randint(2, 20, (3, 6)), torch.full((3,), 6))
    assert float(semi.loss(model, Batch)[0]) > base
    model.eval()
    assert float(semi.loss(model, Batch)[0]) == pytest.approx(float(plain.loss(model, Batch)[0]))


def test_adversarial_training_beside_them_perturbs_the_labelled_batch_alone():
    """train.adversarial's hook follows the labelled batch's gradient, and its second pass adds the labelled loss
    only: the unlabelled terms are counted once (a batch of another length once crashed the perturbed pass)."""
    model = tiny_classifier().train()

    class Batch:
        ids, lengths, labels = torch.randint(2, 20, (4, 5)), torch.full((4,), 5), torch.tensor([1, 0, 1, 1])
        unlabelled = (torch.randint(2, 20, (3, 9)), torch.full((3,), 9))

    forward = lambda net, batch: (net(batch.ids, batch.lengths, "right"), batch.labels)
    plain = SemiSupervised(forward, torch.device("cpu"), False, model=model, epsilon=0.0)
    semi = SemiSupervised(forward, torch.device("cpu"), False, model=model, epsilon=0.3, entropy_weight=1.0)
    with EmbeddingPerturbation(model.embedding, 0.05) as perturbation:
        semi.loss(model, Batch)[0].backward()
        assert perturbation.armed()
        with perturbation.perturbed():
            perturbed = float(semi.adversarial_loss(model, Batch))
        assert perturbed != pytest.approx(float(plain.loss(model, Batch)[0]))  # the perturbation moved it
    assert float(semi.adversarial_loss(model, Batch)) == pytest.approx(float(plain.loss(model, Batch)[0]))


def test_semi_supervised_training_needs_a_single_classifier():
    config = Config()
    config.model.members, config.train.virtual_adversarial = 2, 0.1
    with pytest.raises(UserError, match="single classifier"):
        config.validate()
    assert TrainConfig(entropy_minimisation=0.5).semi_supervised


def test_a_killed_run_with_virtual_adversarial_training_resumes_bit_identically(tmp_path, small_archive):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_CONFIG)
    extra = ("--set", "train.virtual_adversarial=0.05", "--set", "train.entropy_minimisation=0.1",
             "--set", "train.adversarial=0.05", "--set", "train.unlabelled_maxlen=9")
    reference = run(train_command(tmp_path / "reference", config, small_archive, *extra))
    assert reference.returncode == 0, reference.stderr
    out = tmp_path / "run"
    killed = run(train_command(out, config, small_archive, *extra), fault="step:19")  # mid-epoch 2
    assert killed.returncode != 0
    resumed = run([sys.executable, "-m", "lstm_sentiment", "train", "--resume", str(out), "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    assert fingerprint(out) == fingerprint(tmp_path / "reference")
    plain = run(train_command(tmp_path / "plain", config, small_archive))
    assert plain.returncode == 0 and fingerprint(tmp_path / "plain")[0] != fingerprint(out)[0]  # it changed training
