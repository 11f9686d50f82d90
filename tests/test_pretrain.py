"""Language-model pretraining: the sampled softmax estimates the full one, streams continue, runs resume
exactly, and fine-tuning starts from the pretrained weights (or refuses ones that do not fit)."""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from conftest import TINY_CONFIG
from lstm_sentiment.cli import main
from lstm_sentiment.config import ModelConfig, PretrainConfig
from lstm_sentiment.config_io import load_config_file, load_preset
from lstm_sentiment.data.vocab import PAD_ID, Vocabulary
from lstm_sentiment.errors import UserError
from lstm_sentiment.language_model import ENCODER, LanguageModel, batchify
from lstm_sentiment.model import SentimentClassifier
from lstm_sentiment.pretrain import document_stream, windows
from lstm_sentiment.training_run import pretrained_encoder
from test_resume import run

TINY_PRETRAIN = TINY_CONFIG.replace("[model]", "[model]\nbidirectional = true") + """
[pretrain]
epochs = 2
streams = 4
bptt = 8
negatives = 16
validation_tokens = 200
learning_rate = 0.01
"""


@pytest.fixture
def pretrain_config(tiny_config) -> Path:
    tiny_config.write_text(TINY_PRETRAIN)
    return tiny_config


def tiny_lm(vocab: int = 50, negatives: int = 16, streams: int = 2) -> LanguageModel:
    torch.manual_seed(0)
    return LanguageModel(ModelConfig(embedding_dim=6, hidden_sizes=[5]), PretrainConfig(negatives=negatives, dropout=0),
                         vocab, streams)


def test_sampled_softmax_estimates_the_full_softmax():
    """With many samples the corrected sampled loss approaches the exact cross-entropy (it is a biased but
    consistent estimate), so pretraining optimises the right objective."""
    lm = tiny_lm(negatives=200_000)
    lm.set_sampling(torch.arange(50, 0, -1).float())
    with torch.no_grad():
        lm.embedding.weight.normal_(0, 1)
    features, targets = torch.randn(64, 6), torch.randint(1, 50, (64,))
    torch.manual_seed(1)
    with torch.no_grad():
        exact, n = lm.eval().loss(features, targets)
        sampled, _ = lm.train().loss(features, targets)
    assert n == 64
    assert float(sampled) == pytest.approx(float(exact), rel=0.02)


def test_boundary_targets_are_not_scored():
    lm = tiny_lm().eval()
    targets = torch.tensor([3, PAD_ID, 4, PAD_ID])
    loss, n = lm.loss(torch.randn(4, 6), targets)
    assert n == 2 and math.isfinite(loss.item())


def test_carried_state_makes_two_windows_equal_one_long_window():
    """Windows taken left to right continue each stream: the state carried over is the true LSTM state."""
    lm = tiny_lm().eval()
    ids = torch.randint(2, 50, (2, 17))
    with torch.no_grad():
        whole, _ = lm(ids, ids)
        lm.reset_states()
        first, _ = lm(ids[:, :9], ids[:, :9])
        second, _ = lm(ids[:, 8:], ids[:, 8:])
    assert float(first + second) == pytest.approx(float(whole), rel=1e-5)


def test_windows_overlap_by_one_token_and_cover_the_stream():
    stream = torch.arange(2, 42)
    rows = batchify(stream, 2)  # [2, 20]
    pieces = list(windows(rows, rows.flip(1), 4))
    assert len(pieces) == 4 and all(f.shape == (2, 5) for f, _ in pieces)
    assert torch.equal(pieces[0][0][:, -1], pieces[1][0][:, 0])
    assert torch.equal(torch.cat([pieces[0][0]] + [f[:, 1:] for f, _ in pieces[1:]], 1), rows[:, :17])


def test_document_stream_keeps_every_token_in_a_seeded_order():
    flat = np.array([5, 6, -1, 7, -1, 8, 9, 10, -1])
    one, again, other = (document_stream(flat, 0, 1), document_stream(flat, 0, 1), document_stream(flat, 0, 2))
    assert torch.equal(one, again)
    assert sorted(one.tolist()) == sorted(np.where(flat == -1, PAD_ID, flat).tolist())
    assert (one == PAD_ID).sum() == 3 and one[-1] == PAD_ID
    assert len(one) == len(other)


