"""Subnormal floats are flushed to zero where our commands run, and the caller's setting is restored after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from lstm_sentiment import cli, training_run
from lstm_sentiment.runtime import denormals_flushed, flush_denormals

x86_only = pytest.mark.skipif(not torch.set_flush_denormal(False), reason="flushing subnormals is an x86 feature")

# A command run through cli.main multiplies 4M subnormals: the work is split over torch's worker threads, so every
# thread must flush for the product to be all zeros.
CHILD = """
import json, torch
from lstm_sentiment import cli
seen = {}
def probe(args):
    product = torch.full((4_000_000,), 1e-39).mul(1.0001)
    seen["nonzero"] = int((product != 0).sum())
    return 0
cli.COMMANDS["presets"] = probe
code = cli.main(["presets"])
seen["after"] = bool(torch.tensor([1e-40]).mul(1.0).item() == 0.0)
print(json.dumps(seen))
"""


@x86_only
def test_the_block_flushes_and_restores_the_callers_setting():
    assert not denormals_flushed()
    with flush_denormals() as took:
        assert took is True
        assert denormals_flushed()
        assert torch.tensor([1e-40]).mul(1.0).item() == 0.0
    assert not denormals_flushed()  # library callers who did not ask for it get their setting back


@x86_only
def test_a_caller_who_flushes_already_keeps_it():
    torch.set_flush_denormal(True)
    try:
        with flush_denormals():
            pass
        assert denormals_flushed()
    finally:
        torch.set_flush_denormal(False)


def test_disabled_block_changes_nothing():
    with flush_denormals(enabled=False) as took:
        assert took is False
        assert not denormals_flushed()


@x86_only
def test_every_worker_thread_of_a_command_flushes():
    finished = subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, text=True,
                              env={**os.environ, "OMP_NUM_THREADS": "2"})
    seen = json.loads(finished.stdout.strip().splitlines()[-1])
    assert seen == {"nonzero": 0, "after": False}


@x86_only
def test_training_runs_with_subnormals_flushed(monkeypatch):
    seen = []

    def fake_run(*args):
        seen.append(denormals_flushed())
        return {}

    monkeypatch.setattr(training_run, "_train_run", fake_run)
    monkeypatch.setattr(training_run, "join_cluster",
                        lambda device: type("C", (), {"barrier": lambda self: None, "is_main": True})())
    config = type("Config", (), {"train": type("Train", (), {"device": "cpu"})()})()
    options = SimpleNamespace(overwrite=False, replaces=None)
    training_run.train_run(config, options, None, resume=object())  # a resumed run: no output directory to claim
    assert seen == [True] and not denormals_flushed()


@x86_only
def test_pretraining_runs_with_subnormals_flushed(monkeypatch):
    from lstm_sentiment import pretrain

    seen = []
    monkeypatch.setattr(pretrain, "_pretrain_run", lambda *args: seen.append(denormals_flushed()) or {})
    pretrain.pretrain_run(None, SimpleNamespace(overwrite=False, replaces=None), None, resume=object())
    assert seen == [True] and not denormals_flushed()


@x86_only
def test_cli_commands_run_inside_the_block(monkeypatch):
    seen = []
    monkeypatch.setitem(cli.COMMANDS, "presets", lambda args: seen.append(denormals_flushed()) or 0)
    assert cli.main(["presets"]) == 0
    assert seen == [True] and not denormals_flushed()


@x86_only
def test_benchmarks_can_keep_subnormals(monkeypatch):
    seen = []
    monkeypatch.setenv("LSTM_SENTIMENT_FLUSH_DENORMALS", "0")
    monkeypatch.setitem(cli.COMMANDS, "presets", lambda args: seen.append(denormals_flushed()) or 0)
    assert cli.main(["presets"]) == 0
    assert seen == [False]
