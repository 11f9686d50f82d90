"""The sentiment treebank as a data source: trees, binary labels, phrases, and sources combined with IMDb."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch

from lstm_sentiment.cli import main
from lstm_sentiment.config import DataConfig
from lstm_sentiment.data.prepare import split_corpus
from lstm_sentiment.data.sources import load_corpus, resolve_data_path
from lstm_sentiment.data.treebank import TreebankOptions, detokenize, parse_tree
from lstm_sentiment.errors import UserError

# Every phrase labelled, in the treebank's PTB bracket form; labels 0-4.
TRAIN = [
    "(3 (2 It) (3 (2 's) (3 (2 (2 not) (1 bad)) (2 .))))",
    "(1 (2 The) (1 (2 plot) (1 (2 is) (0 (0 dreadful) (2 .)))))",
    "(4 (3 (2 A) (4 wonderful)) (3 (2 film) (2 -LRB-) (2 truly) (2 -RRB-)))",
    "(2 (2 It) (2 (2 exists) (2 .)))",  # neutral root: dropped as a sentence, its phrases too
    "(0 (2 Does) (0 (2 n't) (0 (2 (1 work) (2 .)))))",
]
DEV = ["(4 (2 Simply) (4 superb) (2 .))", "(0 (2 Utterly) (0 awful))"]
TEST = ["(3 (3 Good) (2 fun))", "(1 (2 Not) (1 (1 great) (2 ...)))", "(2 (2 Just) (2 a) (2 movie))"]


def write_treebank(path: Path, train=TRAIN, dev=DEV, test=TEST) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, lines in (("train", train), ("dev", dev), ("test", test)):
            archive.writestr(f"trees/{name}.txt", "\n".join(lines) + "\n")
    return path


@pytest.fixture
def treebank(tmp_path) -> Path:
    return write_treebank(tmp_path / "trainDevTestTrees_PTB.zip")


def test_a_tree_gives_every_labelled_phrase_root_first():
    phrases = parse_tree(TRAIN[0], "train.txt:1")
    assert (phrases[0].text, phrases[0].label, phrases[0].is_root) == ("It's not bad .", 3, True)
    assert ("not bad", 2) in [(p.text, p.label) for p in phrases]
    assert ("bad", 1) in [(p.text, p.label) for p in phrases]
    assert sum(p.is_root for p in phrases) == 1


def test_treebank_tokens_read_like_plain_text():
    assert detokenize(["Does", "n't", "-LRB-", "ca", "n't", "-RRB-", "``", "it", "''", "co\\/writer"]) == \
        "Doesn't ( can't ) \" it \" co/writer"


def test_sentences_become_binary_splits_with_neutral_dropped(treebank):
    corpus = load_corpus(treebank)
    assert corpus.train.texts == ["It's not bad .", "The plot is dreadful .", "A wonderful film ( truly )",
                                  "Doesn't work ."]
    assert corpus.train.labels == [1, 0, 1, 0]
    assert corpus.validation.labels == [1, 0]
    assert corpus.test.texts == ["Good fun", "Not great ..."] and corpus.test.labels == [1, 0]


def test_phrases_add_each_labelled_phrase_of_the_training_trees_once(treebank):
    corpus = load_corpus(treebank, treebank=TreebankOptions(phrases=True))
    examples = dict(zip(corpus.train.texts, corpus.train.labels))
    assert examples["bad"] == 0 and examples["wonderful"] == 1 and examples["dreadful"] == 0
    assert "not bad" not in examples  # labelled 2: neutral, dropped
    assert len(corpus.train.texts) == len(set(corpus.train.texts))
    assert "Good fun" not in examples and "great" not in examples  # test trees never give phrases
    assert len(load_corpus(treebank).validation) == len(corpus.validation)


def test_the_dev_sentences_are_the_validation_split(treebank):
    splits = split_corpus(load_corpus(treebank), DataConfig(validation_split=0.2))
    assert splits["validation"].texts == ["Simply superb .", "Utterly awful"]
    assert len(splits["train"]) == 4  # nothing carved out of train
    refit = split_corpus(load_corpus(treebank), DataConfig(validation_split=0))
    assert len(refit["validation"]) == 0 and len(refit["train"]) == 4


def test_a_folder_of_tree_files_reads_like_the_zip(tmp_path, treebank):
    with zipfile.ZipFile(treebank) as archive:
        archive.extractall(tmp_path / "sst")
    assert load_corpus(tmp_path / "sst").train.texts == load_corpus(treebank).train.texts


@pytest.mark.parametrize("line, problem", [
    ("(3 (2 It) (3 good)", "unbalanced brackets"),
    ("(x (2 It))", "malformed tree"),
    ("(7 (2 It))", "label 7 outside 0-4"),
    ("(3 (2 It)) extra", "text after the end"),
])
def test_a_malformed_tree_names_its_file_and_line(tmp_path, line, problem):
    path = write_treebank(tmp_path / "bad.zip", train=[TRAIN[0], line])
    with pytest.raises(UserError, match=rf"trees/train\.txt:2: .*{problem}"):
        load_corpus(path)


def test_combined_sources_keep_each_sources_split_rules(treebank, small_archive):
    imdb = load_corpus(small_archive)
    combined = load_corpus(resolve_data_path([str(small_archive), str(treebank)]), treebank=TreebankOptions(phrases=True))
    config = DataConfig(validation_split=0.2, validation_groups="movie")
    splits = split_corpus(combined, config)
    alone = split_corpus(imdb, config)
    sst = split_corpus(load_corpus(treebank, treebank=TreebankOptions(phrases=True)), config)
    for name in ("train", "validation", "test"):
        assert splits[name].texts == alone[name].texts + sst[name].texts
    # no test text of either source reaches training, and the treebank's dev is its validation
    assert not set(splits["test"].texts) & set(splits["train"].texts)
    assert splits["validation"].texts[-2:] == ["Simply superb .", "Utterly awful"]


def test_train_on_imdb_and_the_treebank_records_both_sources(tmp_path, treebank, small_archive, tiny_config):
    out = tmp_path / "run"
    assert main(["train", "--config", str(tiny_config), "--data", str(small_archive), "--data", str(treebank),
                 "--out", str(out), "--quiet", "--epochs", "1", "--no-cache", "--set", "data.phrases=true"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert [source["kind"] for source in metrics["data_sources"]] == ["imdb", "sst"]
    assert metrics["phrases"] is True
    assert metrics["n"] == 120 + 2  # both test splits, read once at the end
    # phrases trained: IMDb training reviews minus validation, plus 4 sentences and their labelled phrases
    assert metrics["training_examples"] > 96 + 4


def test_a_missing_part_of_a_combined_source_is_named(tmp_path, small_archive):
    with pytest.raises(UserError, match="does not exist"):
        resolve_data_path([str(small_archive), str(tmp_path / "missing.zip")])


def test_graded_labels_keep_neutral_phrases_as_soft_targets(treebank):
    corpus = load_corpus(treebank, treebank=TreebankOptions(phrases=True, graded=True))
    targets = dict(zip(corpus.train.texts, corpus.train.targets))
    assert targets["not bad"] == 0.5 and targets["bad"] == 0.25 and targets["wonderful"] == 1.0
    assert targets["It exists ."] == 0.5  # a neutral sentence trains too
    assert not corpus.validation.targets and not corpus.test.targets  # scored as SST-2: binary
    assert corpus.test.texts == load_corpus(treebank).test.texts


def test_soft_targets_reach_training_batches_and_survive_the_cache(treebank, small_archive):
    from lstm_sentiment.data.batching import make_batch
    from lstm_sentiment.data.prepare import load_prepared

    config = DataConfig(num_words=200, maxlen=20, phrases=True, treebank_labels="graded")
    source = resolve_data_path([str(small_archive), str(treebank)])
    for use_cache in (True, True):  # built and cached, then read back from the cache
        data = load_prepared(source, config, use_cache=use_cache)
        train = data.splits["train"]
        assert train.targets is not None and len(train.targets) == len(train)
        assert set(train.targets[:96].tolist()) <= {0.0, 1.0}  # IMDb reviews: their labels
        assert 0.5 in train.targets.tolist() and 0.25 in train.targets.tolist()
        batch = make_batch(train, torch.arange(len(train)), config.padding)
        assert batch.labels.dtype == torch.float32
        assert data.splits["validation"].targets is None
        assert make_batch(data.splits["validation"], torch.arange(2), config.padding).labels.dtype == torch.int64