def test_encoder_state_fits_the_bidirectional_classifier():
    lm = tiny_lm()
    classifier = SentimentClassifier(ModelConfig(embedding_dim=6, hidden_sizes=[5], bidirectional=True), 50)
    own = classifier.state_dict()
    for name, tensor in lm.encoder_state().items():
        assert own[name].shape == tensor.shape, name


def pretrain_args(out: Path, config: Path, data: Path, *extra: str) -> list[str]:
    return ["pretrain", "--config", str(config), "--data", str(data), "--out", str(out), "--quiet", "--no-cache",
            *extra]


def test_pretrain_then_fine_tune(tmp_path, pretrain_config, small_archive, capsys):
    lm_dir = tmp_path / "lm"
    assert main(pretrain_args(lm_dir, pretrain_config, small_archive)) == 0
    assert "validation perplexity" in capsys.readouterr().out
    metrics = json.loads((lm_dir / "metrics.json").read_text())
    history = json.loads((lm_dir / "history.json").read_text())
    assert len(history) == 2 and history[1]["val_perplexity"] < history[0]["val_perplexity"]
    assert 1 < metrics["validation_perplexity"] < 60  # 60 words in the vocabulary: better than uniform
    # the classifier starts from the encoder: check the copy directly, then a whole fine-tuning run
    config = load_config_file(pretrain_config)
    vocab = Vocabulary.load(lm_dir / "vocab.json")
    model = SentimentClassifier(config.model, vocab.size)
    parameters = pretrained_encoder(model, lm_dir, config, vocab, load=True)
    encoder = load_file(str(lm_dir / ENCODER))
    assert len(parameters) == len(encoder) == 9
    for name, tensor in encoder.items():
        assert torch.equal(model.state_dict()[name], tensor), name
    out = tmp_path / "classifier"
    assert main(["train", "--config", str(pretrain_config), "--data", str(small_archive), "--out", str(out),
                 "--quiet", "--no-cache", "--pretrained", str(lm_dir), "--set", "train.freeze_encoder_epochs=1"]) == 0
    fine_tuned = {k.removeprefix("model."): v for k, v in load_file(str(out / "checkpoint.safetensors")).items()}
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2
    assert not torch.equal(fine_tuned["embedding.weight"], encoder["embedding.weight"])  # unfrozen in epoch 2


def test_fine_tuning_refuses_a_language_model_that_does_not_fit(tmp_path, pretrain_config, small_archive, capsys):
    lm_dir = tmp_path / "lm"
    assert main(pretrain_args(lm_dir, pretrain_config, small_archive, "--epochs", "1")) == 0
    base = ["train", "--config", str(pretrain_config), "--data", str(small_archive), "--quiet", "--no-cache",
            "--pretrained", str(lm_dir)]
    own = load_config_file(pretrain_config)
    assert main([*base, "--out", str(tmp_path / "a"), "--set", "model.hidden_sizes=[16]"]) == 2
    # the error names the setting and the override that fits the language model
    assert f"fine-tune with --set model.hidden_sizes={own.model.hidden_sizes}" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "b"), "--set", "data.num_words=20"]) == 2
    assert f"data.num_words ({own.data.num_words} in the language model, 20 here)" in capsys.readouterr().err
    assert main([*base[:-1], str(tmp_path), "--out", str(tmp_path / "c")]) == 2
    assert "encoder.safetensors" in capsys.readouterr().err


