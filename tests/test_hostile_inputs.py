"""Inputs a careless or hostile user gives, generated here: each ends in one line naming the problem (exit 2),
never in a traceback, a hang or a huge allocation; and what is valid but unusual (a BOM) simply works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import train_tiny_run, write_csv
from lstm_sentiment.cli import main


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, small_archive):
    return train_tiny_run(tmp_path_factory.mktemp("hostile"), small_archive, 1)


def copied(model_dir, target):
    target.mkdir()
    for name in ("config.json", "vocab.json", "model.safetensors"):
        (target / name).write_bytes((model_dir / name).read_bytes())
    return target


def one_line_error(capsys, *args) -> str:
    """Run the command in-process (an unexpected exception would fail the test): exit 2 and one stderr line."""
    code = main([str(arg) for arg in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("lstm-sentiment: error: "), err
    return err


def edit_json(path, change):
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))


@pytest.mark.parametrize("version", ["1", None, [1], True])
def test_a_format_version_that_is_not_a_number(model_dir, tmp_path, capsys, version):
    for name in ("config.json", "vocab.json"):
        broken = copied(model_dir, tmp_path / f"{name}-model")
        edit_json(broken / name, lambda raw: raw.__setitem__("format_version", version))
        assert f"{name}: format_version must be a whole number" in one_line_error(capsys, "predict", "--model",
                                                                                   broken, "fine")


@pytest.mark.parametrize("tokens, problem", [
    (["<pad>", "<unk>", ["a", "list"], "good"], "token 2 is a list, not a string"),
    (["<pad>", "<unk>", "good", "good"], "'good' appears more than once"),
    (["<pad>", "<unk>", "good", 7], "token 3 is a int, not a string"),
])
def test_a_vocabulary_with_wrong_tokens(model_dir, tmp_path, capsys, tokens, problem):
    broken = copied(model_dir, tmp_path / "model")
    edit_json(broken / "vocab.json", lambda raw: raw.__setitem__("tokens", tokens))
    assert problem in one_line_error(capsys, "predict", "--model", broken, "fine")


def test_json_nested_100000_deep(model_dir, tmp_path, capsys):
    broken = copied(model_dir, tmp_path / "model")
    (broken / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in one_line_error(capsys, "predict", "--model", broken, "fine")


def test_non_finite_weights_are_refused_at_load(model_dir, tmp_path, capsys):
    broken = copied(model_dir, tmp_path / "model")
    tensors = load_file(broken / "model.safetensors")
    name = min(tensors)
    tensors[name] = torch.full_like(tensors[name], float("nan"))
    save_file(tensors, broken / "model.safetensors")
    err = one_line_error(capsys, "predict", "--model", broken, "fine", "--json")
    assert f"model.safetensors: non-finite values (NaN or infinity) in {name}" in err


@pytest.mark.parametrize("override, problem", [
    ("model.embedding_dim=1000000000", "model.embedding_dim must be in [1, 16,384]"),
    ("model.hidden_sizes=[10000000]", "above the limit"),
    ("model.members=1000000", "model.members must be in [1, 64]"),
    ("data.maxlen=10000000000", "data.maxlen must be in [1, 1,000,000]"),
    ("data.num_words=10000000", "weights"),  # 10M words x 128 dims x ... within the word limit, still checked
])
def test_absurd_sizes_are_refused_before_any_allocation(small_archive, tiny_config, tmp_path, capsys, override,
                                                        problem):
    if override.startswith("data.num_words"):
        override = "model.embedding_dim=16384"
        problem = "more than the limit"
        extra = ["--set", "data.num_words=10000000"]
    else:
        extra = []
    err = one_line_error(capsys, "train", "--config", tiny_config, "--data", small_archive, "--out",
                         tmp_path / "run", "--set", override, *extra)
    assert problem in err
    assert not (tmp_path / "run").exists()


def test_an_absurd_config_in_a_model_directory_is_refused_before_building(model_dir, tmp_path, capsys):
    broken = copied(model_dir, tmp_path / "model")
    edit_json(broken / "config.json", lambda raw: raw["model"].__setitem__("embedding_dim", 10**9))
    assert "model.embedding_dim must be in" in one_line_error(capsys, "predict", "--model", broken, "fine")


def test_seed_and_device_out_of_range(small_archive, tiny_config, tmp_path, capsys):
    assert "train.seed must be in [0, 2^63)" in one_line_error(
        capsys, "train", "--config", tiny_config, "--data", small_archive, "--seed", 2**64, "--out", tmp_path / "a")
    assert "cannot run a model here" in one_line_error(
        capsys, "train", "--config", tiny_config, "--data", small_archive, "--device", "meta", "--out", tmp_path / "b")


def test_a_fifo_named_like_a_model_file_does_not_hang(model_dir, tmp_path, capsys):
    for name in ("model.safetensors", "config.json", "vocab.json"):
        broken = copied(model_dir, tmp_path / f"{name}-model")
        (broken / name).unlink()
        os.mkfifo(broken / name)
        finished = []
        worker = threading.Thread(target=lambda into=finished, folder=broken: into.append(
            one_line_error(capsys, "predict", "--model", folder, "fine")), daemon=True)
        worker.start()
        worker.join(30)
        assert finished and f"{name}: not a regular file" in finished[0]


def test_output_piped_into_head_ends_quietly(model_dir):
    command = f"{sys.executable} -m lstm_sentiment predict --model {model_dir} --json " + " ".join(
        f"'review number {i} was fine'" for i in range(3000)) + " | head -c 10"
    finished = subprocess.run(["bash", "-c", command], check=False, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in finished.stderr and "BrokenPipe" not in finished.stderr, finished.stderr
    assert finished.stderr == ""


def test_a_csv_with_a_byte_order_mark_reads_like_any_csv(tmp_path, small_csv, capsys):
    bom = tmp_path / "excel.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + small_csv.read_bytes())
    assert main(["data", "stats", "--data", str(bom), "--json"]) == 0
    with_bom = json.loads(capsys.readouterr().out)
    assert main(["data", "stats", "--data", str(small_csv), "--json"]) == 0
    assert with_bom["splits"] == json.loads(capsys.readouterr().out)["splits"]


def test_data_stats_rounds_its_percentiles(tmp_path, capsys):
    rows = [(" ".join(["word"] * n) + " good", "positive" if n % 2 else "negative") for n in range(1, 12)]
    path = write_csv(tmp_path / "lengths.csv", rows)
    assert main(["data", "stats", "--data", str(path), "--json"]) == 0
    length = json.loads(capsys.readouterr().out)["splits"]["train"]["length_words"]
    assert length["p90"] == round(length["p90"], 1)


def flip_bytes(path, count=64):
    """Invert `count` bytes in the middle of a safetensors file's tensor data (past its JSON header)."""
    data = bytearray(path.read_bytes())
    header = 8 + int.from_bytes(data[:8], "little")
    middle = header + (len(data) - header) // 2
    for i in range(middle, middle + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_flipped_bytes_in_the_weights_are_refused(model_dir, tmp_path, capsys):
    broken = copied(model_dir, tmp_path / "model")
    flip_bytes(broken / "model.safetensors")
    assert "do not match the checksum" in one_line_error(capsys, "predict", "--model", broken, "fine")


def test_weights_from_another_run_with_a_vocabulary_of_the_same_size_are_refused(model_dir, tmp_path, capsys):
    broken = copied(model_dir, tmp_path / "model")
    edit_json(broken / "vocab.json", lambda raw: raw.__setitem__("tokens", raw["tokens"][:2] + raw["tokens"][:1:-1]))
    assert "trained with another vocabulary" in one_line_error(capsys, "predict", "--model", broken, "fine")


@pytest.mark.parametrize("damage", ["bytes", "epoch"])
def test_a_damaged_checkpoint_is_refused_and_nothing_is_overwritten(model_dir, tmp_path, capsys, damage):
    from safetensors import safe_open

    run = tmp_path / "run"
    run.mkdir()
    for path in model_dir.iterdir():
        if path.is_file():
            (run / path.name).write_bytes(path.read_bytes())
    checkpoint = run / "checkpoint.safetensors"
    if damage == "bytes":
        flip_bytes(checkpoint)
    else:  # the epoch number edited in the metadata, tensors untouched
        with safe_open(str(checkpoint), "pt") as handle:
            metadata = handle.metadata()
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
        state = json.loads(metadata["state"])
        state["progress"]["epoch"] = 1
        save_file(tensors, checkpoint, metadata={**metadata, "state": json.dumps(state)})
    before = {path.name: path.read_bytes() for path in run.iterdir()}
    assert "does not match the checksum" in one_line_error(capsys, "train", "--resume", run, "--quiet")
    assert {path.name: path.read_bytes() for path in run.iterdir()} == before


def test_an_oversized_review_in_an_archive_is_skipped_unread_and_counted(tmp_path, capsys):
    from conftest import review_files, write_archive
    from lstm_sentiment.data.sources import MAX_REVIEW_BYTES, read_archive

    files = review_files(4)
    files["aclImdb/train/pos/99_9.txt"] = b"great " * (MAX_REVIEW_BYTES // 6 + 10)  # compresses to a few KB
    corpus = read_archive(write_archive(tmp_path / "bomb.tar.gz", files))
    assert corpus.skipped_rows == 1 and len(corpus.train) == 8
    assert "skipped 1 archive member(s)" in capsys.readouterr().err


def test_memory_stays_flat_over_many_archive_members(tmp_path):
    import io
    import tarfile
    import tracemalloc

    from conftest import review_files
    from lstm_sentiment.data.sources import read_archive

    path = tmp_path / "many.tar"
    with tarfile.open(path, "w") as archive:
        for name, text in review_files(2).items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for i in range(30_000):  # members that are not reviews
            archive.addfile(tarfile.TarInfo(f"aclImdb/junk/{i}.txt"), io.BytesIO(b""))
    tracemalloc.start()
    read_archive(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4_000_000  # keeping 30,000 TarInfo objects alone costs over 13 MB


def test_an_oversized_csv_field_names_its_line(tmp_path, capsys):
    from lstm_sentiment.data.sources import MAX_REVIEW_BYTES

    path = tmp_path / "big.csv"
    path.write_text("review,sentiment\nfine film,positive\n\"" + "x" * (MAX_REVIEW_BYTES + 5) + "\",negative\n"
                    "dull film,negative\n")
    assert "big.csv:3: field larger than field limit" in one_line_error(capsys, "data", "stats", "--data", path)
    assert main(["data", "stats", "--data", str(path), "--skip-bad-rows", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["skipped_rows"] == 1 and stats["splits"]["train"]["total"] == 2


def test_an_endless_line_on_standard_input_is_refused_by_number(model_dir):
    from lstm_sentiment.data.sources import MAX_REVIEW_BYTES

    finished = subprocess.run([sys.executable, "-m", "lstm_sentiment", "predict", "--model", str(model_dir)],
                              input=b"a fine film\n" + b"y" * (MAX_REVIEW_BYTES + 10), check=False, capture_output=True,
                              timeout=120)
    assert finished.returncode == 2
    assert b"standard input, line 2: longer than 1,000,000 bytes" in finished.stderr
    assert len(finished.stderr.decode().strip().splitlines()) == 1


def test_terminal_escape_codes_are_never_echoed(model_dir, capsys):
    assert main(["predict", "--model", str(model_dir), "fine \x1b[2J\x1b]0;owned\x07 film"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\ufffd" in out


def test_model_files_follow_the_umask(tmp_path):
    from lstm_sentiment.files import write_json

    previous = os.umask(0o022)
    try:
        write_json(tmp_path / "metrics.json", {"a": 1})
        assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(previous)


def test_temporaries_of_killed_writes_are_removed_by_the_next_run(tmp_path, small_archive, tiny_config):
    out = tmp_path / "run"
    out.mkdir()
    stale = [out / ".checkpoint.safetensors.abc123", out / ".model.safetensors.zz9"]
    for path in stale:
        path.write_bytes(b"x" * 1000)
    assert main(["train", "--config", str(tiny_config), "--data", str(small_archive), "--out", str(out),
                 "--quiet", "--no-cache", "--epochs", "1"]) == 0
    assert not any(path.exists() for path in stale)


def test_the_prepared_cache_is_capped_and_can_be_cleared(tmp_path, small_archive, monkeypatch, capsys):
    from lstm_sentiment.config import DataConfig
    from lstm_sentiment.data.cache_eviction import entry_sizes
    from lstm_sentiment.data.prepare import load_prepared
    from lstm_sentiment.data.sources import cache_dir

    prepared = cache_dir() / "prepared"
    load_prepared(small_archive, DataConfig(num_words=50, maxlen=20), limit=40)
    one = sum(entry_sizes(prepared).values())
    monkeypatch.setenv("LSTM_SENTIMENT_CACHE_MAX_GB", str(2.5 * one / 1e9))  # room for two entries
    for words in (51, 52, 53):  # entries of the same size under other keys
        load_prepared(small_archive, DataConfig(num_words=words, maxlen=20), limit=40)
    assert len(entry_sizes(prepared)) == 2  # the two most recent; the oldest went first
    assert main(["cache", "clear"]) == 0
    assert "removed 2 entries" in capsys.readouterr().out and entry_sizes(prepared) == {}


def test_eviction_spares_the_staging_folder_of_a_run_still_writing(tmp_path):
    """Two runs preparing the same data at once: one's eviction must not delete the other's half-written entry
    (it did, and the other run died in safetensors' write); a staging folder left by a killed run still goes."""
    import os
    import time

    from lstm_sentiment.data.cache_eviction import STALE_STAGING_SECONDS, evict_least_recently_used

    prepared = tmp_path / "prepared"
    entries = {name: prepared / name for name in ("old-entry", ".tmp-live", ".tmp-killed", "new-entry")}
    for age, entry in zip((3600, 0, STALE_STAGING_SECONDS + 60, 0), entries.values(), strict=True):
        entry.mkdir(parents=True)
        (entry / "tensors.safetensors").write_bytes(b"x" * 100)
        os.utime(entry, (time.time() - age, time.time() - age))
    evicted = evict_least_recently_used(prepared, limit=0, keep=entries["new-entry"])
    assert set(evicted) == {entries[".tmp-killed"], entries["old-entry"]}
    assert entries[".tmp-live"].is_dir() and entries["new-entry"].is_dir()


def test_a_cache_write_that_fails_in_safetensors_is_skipped_and_cleaned_up(tmp_path, monkeypatch):
    from safetensors import SafetensorError

    from lstm_sentiment.config import DataConfig
    from lstm_sentiment.data import prepare as prepare_module

    def failing_save(tensors, path):
        raise SafetensorError("Error while serializing: I/O error")

    monkeypatch.setattr(prepare_module, "save_file", failing_save)
    splits = {name: prepare_module.Reviews(["a good film", "a bad film"], [1, 0])
              for name in ("train", "validation", "test")}
    vocab, encoded, _ = prepare_module.prepare(splits, DataConfig(num_words=10, maxlen=5))
    folder = tmp_path / "prepared" / "key"
    prepare_module._write_cache(folder, vocab, encoded, None)  # the cache is optional: no error
    assert not folder.exists() and list((tmp_path / "prepared").iterdir()) == []


def test_a_current_model_missing_a_config_key_is_refused_an_old_one_migrates(model_dir, tmp_path, capsys):
    broken = copied(model_dir, tmp_path / "model")
    edit_json(broken / "config.json", lambda raw: raw["data"].pop("eval_maxlen"))
    assert "missing data.eval_maxlen" in one_line_error(capsys, "predict", "--model", broken, "fine")
    old = copied(model_dir, tmp_path / "format1")
    edit_json(old / "config.json", lambda raw: (raw["data"].pop("eval_maxlen"), raw.__setitem__("format_version", 1)))
    assert main(["predict", "--model", str(old), "fine"]) == 0  # written before the key: its default applies


def test_a_format_2_model_lacks_only_the_keys_added_since(model_dir, tmp_path, capsys):
    two = copied(model_dir, tmp_path / "format2")
    edit_json(two / "config.json", lambda raw: (raw["data"].pop("negations"), raw.__setitem__("format_version", 2)))
    assert main(["predict", "--model", str(two), "fine"]) == 0  # data.negations came with format 3
    edit_json(two / "config.json", lambda raw: raw["data"].pop("eval_maxlen"))
    assert "missing data.eval_maxlen" in one_line_error(capsys, "predict", "--model", two, "fine")


@pytest.mark.parametrize("rows", [1, 2])
def test_a_csv_with_one_or_two_rows_is_one_line(tmp_path, capsys, rows):
    path = write_csv(tmp_path / "tiny.csv", [("good film", "positive"), ("bad film", "negative")][:rows])
    assert "too few to split" in one_line_error(capsys, "train", "--data", path, "--out", tmp_path / "run",
                                                "--quiet", "--epochs", "1", "--no-cache")


def test_a_file_that_is_not_a_tar_archive_is_one_line(tmp_path, capsys):
    path = tmp_path / "fake.tar.gz"
    path.write_bytes(b"not an archive at all")
    assert "not a tar archive" in one_line_error(capsys, "data", "stats", "--data", path)


@pytest.mark.parametrize("where", ["under_a_file", "a_directory"])
def test_outputs_that_cannot_be_written_are_one_line(model_dir, tmp_path, capsys, where):
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("a fine film\na dull film\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is expected")
    if where == "under_a_file":
        csv_out, onnx_out, words = blocker / "scored.csv", blocker / "model.onnx", "cannot write"
    else:
        csv_out, onnx_out, words = tmp_path, tmp_path, "is a directory"
    assert words in one_line_error(capsys, "predict", "--model", model_dir, "--file", reviews, "--out", csv_out)
    pytest.importorskip("onnx")
    assert words in one_line_error(capsys, "export", "--model", model_dir, "--onnx", onnx_out)
