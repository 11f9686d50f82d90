"""Every command end to end on tiny data, and every user error as one line with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from conftest import train_tiny_run
from lstm_sentiment.cli import main


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, small_archive):
    return train_tiny_run(tmp_path_factory.mktemp("trained"), small_archive, 6)


def test_data_stats_json(capsys, small_archive):
    code, out, _ = run_cli(capsys, "data", "stats", "--data", small_archive, "--json")
    stats = json.loads(out)
    assert code == 0
    assert stats["splits"]["train"] == {**stats["splits"]["train"], "total": 120, "positive": 60, "negative": 60}
    assert stats["splits"]["test"]["total"] == 120 and stats["splits"]["unsup"]["total"] == 4
    assert set(stats["splits"]["train"]["length_words"]) == {"mean", "median", "p90", "max"}
    assert stats["vocabulary_size"] > 20


def test_data_stats_table_on_csv(capsys, small_csv):
    code, out, _ = run_cli(capsys, "data", "stats", "--data", small_csv)
    assert code == 0 and "train" in out and "200" in out


def test_train_writes_a_complete_run_directory(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {"model.safetensors", "config.json", "vocab.json", "history.json", "history.csv", "metrics.json",
            "curves.png", "confusion.png"} <= names
    assert not any(n.endswith((".pt", ".pkl", ".pickle", ".bin")) for n in names)
    history = json.loads((trained_run / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5, 6]
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy"} <= set(history[0])
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["best_epoch"] == min(history, key=lambda r: r["val_loss"])["epoch"]
    assert metrics["accuracy"] > 0.75  # the synthetic cue words are easy to learn
    assert (trained_run / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_training_is_reproducible(tmp_path, small_archive, tiny_config, capsys):
    outs = []
    for name in ("a", "b"):
        run_cli(capsys, "train", "--config", tiny_config, "--data", small_archive, "--out", tmp_path / name,
                "--quiet", "--no-cache")
        outs.append((tmp_path / name / "model.safetensors").read_bytes())
    assert outs[0] == outs[1]


def test_evaluate_json_keys(capsys, trained_run, small_archive):
    code, out, _ = run_cli(capsys, "evaluate", "--model", trained_run, "--data", small_archive, "--json")
    metrics = json.loads(out)
    assert code == 0
    assert {"accuracy", "loss", "precision", "recall", "f1", "roc_auc", "confusion_matrix", "n", "by_length"} <= set(metrics)
    assert metrics["n"] == 120 and sum(map(sum, metrics["confusion_matrix"])) == 120
    stored = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["accuracy"] == pytest.approx(stored["accuracy"])
    code, table, _ = run_cli(capsys, "evaluate", "--model", trained_run, "--data", small_archive)
    assert "roc_auc" in table and "confusion matrix" in table


def test_predict_json_from_arguments_file_and_stdin(capsys, trained_run, tmp_path, monkeypatch):
    code, out, _ = run_cli(capsys, "predict", "--model", trained_run, "--json", "a wonderful superb film",
                           "an awful boring waste")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [p["label"] for p in lines] == ["positive", "negative"]
    assert set(lines[0]) == {"text", "label", "probability"} and 0.5 < lines[0]["probability"] <= 1
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("loved it, brilliant\nterrible and dull\n")
    code, out, _ = run_cli(capsys, "predict", "--model", trained_run, "--file", reviews)
    assert code == 0 and out.splitlines()[0].startswith("positive") and out.splitlines()[1].startswith("negative")
    result = subprocess.run([sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(trained_run), "--json"],
                            input=b"the best movie\n", check=False, capture_output=True)
    assert result.returncode == 0 and json.loads(result.stdout)["text"] == "the best movie"


def test_python_api_matches_cli(trained_run):
    from lstm_sentiment import load_model

    predictor = load_model(trained_run)
    first, second = predictor.predict(["a wonderful superb film", "an awful boring waste"])
    assert first.label == "positive" and second.label == "negative"
    assert predictor.predict("a wonderful superb film")[0].probability == pytest.approx(first.probability)


def test_presets_listed(capsys):
    code, out, _ = run_cli(capsys, "presets")
    assert code == 0 and all(name in out for name in ("seed000", "seed001", "seed002", "seed003"))
    assert "maxlen 600  (scoring 1500)" in next(line for line in out.splitlines() if line.startswith("quick"))


def copy_model(source, target, names):
    target.mkdir()
    for name in names:
        (target / name).write_bytes((source / name).read_bytes())
    return target


def cli_error(*args, stdin: bytes = b""):
    result = subprocess.run([sys.executable, "-m", "lstm_sentiment", *map(str, args)], input=stdin,
                            check=False, capture_output=True)
    return result.returncode, result.stderr.decode()


@pytest.mark.parametrize("case", ["missing_data", "corrupt_archive", "csv_columns", "csv_label", "empty_text",
                                  "missing_weights", "mismatched_weights", "bad_override", "unknown_preset",
                                  "stdin_not_utf8", "no_model_dir"])
def test_user_errors_are_one_line_without_traceback(case, tmp_path, trained_run, small_archive):
    if case == "missing_data":
        code, err = cli_error("data", "stats", "--data", tmp_path / "absent.tar.gz")
        expected = "does not exist"
    elif case == "corrupt_archive":
        broken = tmp_path / "broken.tar.gz"
        broken.write_bytes(small_archive.read_bytes()[:3000])
        code, err = cli_error("data", "stats", "--data", broken)
        expected = "truncated or corrupt"
    elif case == "csv_columns":
        path = tmp_path / "c.csv"
        path.write_text("body,stars\nnice,5\n")
        code, err = cli_error("data", "stats", "--data", path)
        expected = "missing column"
    elif case == "csv_label":
        path = tmp_path / "c.csv"
        path.write_text("review,sentiment\nnice,positive\nhmm,maybe\n")
        code, err = cli_error("data", "stats", "--data", path)
        expected = "c.csv:3: unknown label"
    elif case == "empty_text":
        code, err = cli_error("predict", "--model", trained_run, "   ")
        expected = "empty review text"
    elif case == "missing_weights":
        broken = copy_model(trained_run, tmp_path / "model", ("config.json", "vocab.json"))
        code, err = cli_error("predict", "--model", broken, "fine")
        expected = "model.safetensors: missing file"
    elif case == "mismatched_weights":
        broken = copy_model(trained_run, tmp_path / "model", ("model.safetensors", "vocab.json"))
        config = json.loads((trained_run / "config.json").read_text())
        config["model"]["hidden_sizes"] = [5]
        (broken / "config.json").write_text(json.dumps(config))
        code, err = cli_error("predict", "--model", broken, "fine")
        expected = "weights do not match config.json"
    elif case == "bad_override":
        code, err = cli_error("train", "--data", small_archive, "--set", "model.hidden_size=3")
        expected = "unknown key"
    elif case == "unknown_preset":
        code, err = cli_error("train", "--data", small_archive, "--preset", "nope")
        expected = "unknown preset"
    elif case == "stdin_not_utf8":
        code, err = cli_error("predict", "--model", trained_run, stdin=b"ok\n\xff\xfe bad\n")
        expected = "line 2: not UTF-8"
    else:
        code, err = cli_error("evaluate", "--model", tmp_path / "nowhere", "--data", small_archive)
        expected = "does not exist"
    assert code == 2, err
    assert expected in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_time_to_accuracy_tracks_test_accuracy_without_choosing_by_it(tmp_path, small_archive, tiny_config, capsys):
    out = tmp_path / "tracked"
    code, printed, _ = run_cli(capsys, "train", "--config", tiny_config, "--data", small_archive, "--out", out,
                               "--quiet", "--no-cache", "--epochs", "3", "--time-to-accuracy", "0.5")
    assert code == 0 and ("first reached" in printed or "never reached" in printed)
    history = json.loads((out / "history.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    tracked = metrics["time_to_accuracy"]
    assert tracked["test_accuracy_by_epoch"] == [row["test_accuracy"] for row in history]
    first = next(row for row in history if row["test_accuracy"] >= 0.5)
    assert (tracked["epoch"], tracked["seconds"]) == (first["epoch"], first["elapsed_seconds"])
    assert metrics["best_epoch"] == min(history, key=lambda r: r["val_loss"])["epoch"]  # selection unchanged
    elapsed = [row["elapsed_seconds"] for row in history]
    assert elapsed == sorted(elapsed) and elapsed[-1] <= metrics["seconds"]


def test_pack_stores_float16_weights_that_predict_the_same(capsys, trained_run, tmp_path, small_archive):
    from safetensors import safe_open

    from lstm_sentiment.predict import load_model

    packed = tmp_path / "packed"
    code, printed, _ = run_cli(capsys, "pack", "--model", trained_run, "--out", packed)
    assert code == 0 and "MB" in printed
    assert {p.name for p in packed.iterdir()} == {"model.safetensors", "config.json", "vocab.json", "metrics.json",
                                                  "history.json"}
    with safe_open(packed / "model.safetensors", "pt") as weights:
        names = weights.keys()  # safe_open is not iterable itself
        assert {weights.get_tensor(k).dtype for k in names} == {torch.float16}
    assert (packed / "model.safetensors").stat().st_size < 0.6 * (trained_run / "model.safetensors").stat().st_size
    reviews = ["a great wonderful film", "an awful boring mess", "fine"]
    original = load_model(trained_run).probabilities(reviews)
    assert load_model(packed).probabilities(reviews) == pytest.approx(original, abs=2e-3)
    code, _, err = run_cli(capsys, "pack", "--model", trained_run, "--out", trained_run)
    assert code == 2 and "--out must differ" in err


def test_no_test_reports_validation_metrics(tmp_path, small_archive, tiny_config, capsys):
    out = tmp_path / "tuning"
    code, printed, _ = run_cli(capsys, "train", "--config", tiny_config, "--data", small_archive, "--out", out,
                               "--quiet", "--no-cache", "--no-test")
    metrics = json.loads((out / "metrics.json").read_text())
    assert code == 0 and printed.startswith("validation accuracy")
    assert metrics["split"] == "validation" and metrics["n"] == metrics["validation"]["n"]
    code, _, err = run_cli(capsys, "train", "--config", tiny_config, "--data", small_archive, "--out", out,
                           "--no-test", "--time-to-accuracy", "0.9")
    assert code == 2 and "cannot be combined" in err


@pytest.mark.parametrize("text", ["zzqx wibblefrotz qqqq", "\x00\x01\x02", "!!!", "a\x1b[31mred\x1b[0m film",
                                  "great " * 2_000_000])
def test_odd_texts_get_a_prediction(trained_run, text):
    """Only unknown words, only control characters, only punctuation, terminal escapes, 12 MB of text."""
    from lstm_sentiment.predict import load_model

    (prediction,) = load_model(trained_run).predict([text])
    assert prediction.label in ("positive", "negative") and 0.0 <= prediction.probability <= 1.0


@pytest.mark.parametrize("case", ["vocab_size", "newer_format", "not_json"])
def test_broken_model_directories_name_the_file(case, tmp_path, trained_run, capsys):
    broken = copy_model(trained_run, tmp_path / "model", ("model.safetensors", "config.json", "vocab.json"))
    if case == "vocab_size":
        vocab = json.loads((broken / "vocab.json").read_text())
        vocab["tokens"] = vocab["tokens"][:-3]
        (broken / "vocab.json").write_text(json.dumps(vocab))
        expected = "vocab.json"
    elif case == "newer_format":
        config = json.loads((broken / "config.json").read_text())
        config["format_version"] = 99
        (broken / "config.json").write_text(json.dumps(config))
        expected = "config.json: format version 99 is newer"
    else:
        (broken / "config.json").write_text("{not json")
        expected = "config.json: unreadable JSON"
    code, _, err = run_cli(capsys, "predict", "--model", broken, "fine")
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1


def test_full_disk_is_reported_before_training(tmp_path, small_archive, tiny_config, capsys, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    code, _, err = run_cli(capsys, "train", "--config", tiny_config, "--data", small_archive, "--out",
                           tmp_path / "run", "--quiet", "--no-cache")
    assert code == 2 and "not enough free disk space" in err
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_disk_full_during_a_write_keeps_the_previous_file(tmp_path, monkeypatch):
    import errno

    from lstm_sentiment.errors import UserError
    from lstm_sentiment.files import atomic_write

    target = tmp_path / "checkpoint.safetensors"
    target.write_bytes(b"previous")

    def fill_disk(path):
        path.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(UserError, match="disk full while writing"):
        atomic_write(target, fill_disk)
    assert target.read_bytes() == b"previous" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_training_from_ppmi_word_vectors(tmp_path, small_archive, tiny_config, capsys):
    out = tmp_path / "ppmi"
    code, _, err = run_cli(capsys, "train", "--config", tiny_config, "--data", small_archive, "--out", out,
                           "--quiet", "--no-cache", "--set", 'model.embedding_init="ppmi"')
    assert code == 0, err
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["embedding_init"] == "ppmi"
    from lstm_sentiment.predict import load_model

    assert load_model(out).predict(["fine"])[0].label in ("positive", "negative")
