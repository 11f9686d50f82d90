"""The classifier: padding side invisible, save -> load gives the same logits, pooling options."""

from __future__ import annotations

import pytest
import torch

from lstm_sentiment.config import Config, ModelConfig
from lstm_sentiment.data.vocab import Vocabulary
from lstm_sentiment.model import SentimentClassifier
from lstm_sentiment.model_dir import save_model_files
from lstm_sentiment.predict import load_model


def batch_both_sides(lengths, steps, vocab_size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    left = torch.zeros(len(lengths), steps, dtype=torch.long)
    right = torch.zeros_like(left)
    for b, length in enumerate(lengths):
        tokens = torch.randint(2, vocab_size, (length,), generator=generator)
        left[b, steps - length:] = tokens
        right[b, :length] = tokens
    return left, right, torch.tensor(lengths)


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "maxmean", "maxmeanlast"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("path", ["explicit", "fused"])
def test_logits_do_not_depend_on_padding_side(pooling, bidirectional, path):
    torch.manual_seed(0)
    model = SentimentClassifier(ModelConfig(embedding_dim=6, hidden_sizes=[5, 4], bidirectional=bidirectional,
                                            pooling=pooling, lstm_path=path), vocab_size=30).double().eval()
    left, right, lengths = batch_both_sides([7, 2, 5], 7, 30)
    from_left = model(left, lengths, "left")
    from_right = model(right, lengths, "right")
    torch.testing.assert_close(from_left, from_right, rtol=1e-10, atol=1e-12)
    alone = torch.stack([model(right[b: b + 1, : int(n)], lengths[b: b + 1], "right")[0]
                         for b, n in enumerate(lengths)])
    torch.testing.assert_close(from_right, alone, rtol=1e-10, atol=1e-12)


def test_explicit_and_fused_paths_agree_in_the_classifier():
    torch.manual_seed(1)
    config = ModelConfig(embedding_dim=6, hidden_sizes=[5], bidirectional=True, pooling="maxmean")
    model = SentimentClassifier(config, 30).double().eval()
    left, _, lengths = batch_both_sides([7, 3], 7, 30)
    for lstm in model.lstms:
        lstm.path = "explicit"
    explicit = model(left, lengths, "left")
    for lstm in model.lstms:
        lstm.path = "fused"
    torch.testing.assert_close(explicit, model(left, lengths, "left"), rtol=1e-10, atol=1e-12)


def test_save_then_load_gives_the_same_logits(tmp_path):
    torch.manual_seed(2)
    config = Config()
    config.data.maxlen, config.model.embedding_dim, config.model.hidden_sizes = 10, 6, [5]
    vocab = Vocabulary(["<pad>", "<unk>", "good", "bad", "film"])
    model = SentimentClassifier(config.model, vocab.size).eval()
    save_model_files(tmp_path, model, config, vocab)
    predictor = load_model(tmp_path)
    assert predictor.vocab.tokens == vocab.tokens
    ids, lengths = predictor.encode(["good film", "bad bad film unknownword"])
    torch.testing.assert_close(predictor.model(ids, lengths, "left"), model(ids, lengths, "left"))
    assert ids[1].tolist()[-4:] == [3, 3, 4, 1]


def test_embedding_initialisation_choices():
    uniform = SentimentClassifier(ModelConfig(embedding_dim=8, hidden_sizes=[4]), 50).embedding.weight.detach()
    assert float(uniform.abs().max()) <= 0.05 and torch.all(uniform[0] == 0)
    normal = SentimentClassifier(ModelConfig(embedding_dim=8, hidden_sizes=[4], embedding_init="normal"), 50)
    assert float(normal.embedding.weight.detach().abs().max()) > 0.5  # N(0, 1)


def test_word_dropout_replaces_words_with_unknown_only_in_training(monkeypatch):
    torch.manual_seed(0)
    model = SentimentClassifier(ModelConfig(embedding_dim=4, hidden_sizes=[3], word_dropout=0.5), vocab_size=50)
    seen = []
    monkeypatch.setattr(model.embedding, "forward", lambda ids: seen.append(ids.clone()) or torch.zeros(
        *ids.shape, 4))
    _, right, lengths = batch_both_sides([6, 3], 6, 50)
    model.eval()
    model(right, lengths, "right")
    model.train()
    model(right, lengths, "right")
    evaluated, trained = seen
    assert torch.equal(evaluated, right)
    changed = trained != right
    assert changed.any() and (trained[changed] == 1).all()  # replaced by <unk>, never anything else
    assert (trained[right == 0] == 0).all()  # padding stays padding


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "maxmean", "maxmeanlast"])
def test_the_config_counts_the_weights_the_model_holds(pooling):
    config = ModelConfig(embedding_dim=6, hidden_sizes=[5, 4], bidirectional=True, pooling=pooling)
    model = SentimentClassifier(config, vocab_size=30)
    assert config.parameter_count(30) == sum(p.numel() for p in model.parameters())


def test_maxmeanlast_reads_the_final_states_beside_max_and_mean():
    torch.manual_seed(3)
    config = ModelConfig(embedding_dim=6, hidden_sizes=[5], bidirectional=True, pooling="maxmeanlast")
    model = SentimentClassifier(config, vocab_size=30).double().eval()
    _, right, lengths = batch_both_sides([7, 3], 7, 30)
    outputs, final, _ = model.encode(right, lengths, "right")
    pooled = model.pool(outputs, final, lengths, "right")
    assert pooled.shape == (2, 3 * 10)
    torch.testing.assert_close(pooled[:, 20:], final)
    maxmean = SentimentClassifier(ModelConfig(embedding_dim=6, hidden_sizes=[5], bidirectional=True,
                                              pooling="maxmean"), vocab_size=30).double().eval()
    torch.testing.assert_close(pooled[:, :20], maxmean.pool(outputs, final, lengths, "right"))

