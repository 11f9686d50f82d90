"""Adversarial training on word vectors: the perturbation's size and direction, and the loss fit then learns from."""

from __future__ import annotations

import torch
from torch import nn

import lstm_sentiment.train as train_module
from lstm_sentiment.adversarial import EmbeddingPerturbation
from lstm_sentiment.config import ModelConfig, TrainConfig
from lstm_sentiment.model import SentimentClassifier
from lstm_sentiment.objectives import BinaryCrossEntropy
from lstm_sentiment.train import FitOptions, fit


def tiny_classifier() -> SentimentClassifier:
    torch.manual_seed(0)
    config = ModelConfig(embedding_dim=8, hidden_sizes=[6], bidirectional=True, pooling="maxmean")
    return SentimentClassifier(config, vocab_size=20)


def loss_of(model, ids, lengths, labels):
    return nn.functional.binary_cross_entropy_with_logits(model(ids, lengths, "right"), labels.float())


def test_perturbation_has_relative_size_epsilon_and_follows_the_gradient():
    model = tiny_classifier()
    ids, lengths, labels = torch.randint(2, 20, (3, 7)), torch.tensor([7, 5, 2]), torch.tensor([1, 0, 1])
    ids[1, 5:], ids[2, 2:] = 0, 0
    with EmbeddingPerturbation(model.embedding, epsilon=0.05) as perturbation:
        model.train()
        loss_of(model, ids, lengths, labels).backward()
        assert perturbation.armed()
        embedded = model.embedding.weight[ids].detach()  # not through the layer: the hook would record it
        model.zero_grad()
        reference = embedded.clone().requires_grad_()
        model.eval()
        nn.functional.binary_cross_entropy_with_logits(
            model.classify(*model.encode_embedded(reference, lengths, "right")[:2], lengths, "right"),
            labels.float()).backward()
        with perturbation.perturbed():
            shifted = model.embedding(ids)
        r = shifted - embedded
        for row in range(3):
            assert torch.allclose(r[row].norm(), 0.05 * embedded[row].norm(), rtol=1e-4)
        # the clean pass ran with dropout, the reference without: compare directions, not values
        cosine = nn.functional.cosine_similarity(r.flatten(), reference.grad.flatten(), dim=0)
        assert cosine > 0.5
        assert torch.equal(model.embedding(ids), embedded)  # outside the block, nothing is added
    assert not model.embedding._forward_hooks  # the hook leaves with the block


def test_a_small_step_along_the_perturbation_raises_the_loss():
    model = tiny_classifier()
    model.eval()  # no dropout: the clean and perturbed passes see the same network
    ids, lengths, labels = torch.randint(2, 20, (4, 6)), torch.full((4,), 6), torch.tensor([1, 0, 1, 0])
    with EmbeddingPerturbation(model.embedding, epsilon=0.01) as perturbation:
        model.embedding.train()  # the hook records in training mode only
        clean = loss_of(model, ids, lengths, labels)
        clean.backward()
        with perturbation.perturbed(), torch.no_grad():
            perturbed = loss_of(model, ids, lengths, labels)
    assert perturbed > clean.detach()


def test_a_frozen_embedding_gives_no_gradient_to_follow():
    model = tiny_classifier()
    model.embedding.weight.requires_grad_(False)
    with EmbeddingPerturbation(model.embedding, epsilon=0.05) as perturbation:
        model.train()
        loss_of(model, torch.randint(2, 20, (2, 4)), torch.tensor([4, 4]), torch.tensor([0, 1])).backward()
        assert not perturbation.armed()


def test_fit_learns_from_the_clean_and_the_perturbed_batch(monkeypatch):
    """The gradient of one step is the sum of the clean and the adversarial batch's gradients."""
    ids, lengths, labels = torch.randint(2, 20, (4, 5)), torch.full((4,), 5), torch.tensor([1, 0, 1, 1])
    config = TrainConfig(epochs=1, optimizer="adam", learning_rate=1e-3, grad_clip=0.0, mixed_precision=False,
                         adversarial=0.1)
    forward = lambda net, batch: (net(batch[0], batch[1], "right"), batch[2])

    model = tiny_classifier()
    model.embedding_dropout.p = model.output_dropout.p = 0.0  # deterministic passes
    with EmbeddingPerturbation(model.embedding, epsilon=0.1) as perturbation:
        loss_of(model.train(), ids, lengths, labels).backward()
        with perturbation.perturbed():
            loss_of(model, ids, lengths, labels).backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}

    model = tiny_classifier()
    model.embedding_dropout.p = model.output_dropout.p = 0.0
    seen = {}

    class Recorder(torch.optim.Adam):
        def step(self, closure=None):
            seen.update({name: p.grad.clone() for name, p in model.named_parameters()})
            return super().step(closure)

    monkeypatch.setattr(train_module, "make_optimizer",
                        lambda net, cfg, encoder=None: Recorder(net.parameters(), lr=cfg.learning_rate))
    objective = BinaryCrossEntropy(forward, torch.device("cpu"), config.mixed_precision,
                                   lambda: [(ids, lengths, labels)])
    fit(model, objective, lambda epoch: [(ids, lengths, labels)], 1, config, torch.device("cpu"),
        FitOptions(progress=False, embedding=model.embedding))
    for name, gradient in expected.items():
        assert torch.allclose(seen[name], gradient, atol=1e-6), name
    assert not model.embedding._forward_hooks
