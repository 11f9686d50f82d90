"""The training loop on its own: checkpoints, divergence, stop requests; no LSTM needed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lstm_sentiment.averaging import WeightAverage
from lstm_sentiment.checkpoint import Progress, load_checkpoint, save_checkpoint
from lstm_sentiment.config import TrainConfig
from lstm_sentiment.errors import UserError
from lstm_sentiment.objectives import BinaryCrossEntropy
from lstm_sentiment.train import Checkpointing, FitOptions, fit


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


def run_fit(model, batches, val, forward, config, **options):
    """fit with the classifier objective on CPU, without progress bars."""
    objective = BinaryCrossEntropy(forward, torch.device("cpu"), config.mixed_precision, val)
    return fit(model, objective, batches, 8, config, torch.device("cpu"), FitOptions(progress=False, **options))


def test_non_finite_loss_names_the_step_and_keeps_the_last_checkpoint(tmp_path):
    model, batches, val, forward = toy_problem(poison_at=11)  # epoch 2, step 3
    saved = []

    def save(net, best, optimizer, scheduler, state, average=None, grad_scaler=None):
        save_checkpoint(tmp_path, net, best, optimizer, scheduler, state, {"config": {}, "options": {}})
        saved.append((state.epoch, state.step))

    config = TrainConfig(epochs=3, learning_rate=0.1)
    with pytest.raises(UserError, match="non-finite loss at epoch 2, step 3"):
        run_fit(model, batches, val, forward, config, checkpointing=Checkpointing(save, every_steps=2))
    checkpoint = load_checkpoint(tmp_path)
    assert (checkpoint.progress.epoch, checkpoint.progress.step) == saved[-1] == (2, 2)
    assert all(torch.isfinite(t).all() for t in checkpoint.model.values())


@pytest.mark.parametrize("weight_average", [0.0, 0.9])
def test_resuming_in_process_continues_exactly(tmp_path, weight_average):
    config = TrainConfig(epochs=3, learning_rate=0.05, schedule="onecycle", optimizer="adamw",
                         weight_average=weight_average)
    model, batches, val, forward = toy_problem()
    full = run_fit(model, batches, val, forward, config)

    model, batches, val, forward = toy_problem()
    states = []

    def save(net, best, optimizer, scheduler, state: Progress, average=None, grad_scaler=None):
        save_checkpoint(tmp_path, net, best, optimizer, scheduler, state, {"config": {}, "options": {}},
                        average=average)
        states.append(state.step)
        if len(states) == 3:  # epoch 1 step 3, epoch 1 step 6, end of epoch 1 -> stop here
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_fit(model, batches, val, forward, config, checkpointing=Checkpointing(save, every_steps=3))
    model, batches, val, forward = toy_problem()
    torch.manual_seed(123)  # whatever happened since, the checkpoint restores every generator
    resumed = run_fit(model, batches, val, forward, config, resume=load_checkpoint(tmp_path))
    assert [row["train_loss"] for row in resumed.history] == [row["train_loss"] for row in full.history]
    for name, tensor in full.best_state.items():
        assert torch.equal(tensor, resumed.best_state[name])


def test_weight_average_follows_the_exponential_average_with_its_warm_up():
    model = nn.Linear(2, 1)
    average = WeightAverage(model, decay=0.5)
    expected = model.weight.detach().clone()
    for step in range(1, 6):
        with torch.no_grad():
            model.weight.add_(1.0)
        average.update(model, step)
        decay = min(0.5, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * model.weight.detach()
        assert torch.allclose(average.state_dict()["weight"], expected)


def test_weight_average_is_applied_inside_the_block_only():
    model = nn.Linear(2, 1)
    raw = model.weight.detach().clone()
    average = WeightAverage(model, decay=0.9, state={"weight": torch.zeros(1, 2), "bias": torch.ones(1)})
    with average.applied(model):
        assert torch.equal(model.weight, torch.zeros(1, 2)) and torch.equal(model.bias, torch.ones(1))
    assert torch.equal(model.weight, raw)


def test_fit_validates_and_keeps_the_averaged_weights_not_the_raw_ones():
    model, batches, val, forward = toy_problem()
    seen = {}

    def save(net, best, optimizer, scheduler, state, average=None, grad_scaler=None):
        seen.update(raw={k: v.clone() for k, v in net.state_dict().items()},
                    average={k: v.clone() for k, v in average.items()})

    result = run_fit(model, batches, val, forward, TrainConfig(epochs=1, learning_rate=0.1, weight_average=0.9),
                     checkpointing=Checkpointing(save))
    assert not torch.equal(seen["raw"]["weight"], seen["average"]["weight"])
    for name, tensor in result.best_state.items():
        assert torch.equal(tensor, seen["average"][name])
    assert torch.equal(model.weight, seen["raw"]["weight"])  # the loop leaves its own weights in the model


def test_the_loss_scalers_state_survives_a_checkpoint(tmp_path):
    """float16 training (CUDA without bf16) scales its loss; a resumed run goes on with the scale it had reached
    instead of starting over (here a CPU scaler stands in for the CUDA one: the same state_dict)."""
    net = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=3)
    for _ in range(4):  # the scale doubles after 3 finite steps; the 4th leaves the growth tracker at 1
        optimizer.zero_grad()
        scaler.scale(net(torch.ones(1, 2)).sum()).backward()
        scaler.step(optimizer)
        scaler.update()
    assert scaler.get_scale() == 2048.0
    best = {name: tensor.clone() for name, tensor in net.state_dict().items()}
    save_checkpoint(tmp_path, net, best, optimizer, None, Progress(), {"config": {}, "options": {}},
                    grad_scaler=scaler.state_dict())
    resumed_net = nn.Linear(2, 1)
    resumed = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=3)
    load_checkpoint(tmp_path).restore(resumed_net, torch.optim.SGD(resumed_net.parameters(), lr=0.1), None, resumed)
    assert resumed.state_dict() == scaler.state_dict() and resumed.get_scale() == 2048.0
    assert load_checkpoint(tmp_path).grad_scaler["_growth_tracker"] == 1


def test_divergence_before_any_checkpoint_does_not_promise_one(tmp_path):
    model, batches, val, forward = toy_problem(poison_at=2)  # epoch 1, step 3: nothing saved yet
    config = TrainConfig(epochs=3, learning_rate=0.1)
    with pytest.raises(UserError, match="no checkpoint had been written yet"):
        run_fit(model, batches, val, forward, config, checkpointing=Checkpointing(lambda *args: None, every_steps=0))
