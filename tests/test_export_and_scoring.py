"""ONNX export (onnxruntime must agree with PyTorch) and streaming file scoring (every row, in order)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_CONFIG, synthetic_review, train_tiny_run
from lstm_sentiment.cli import main
from lstm_sentiment.predict import load_model

REVIEWS = ["great superb film, loved it", "awful boring waste", "the plot", "x " * 70, "wonderful. " * 3]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, small_archive) -> Path:
    return train_tiny_run(tmp_path_factory.mktemp("export"), small_archive, 1)


@pytest.fixture(scope="module")
def exported(tiny_run) -> Path:
    assert main(["export", "--model", str(tiny_run)]) == 0
    return tiny_run


@pytest.mark.parametrize("pooling", ["maxmean", "last", "maxmeanlast"])
def test_onnxruntime_matches_pytorch_for_any_batch_and_length(tmp_path, small_archive, pooling):
    run = train_tiny_run(tmp_path, small_archive, 1, TINY_CONFIG.replace('pooling = "max"', f'pooling = "{pooling}"'),
                         "--set", "model.bidirectional=true")
    assert main(["export", "--model", str(run), "--onnx", str(run / "model.onnx")]) == 0
    torch_model = load_model(run)
    onnx_model = load_model(run, backend="onnx")
    rng = np.random.default_rng(0)
    for size in (1, 3, 17):
        texts = [REVIEWS[k] for k in rng.integers(0, len(REVIEWS), size)]
        for chunk in (1, 32):  # one row per call and mixed lengths in one call
            np.testing.assert_allclose(onnx_model.probabilities(texts, chunk), torch_model.probabilities(texts, chunk),
                                       atol=1e-5)


def test_predict_with_the_onnx_backend_prints_the_same_labels(exported, capsys):
    assert main(["predict", "--model", str(exported), "--json", *REVIEWS]) == 0
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["predict", "--model", str(exported), "--backend", "onnx", "--json", *REVIEWS]) == 0
    got = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [g["label"] for g in got] == [e["label"] for e in expected]
    np.testing.assert_allclose([g["probability"] for g in got], [e["probability"] for e in expected], atol=1e-5)


def test_onnx_backend_refuses_a_missing_or_stale_export(tiny_run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy)
    (copy / "model.onnx").unlink(missing_ok=True)
    assert main(["predict", "--model", str(copy), "--backend", "onnx", "fine"]) == 2
    assert "lstm-sentiment export" in capsys.readouterr().err
    assert main(["export", "--model", str(copy)]) == 0
    weights = copy / "model.safetensors"
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(weights))
    name = next(iter(tensors))
    tensors[name] = tensors[name] + 1.0  # the weights change after the export
    save_file(tensors, str(weights))
    assert main(["predict", "--model", str(copy), "--backend", "onnx", "fine"]) == 2
    assert "exported from other weights" in capsys.readouterr().err


def write_rows(path: Path, rows: list[list[str]], header=("id", "review", "stars")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_scoring_a_csv_keeps_every_row_in_order(tiny_run, tmp_path, capsys):
    texts = [REVIEWS[k % len(REVIEWS)] for k in range(50)] + ["", 'quotes "inside", commas, and\na newline']
    rows = [[str(k), text, str(k % 10)] for k, text in enumerate(texts)]
    source = write_rows(tmp_path / "big.csv", rows)
    out = tmp_path / "scored.csv"
    assert main(["predict", "--model", str(tiny_run), "--file", str(source), "--column", "review",
                 "--out", str(out)]) == 0
    assert "scored 52 rows (1 with empty text" in capsys.readouterr().err
    with open(out, newline="", encoding="utf-8") as handle:
        scored = list(csv.reader(handle))
    assert scored[0] == ["id", "review", "stars", "label", "probability"]
    assert [row[:3] for row in scored[1:]] == rows
    expected = load_model(tiny_run).probabilities([t for t in texts if t])
    got = [float(row[4]) for row in scored[1:] if row[1]]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert scored[51][3:] == ["", ""]  # the empty review: kept, not scored


def test_scoring_in_small_chunks_gives_the_same_file(tiny_run, tmp_path):
    from lstm_sentiment.scoring import score_file

    source = write_rows(tmp_path / "in.csv", [[str(k), REVIEWS[k % 5], "1"] for k in range(23)])
    predictor = load_model(tiny_run)
    score_file(predictor, source, tmp_path / "a.csv", "review", chunk_rows=4, progress=False)
    score_file(predictor, source, tmp_path / "b.csv", "review", chunk_rows=1000, progress=False)
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()


def test_scoring_in_two_processes_gives_the_same_file(tiny_run, tmp_path, capsys):
    from lstm_sentiment.scoring import score_file

    texts = [REVIEWS[k % 5] if k % 7 else "" for k in range(300)]
    source = write_rows(tmp_path / "in.csv", [[str(k), text, "1"] for k, text in enumerate(texts)])
    predictor = load_model(tiny_run)
    one = score_file(predictor, source, tmp_path / "one.csv", "review", chunk_rows=16, progress=False)
    two = score_file(predictor, source, tmp_path / "two.csv", "review", chunk_rows=16, progress=False, workers=2)
    assert (one.rows, one.empty) == (two.rows, two.empty) == (300, 43)
    assert (tmp_path / "one.csv").read_text() == (tmp_path / "two.csv").read_text()  # 19 chunks, in order
    assert main(["predict", "--model", str(tiny_run), "--file", str(source), "--column", "review",
                 "--out", str(tmp_path / "cli.csv"), "--workers", "2"]) == 0
    assert (tmp_path / "cli.csv").read_text() == (tmp_path / "one.csv").read_text()


def test_scoring_plain_lines(tiny_run, tmp_path):
    source = tmp_path / "reviews.txt"
    source.write_text("\n".join(REVIEWS) + "\n", encoding="utf-8")
    out = tmp_path / "scored.csv"
    assert main(["predict", "--model", str(tiny_run), "--file", str(source), "--out", str(out)]) == 0
    with open(out, newline="", encoding="utf-8") as handle:
        scored = list(csv.reader(handle))
    assert scored[0] == ["review", "label", "probability"] and [row[0] for row in scored[1:]] == REVIEWS


@pytest.mark.parametrize(("content", "flags", "message"), [
    ("id,text\n1,good\n", ["--column", "review"], "line 1: no column 'review' (columns: id, text)"),
    ("id,review,label\n1,good,pos\n", ["--column", "review"], "already has a column named 'label'"),
    ("id,review\n1,good\n2,bad,extra\n", ["--column", "review"], "line 3: 3 fields where the header has 2"),
    ("", ["--column", "review"], "empty file"),
])
def test_scoring_refusals_name_the_line_and_leave_no_output(tiny_run, tmp_path, capsys, content, flags, message):
    source = tmp_path / "in.csv"
    source.write_text(content, encoding="utf-8")
    out = tmp_path / "scored.csv"
    out.write_text("precious\n")
    assert main(["predict", "--model", str(tiny_run), "--file", str(source), "--out", str(out), *flags]) == 2
    assert message in capsys.readouterr().err
    assert out.read_text() == "precious\n"  # an existing output is untouched
    assert not list(tmp_path.glob("*.partial"))


def test_scoring_refuses_bad_bytes_and_flag_mixups(tiny_run, tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,review\n1,good\n2,\xff\xfe bad\n")
    assert main(["predict", "--model", str(tiny_run), "--file", str(source), "--column", "review",
                 "--out", str(tmp_path / "o.csv")]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert main(["predict", "--model", str(tiny_run), "--column", "review", "fine"]) == 2
    assert "--file" in capsys.readouterr().err
    assert main(["predict", "--model", str(tiny_run), "--file", str(source), "--column", "review"]) == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.slow
def test_memory_stays_flat_as_the_file_grows(tiny_run, tmp_path):
    """Peak memory of scoring a file 10x larger grows by far less than the file: rows are streamed."""
    import random

    rng = random.Random(0)

    def make(rows: int) -> Path:
        path = tmp_path / f"in{rows}.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["review"])
            for k in range(rows):
                writer.writerow([synthetic_review(rng, k % 2 == 0, 200)])
        return path

    def peak_rss_mb(source: Path) -> tuple[float, float]:
        code = ("import resource, sys; from lstm_sentiment.cli import main; "
                f"assert main(['predict', '--model', {str(tiny_run)!r}, '--file', {str(source)!r}, "
                f"'--column', 'review', '--out', {str(source) + '.out'!r}]) == 0; "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(result.stdout.strip().splitlines()[-1]), source.stat().st_size / 1e6

    small_rss, small_mb = peak_rss_mb(make(2_000))
    large_rss, large_mb = peak_rss_mb(make(25_000))
    assert large_mb - small_mb > 20  # the larger file is 20+ MB bigger ...
    assert large_rss - small_rss < 10, (small_rss, large_rss)  # ... and peak memory grows by under 10 MB
