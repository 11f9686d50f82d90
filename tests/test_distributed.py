"""torchrun with 2 processes (gloo, CPU) must train exactly what one process trains with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from conftest import TINY_CONFIG

pytestmark = pytest.mark.slow

# No dropout and no bf16, so the two runs differ only in how the arithmetic is split between processes.
EXACT = TINY_CONFIG.replace('pooling = "max"', '''pooling = "maxmean"
bidirectional = true
embedding_dropout = 0.0
output_dropout = 0.0
word_dropout = 0.0
dropout = 0.0
recurrent_dropout = 0.0''').replace("learning_rate = 0.02", "learning_rate = 0.01\nmixed_precision = false")


def launch(processes: int, arguments: list[str], fault: str | None = None) -> subprocess.CompletedProcess:
    command = ["-m", "lstm_sentiment", "train", *arguments, "--quiet"]
    if processes > 1:
        command = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}", *command]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    environment.pop("LSTM_SENTIMENT_FAULT", None)
    if fault:
        environment["LSTM_SENTIMENT_FAULT"] = fault
    return subprocess.run([sys.executable, *command], check=False, capture_output=True, text=True, env=environment,
                          timeout=600)


def train(tmp_path: Path, archive: Path, out: str, processes: int, fault: str | None = None,
          config_text: str = EXACT) -> Path:
    config = tmp_path / "exact.toml"
    config.write_text(config_text)
    result = launch(processes, ["--config", str(config), "--data", str(archive), "--out", str(tmp_path / out),
                                "--no-cache", "--device", "cpu"], fault)
    assert (result.returncode == 0) == (fault is None), result.stdout[-3000:] + result.stderr[-3000:]
    return tmp_path / out


def max_difference(run_a: Path, run_b: Path) -> float:
    one, two = load_file(str(run_a / "model.safetensors")), load_file(str(run_b / "model.safetensors"))
    assert one.keys() == two.keys()
    return max(float((one[name] - two[name]).abs().max()) for name in one)


# Adversarial training: each process perturbs its own reviews from its own gradients (the perturbation of a review
# does not depend on the others), and the clean and perturbed gradients are averaged across processes once.
@pytest.mark.parametrize("adversarial", [0.0, 0.05])
def test_two_processes_train_the_same_weights_as_one(tmp_path, small_archive, adversarial):
    config_text = EXACT.replace("mixed_precision = false", f"mixed_precision = false\nadversarial = {adversarial}")
    assert f"adversarial = {adversarial}" in config_text
    single = train(tmp_path, small_archive, "single", 1, config_text=config_text)
    double = train(tmp_path, small_archive, "ddp", 2, config_text=config_text)
    assert sorted(p.name for p in single.iterdir()) == sorted(p.name for p in double.iterdir())
    assert max_difference(single, double) <= 1e-6
    history_one = json.loads((single / "history.json").read_text())
    history_two = json.loads((double / "history.json").read_text())
    for a, b in zip(history_one, history_two):  # losses and accuracies reduced over both processes
        for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
            assert abs(a[key] - b[key]) <= 1e-5, key
    metrics = json.loads((double / "metrics.json").read_text())
    assert metrics["accuracy"] == json.loads((single / "metrics.json").read_text())["accuracy"]


def test_a_killed_distributed_run_resumes_to_the_same_weights(tmp_path, small_archive):
    uninterrupted = train(tmp_path, small_archive, "whole", 2)
    killed = train(tmp_path, small_archive, "killed", 2, fault="epoch-end:1")  # rank 0 dies after epoch 1
    assert (killed / "checkpoint.safetensors").exists() and not (killed / "metrics.json").exists()
    result = launch(2, ["--resume", str(killed)])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert max_difference(uninterrupted, killed) <= 1e-6
    assert json.loads((killed / "metrics.json").read_text())["resumed"] is True
