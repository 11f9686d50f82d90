"""Training survives SIGKILL at any point: resumed runs end bit-identical to uninterrupted ones."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TINY_CONFIG

TIMING_KEYS = {"seconds", "elapsed_seconds"}


def train_command(out: Path, config: Path, data: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lstm_sentiment", "train", "--config", str(config), "--data", str(data),
            "--out", str(out), "--quiet", "--no-cache", "--epochs", "3", "--checkpoint-every", "4",
            # dropout everywhere, so the random generators' states matter; recurrent dropout: explicit LSTM path
            "--set", "model.embedding_dropout=0.2", "--set", "model.recurrent_dropout=0.2",
            "--set", "model.output_dropout=0.2", "--set", "train.schedule='onecycle'", *extra]


def run(command: list[str], fault: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("LSTM_SENTIMENT_FAULT", None)
    if fault:
        env["LSTM_SENTIMENT_FAULT"] = fault
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)


def fingerprint(run_dir: Path) -> tuple[str, list[dict], dict]:
    """Weights hash, history and metrics without the wall-clock fields."""
    weights = hashlib.sha256((run_dir / "model.safetensors").read_bytes()).hexdigest()
    history = [{k: v for k, v in row.items() if k not in TIMING_KEYS}
               for row in json.loads((run_dir / "history.json").read_text())]
    metrics = {k: v for k, v in json.loads((run_dir / "metrics.json").read_text()).items()
               if k not in TIMING_KEYS | {"resumed"}}
    return weights, history, metrics


def assert_resumes_identically(out: Path, expected) -> None:
    resumed = run([sys.executable, "-m", "lstm_sentiment", "train", "--resume", str(out), "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    assert fingerprint(out) == expected


@pytest.fixture(scope="module")
def setup(tmp_path_factory, small_archive):
    folder = tmp_path_factory.mktemp("resume")
    config = folder / "tiny.toml"
    config.write_text(TINY_CONFIG)
    reference = folder / "reference"
    result = run(train_command(reference, config, small_archive))
    assert result.returncode == 0, result.stderr
    return folder, config, small_archive, fingerprint(reference)


# 96 training reviews in batches of 8: 12 steps per epoch, checkpoints every 4 steps and at each epoch's end.
@pytest.mark.parametrize("fault", [
    "step:3",  # during epoch 1, before the first checkpoint: resumes from nothing but the start files
    "step:10",  # mid-epoch 1, two checkpoints behind
    "step:19",  # mid-epoch 2
    "epoch-end:1",  # between epochs 1 and 2, right after the epoch's checkpoint
    "checkpoint-write:2",  # while writing a checkpoint: the previous one must still be intact
    "checkpoint-write:6",
])
def test_killed_and_resumed_run_is_bit_identical(setup, fault, tmp_path):
    _folder, config, data, expected = setup
    out = tmp_path / "run"
    killed = run(train_command(out, config, data), fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (out / "metrics.json").exists()
    if fault in ("step:3", "step:10"):  # no epoch finished: the directory must not load as a model
        load = run([sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(out), "fine"])
        assert load.returncode == 2 and "model.safetensors: missing file" in load.stderr
    if fault == "step:3":  # killed before any checkpoint: resume says so, a fresh run is the way on
        refused = run([sys.executable, "-m", "lstm_sentiment", "train", "--resume", str(out), "--quiet"])
        assert refused.returncode == 2 and "no checkpoint" in refused.stderr
        return
    assert_resumes_identically(out, expected)
    assert json.loads((out / "metrics.json").read_text())["resumed"] is True


def start_and_wait_for_a_checkpoint(out: Path, config: Path, data: Path, **popen) -> subprocess.Popen:
    process = subprocess.Popen(train_command(out, config, data), env={**os.environ, "OMP_NUM_THREADS": "1"},
                               **popen)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.safetensors").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return process


def test_kill_at_a_random_moment(setup, tmp_path):
    _folder, config, data, expected = setup
    out = tmp_path / "run"
    process = start_and_wait_for_a_checkpoint(out, config, data, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
    time.sleep(0.05 + (os.getpid() % 7) * 0.03)  # some moment after the first checkpoint
    process.send_signal(signal.SIGKILL)
    process.wait()
    if process.returncode == 0:
        pytest.skip("the run finished before the kill")
    assert_resumes_identically(out, expected)


def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(setup, tmp_path):
    _folder, config, data, expected = setup
    out = tmp_path / "run"
    process = start_and_wait_for_a_checkpoint(out, config, data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                              text=True)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the run finished before the interrupt")
    assert process.returncode == 130
    assert f"lstm-sentiment train --resume {out}" in stderr and "Traceback" not in stderr
    assert_resumes_identically(out, expected)


def test_resume_with_a_different_config_is_refused(setup, tmp_path):
    _folder, config, data, _ = setup
    out = tmp_path / "run"
    assert run(train_command(out, config, data), fault="epoch-end:1").returncode == -signal.SIGKILL
    refused = run([sys.executable, "-m", "lstm_sentiment", "train", "--resume", str(out), "--set",
                   "model.pooling=mean", "--epochs", "5"])
    assert refused.returncode == 2
    assert "model.pooling" in refused.stderr and "train.epochs" in refused.stderr
    assert "Traceback" not in refused.stderr
    same = run([sys.executable, "-m", "lstm_sentiment", "train", "--resume", str(out), "--epochs", "3", "--quiet"])
    assert same.returncode == 0, same.stderr


def test_a_checkpoint_from_before_a_config_key_existed_resumes(setup, tmp_path):
    """A run checkpointed by an earlier version (its config lacks keys added since, e.g. data.eval_maxlen) resumes
    with those keys at their defaults, ending exactly as an uninterrupted run."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    _folder, config, data, expected = setup
    out = tmp_path / "run"
    assert run(train_command(out, config, data), fault="epoch-end:1").returncode == -signal.SIGKILL
    path = out / "checkpoint.safetensors"
    with safe_open(str(path), "pt") as handle:
        metadata = handle.metadata()
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not a dict)
    state = json.loads(metadata["state"])
    del state["config"]["config"]["data"]["eval_maxlen"]
    older = {key: value for key, value in metadata.items() if key != "state_sha256"}  # written before digests
    save_file(tensors, str(path), metadata={**older, "state": json.dumps(state)})
    assert_resumes_identically(out, expected)
