"""The training loop on its own: checkpoints, divergence, stop requests; no LSTM needed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lstm_sentiment.checkpoint import Progress, load_checkpoint, save_checkpoint
from lstm_sentiment.config import TrainConfig
from lstm_sentiment.errors import UserError
from lstm_sentiment.train import Checkpointing, fit


def toy_problem(poison_at: int | None = None):
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long()
    model = nn.Linear(4, 1)
    calls = {"n": 0}

    def batches(epoch):
        return [(x[i: i + 8], y[i: i + 8]) for i in range(0, 64, 8)]

    def forward(net, batch):
        calls["n"] += net.training
        logits = net(batch[0]).squeeze(-1)
        if poison_at is not None and calls["n"] == poison_at:
            logits = logits * float("nan")
        return logits, batch[1]

    return model, batches, (lambda: batches(0)), forward


def test_non_finite_loss_names_the_step_and_keeps_the_last_checkpoint(tmp_path):
    model, batches, val, forward = toy_problem(poison_at=11)  # epoch 2, step 3
    saved = []

    def save(net, best, optimizer, scheduler, state):
        save_checkpoint(tmp_path, net, best, optimizer, scheduler, state, {"config": {}, "options": {}})
        saved.append((state.epoch, state.step))

    config = TrainConfig(epochs=3, learning_rate=0.1)
    with pytest.raises(UserError, match="non-finite loss at epoch 2, step 3"):
        fit(model, batches, 8, val, forward, config, torch.device("cpu"), progress=False,
            checkpointing=Checkpointing(save, every_steps=2))
    checkpoint = load_checkpoint(tmp_path)
    assert (checkpoint.progress.epoch, checkpoint.progress.step) == saved[-1] == (2, 2)
    assert all(torch.isfinite(t).all() for t in checkpoint.model.values())


def test_resuming_in_process_continues_exactly(tmp_path):
    config = TrainConfig(epochs=3, learning_rate=0.05, schedule="onecycle", optimizer="adamw")
    model, batches, val, forward = toy_problem()
    full = fit(model, batches, 8, val, forward, config, torch.device("cpu"), progress=False)

    model, batches, val, forward = toy_problem()
    states = []

    def save(net, best, optimizer, scheduler, state: Progress):
        save_checkpoint(tmp_path, net, best, optimizer, scheduler, state, {"config": {}, "options": {}})
        states.append(state.step)
        if len(states) == 3:  # epoch 1 step 3, epoch 1 step 6, end of epoch 1 -> stop here
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(model, batches, 8, val, forward, config, torch.device("cpu"), progress=False,
            checkpointing=Checkpointing(save, every_steps=3))
    model, batches, val, forward = toy_problem()
    torch.manual_seed(123)  # whatever happened since, the checkpoint restores every generator
    resumed = fit(model, batches, 8, val, forward, config, torch.device("cpu"), progress=False,
                  resume=load_checkpoint(tmp_path))
    assert [row["train_loss"] for row in resumed.history] == [row["train_loss"] for row in full.history]
    for name, tensor in full.best_state.items():
        assert torch.equal(tensor, resumed.best_state[name])