def test_refit_on_every_training_review_from_a_language_model(tmp_path, pretrain_config, small_archive, capsys):
    """The language model held out validation reviews; the final refit trains on all of them with the language
    model's vocabulary, keeps the last epoch and reports the test split only."""
    lm_dir = tmp_path / "lm"
    assert main(pretrain_args(lm_dir, pretrain_config, small_archive, "--epochs", "1")) == 0
    refit = ["train", "--config", str(pretrain_config), "--data", str(small_archive), "--quiet", "--no-cache",
             "--pretrained", str(lm_dir), "--set", "data.validation_split=0"]
    assert main([*refit, "--out", str(tmp_path / "refit")]) == 0
    metrics = json.loads((tmp_path / "refit" / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["validation"] is None
    assert metrics["best_epoch"] == metrics["epochs_run"] == 2 and metrics["train_size"] == 120
    history = json.loads((tmp_path / "refit" / "history.json").read_text())
    assert [row["val_loss"] for row in history] == [None, None]
    assert (tmp_path / "refit" / "vocab.json").read_text() == (lm_dir / "vocab.json").read_text()
    assert (tmp_path / "refit" / "curves.png").stat().st_size > 0
    assert main([*refit, "--out", str(tmp_path / "no-test"), "--no-test"]) == 2
    assert "leave out --no-test" in capsys.readouterr().err
    assert main(pretrain_args(tmp_path / "lm0", pretrain_config, small_archive, "--set", "data.validation_split=0")) == 2
    assert "validation_split must be > 0" in capsys.readouterr().err


@pytest.mark.parametrize("fault", ["step:5", "epoch-end:1", "checkpoint-write:2"])
def test_killed_pretraining_resumes_bit_identically(tmp_path, pretrain_config, small_archive, fault):
    def command(out: Path) -> list[str]:
        return [sys.executable, "-m", "lstm_sentiment",
                *pretrain_args(out, pretrain_config, small_archive, "--checkpoint-every", "4")]

    def fingerprint(out: Path):
        encoder = hashlib.sha256((out / ENCODER).read_bytes()).hexdigest()
        history = [{k: v for k, v in row.items() if k != "seconds"}
                   for row in json.loads((out / "history.json").read_text())]
        return encoder, history

    reference, killed = tmp_path / "reference", tmp_path / "killed"
    assert run(command(reference)).returncode == 0
    assert run(command(killed), fault=fault).returncode == -9
    resumed = run([sys.executable, "-m", "lstm_sentiment", "pretrain", "--resume", str(killed), "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    assert fingerprint(killed) == fingerprint(reference)


def test_resume_with_the_wrong_command_names_the_right_one(tmp_path, pretrain_config, small_archive, capsys):
    lm_dir = tmp_path / "lm"
    assert main(pretrain_args(lm_dir, pretrain_config, small_archive, "--epochs", "1")) == 0
    assert main(["train", "--resume", str(lm_dir)]) == 2
    assert f"lstm-sentiment pretrain --resume {lm_dir}" in capsys.readouterr().err


def test_fine_tuning_with_virtual_adversarial_training_and_an_ngram_member(tmp_path, pretrain_config, small_archive):
    """`best`'s candidate route: the unlabelled reviews are read with the language model's vocabulary, and the
    n-gram member is mixed beside the fine-tuned LSTM on validation (not refitted on it under --no-test)."""
    lm_dir = tmp_path / "lm"
    assert main(pretrain_args(lm_dir, pretrain_config, small_archive, "--epochs", "1")) == 0
    out = tmp_path / "classifier"
    assert main(["train", "--config", str(pretrain_config), "--data", str(small_archive), "--out", str(out),
                 "--quiet", "--no-cache", "--no-test", "--pretrained", str(lm_dir),
                 "--set", "train.virtual_adversarial=0.02", "--set", "train.unlabelled_batch_size=3",
                 "--set", "train.unlabelled_maxlen=7", "--set", "ngram.order=2", "--set", "ngram.min_count=1"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "validation" and metrics["members"]["ngram_fit"]["refit"] is False
    assert set(metrics["members"]["ngram_fit"]["validation_accuracy"]) == {"lstm", "ngram", "combined"}
    assert (out / "ngram.safetensors").exists()
    config = json.loads((out / "config.json").read_text())
    assert config["train"]["unlabelled_batch_size"] == 3 and config["train"]["unlabelled_maxlen"] == 7


def test_the_best_presets_refit_without_its_member_is_the_only_refit():
    """`best` carries an n-gram member mixed on validation: its old refit command is refused with the fix named,
    and the documented one (`ngram.order=0`) is accepted."""
    config = load_preset("best")
    assert config.ngram.order == 3
    config.data.validation_split = 0
    with pytest.raises(UserError, match="ngram.order = 0 to refit the LSTM alone"):
        config.validate()
    config.ngram.order = 0
    config.validate()
