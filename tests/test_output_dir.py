"""A model directory is always the old model or the new one: --out over a model needs --overwrite, and the
replacement is staged beside it and swapped in only when complete."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from conftest import train_tiny_run
from lstm_sentiment.cli import main
from lstm_sentiment.output_dir import claim, replace, staging_dir
from lstm_sentiment.predict import load_model

TEXT = "a wonderful touching film, I loved it"


@pytest.fixture(scope="module")
def old_model(tmp_path_factory, small_archive):
    return train_tiny_run(tmp_path_factory.mktemp("old"), small_archive, 2)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def copy_dir(source: Path, target: Path) -> Path:
    target.mkdir()
    for name, data in snapshot(source).items():
        (target / name).write_bytes(data)
    return target


def test_training_into_a_model_directory_needs_overwrite(old_model, tmp_path, small_archive, tiny_config, capsys):
    target = copy_dir(old_model, tmp_path / "model")
    before = snapshot(target)
    code = main(["train", "--config", str(tiny_config), "--data", str(small_archive), "--out", str(target),
                 "--quiet", "--no-cache", "--epochs", "1"])
    assert code == 2 and "already holds a model or run" in capsys.readouterr().err
    assert snapshot(target) == before


def test_a_replacing_run_killed_before_its_first_epoch_leaves_the_old_model(old_model, tmp_path, small_archive,
                                                                            tiny_config):
    target = copy_dir(old_model, tmp_path / "model")
    before, answer = snapshot(target), load_model(target).predict(TEXT)[0].probability
    command = [sys.executable, "-m", "lstm_sentiment", "train", "--config", str(tiny_config), "--data",
               str(small_archive), "--out", str(target), "--quiet", "--no-cache", "--epochs", "2", "--seed", "5",
               "--set", "data.num_words=20", "--overwrite"]
    killed = subprocess.run(command, env={**os.environ, "LSTM_SENTIMENT_FAULT": "step:3"}, check=False, capture_output=True)
    assert killed.returncode == -9
    assert snapshot(target) == before  # the old weights with the old vocabulary, untouched
    assert load_model(target).predict(TEXT)[0].probability == answer
    staging = staging_dir(target)
    assert (staging / "vocab.json").exists()  # the new run's files live beside it
    finished = subprocess.run(command, check=False, capture_output=True, text=True)  # the same command again, to the end
    assert finished.returncode == 0, finished.stderr
    assert not staging.exists() and load_model(target).vocab.size == 20
    assert snapshot(target) != before


def test_pack_over_a_run_replaces_the_whole_directory(old_model, tmp_path, capsys):
    run = copy_dir(old_model, tmp_path / "run")
    (run / "checkpoint.safetensors").write_bytes(b"an old run's checkpoint")
    (run / "curves.png").write_bytes(b"old plot")
    assert main(["pack", "--model", str(old_model), "--out", str(run)]) == 2
    assert "already holds a model or run" in capsys.readouterr().err
    assert main(["pack", "--model", str(old_model), "--out", str(run), "--overwrite"]) == 0
    assert sorted(path.name for path in run.iterdir()) == ["config.json", "history.json", "metrics.json",
                                                           "model.safetensors", "vocab.json"]


def test_the_package_folder_is_never_an_output(old_model, capsys):
    package = Path(str(resources.files("lstm_sentiment")))
    for out in (package, package.parent, package / "presets"):
        assert main(["pack", "--model", str(old_model), "--out", str(out), "--overwrite"]) == 2
        assert "package's own folder" in capsys.readouterr().err


def test_replace_swaps_in_the_new_directory_and_removes_the_old(tmp_path):
    old, new = tmp_path / "model", tmp_path / ".model.partial"
    old.mkdir()
    new.mkdir()
    (old / "config.json").write_text("old")
    (new / "config.json").write_text("new")
    assert claim(old, overwrite=True, clean=False) == new  # decided without touching the staging folder
    assert (new / "config.json").exists()
    replace(new, old)
    assert (old / "config.json").read_text() == "new" and not new.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
