"""Readers (archive, folder, CSV), text preparation, vocabulary, padding and splits."""

from __future__ import annotations

import gzip
import importlib
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import review_files, write_archive, write_csv, write_folder
from lstm_sentiment.config import DataConfig
from lstm_sentiment.data.batching import batch_order, trim_and_right_align
from lstm_sentiment.data.corpus import Reviews
from lstm_sentiment.data.prepare import labelled_words, load_prepared, prepare, split_corpus
from lstm_sentiment.data.sources import load_corpus, read_archive, read_folder, resolve_data_path
from lstm_sentiment.data.text import clean, tokenize, word_count
from lstm_sentiment.data.vocab import PAD_ID, UNK_ID, Vocabulary, pad_sequences, truncated
from lstm_sentiment.errors import UserError


def test_archive_and_folder_read_the_same_corpus(small_archive, tmp_path):
    from_archive = read_archive(small_archive, include_unsup=True)
    from_folder = load_corpus(write_folder(tmp_path, review_files(60)), include_unsup=True)
    assert (len(from_archive.train), len(from_archive.test), len(from_archive.unsup)) == (120, 120, 4)
    assert from_archive.train.texts == from_folder.train.texts
    assert from_archive.test.labels == from_folder.test.labels
    assert from_archive.train.labels.count(1) == 60


def test_archive_reading_ignores_links_and_never_extracts(tmp_path):
    import io
    import tarfile

    path = tmp_path / "evil.tar.gz"
    write_archive(path, review_files(3))
    with tarfile.open(path, "r:gz") as src, tarfile.open(tmp_path / "linked.tar.gz", "w:gz") as dst:
        for member in src:
            dst.addfile(member, src.extractfile(member))
        link = tarfile.TarInfo("aclImdb/train/pos/999_9.txt")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        dst.addfile(link)
        escape = tarfile.TarInfo("../../escape.txt")
        escape.size = 3
        dst.addfile(escape, io.BytesIO(b"bad"))
    corpus = read_archive(tmp_path / "linked.tar.gz")
    assert len(corpus.train) == 6
    assert not (tmp_path.parent / "escape.txt").exists()


def test_truncated_archive_is_a_clear_error(small_archive, tmp_path):
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(small_archive.read_bytes()[: small_archive.stat().st_size // 2])
    with pytest.raises(UserError, match="truncated or corrupt"):
        read_archive(broken)
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(gzip.compress(b"not a tar file at all" * 100))
    with pytest.raises(UserError, match="truncated or corrupt|wrong layout"):
        read_archive(garbage)


def test_wrong_layout_names_the_missing_folder(tmp_path):
    files = {k: v for k, v in review_files(3).items() if "/test/neg/" not in k}
    with pytest.raises(UserError, match="aclImdb/test/neg"):
        read_archive(write_archive(tmp_path / "a.tar.gz", files))
    with pytest.raises(UserError, match="wrong layout"):
        load_corpus(tmp_path)  # a folder without aclImdb inside


def test_non_utf8_review_names_the_member(tmp_path):
    files = review_files(2)
    files["aclImdb/train/pos/0_9.txt"] = b"caf\xe9 au lait"
    with pytest.raises(UserError, match=r"train/pos/0_9.txt: not UTF-8"):
        read_archive(write_archive(tmp_path / "a.tar.gz", files))


@pytest.mark.parametrize("header,values", [
    (("review", "sentiment"), ("positive", "negative")),
    (("text", "label"), ("1", "0")),
    (("Review", "Sentiment"), ("POS", "neg")),
])
def test_csv_column_and_label_variants(tmp_path, header, values):
    rows = [("a great film", values[0]), ("an awful film", values[1])] * 5
    corpus = load_corpus(write_csv(tmp_path / "r.csv", rows, header))
    assert corpus.train.labels[:2] == [1, 0]
    assert not corpus.has_test_split


def test_csv_with_split_column(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("text,label,split\ngood,1,train\nbad,0,test\nfine,1,train\n")
    corpus = load_corpus(path)
    assert corpus.has_test_split and len(corpus.train) == 2 and corpus.test.texts == ["bad"]


def test_csv_errors_name_file_and_line(tmp_path):
    missing = write_csv(tmp_path / "m.csv", [("x", "positive")], ("body", "sentiment"))
    with pytest.raises(UserError, match=r"m.csv:1: missing column"):
        load_corpus(missing)
    unknown = write_csv(tmp_path / "u.csv", [("fine", "positive"), ("meh", "neutral")])
    with pytest.raises(UserError, match=r"u.csv:3: unknown label 'neutral'"):
        load_corpus(unknown)
    empty = write_csv(tmp_path / "e.csv", [("fine", "positive"), ("  ", "negative")])
    with pytest.raises(UserError, match=r"e.csv:3: empty review text"):
        load_corpus(empty)
    latin = tmp_path / "l.csv"
    latin.write_bytes(b"review,sentiment\nok,positive\ncaf\xe9,negative\n")
    with pytest.raises(UserError, match=r"l.csv:3: not UTF-8"):
        load_corpus(latin)
    corpus = load_corpus(unknown, skip_bad_rows=True)
    assert len(corpus.train) == 1 and corpus.skipped_rows == 1


def test_data_path_resolution(tmp_path, monkeypatch, small_archive):
    with pytest.raises(UserError, match="lstm-sentiment data download"):
        resolve_data_path(None)
    with pytest.raises(UserError, match="does not exist"):
        resolve_data_path(tmp_path / "nope.tar.gz")
    monkeypatch.setenv("LSTM_SENTIMENT_DATA", str(small_archive))
    assert resolve_data_path(None) == small_archive


def test_clean_and_tokenize_keep_negations_and_punctuation():
    text = "I didn't LIKE it.<br /><br />Not at all!!! &amp; 10/10"
    assert clean(text) == "i didn't like it.  not at all!!! & 10/10"
    assert tokenize(text) == ["i", "didn't", "like", "it", ".", "not", "at", "all", "!", "!", "!", "&", "10", "/",
                              "10"]
    assert word_count(text) == 9


def test_vocabulary_most_frequent_words_and_json_round_trip(tmp_path):
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]], num_words=4)
    assert vocab.tokens == ["<pad>", "<unk>", "b", "a"]
    assert vocab.encode(["a", "c", "b"]) == [3, UNK_ID, 2]
    vocab.save(tmp_path / "v.json")
    assert Vocabulary.load(tmp_path / "v.json").tokens == vocab.tokens


def test_labelled_words_join_the_vocabulary_beyond_the_frequent_ones():
    vocab = Vocabulary.build([["b", "a", "b"], ["c", "b", "a"], ["zed"]], num_words=4, keep={"zed", "a", "<unk>"})
    assert vocab.tokens == ["<pad>", "<unk>", "b", "a", "zed"]  # "a" is already in; <unk> never twice
    frequent = "the plot the plot the plot"
    train = Reviews([frequent, "loathe", "meh", frequent + " rare", "cherish"], [0, 0, 1, 1, 1],
                    targets=[0.0, 0.0, 0.5, 1.0, 0.75])
    splits = {"train": train, "validation": train, "test": train}
    assert labelled_words(train, [tokenize(t) for t in train.texts]) == {"loathe", "cherish"}
    kept, _, _ = prepare(splits, DataConfig(num_words=4, labelled_words=True))
    plain, _, _ = prepare(splits, DataConfig(num_words=4))
    assert plain.tokens == ["<pad>", "<unk>", "plot", "the"]
    assert kept.tokens == plain.tokens + ["cherish", "loathe"]  # the neutral "meh" and the rare "rare" stay out


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_padding_and_truncation_sides(padding, truncating):
    ids, lengths = pad_sequences([[5, 6, 7, 8, 9], [5, 6], []], maxlen=3, padding=padding, truncating=truncating)
    assert lengths.tolist() == [3, 2, 0]
    assert ids[0].tolist() == ([7, 8, 9] if truncating == "pre" else [5, 6, 7])
    assert ids[1].tolist() == ([PAD_ID, 5, 6] if padding == "pre" else [5, 6, PAD_ID])
    assert ids[2].tolist() == [PAD_ID] * 3


def test_middle_truncation_keeps_a_quarter_from_the_start_and_the_rest_from_the_end():
    sequence = list(range(10, 30))  # 20 tokens
    assert truncated(sequence, 8, "middle") == [10, 11] + list(range(24, 30))
    assert truncated(sequence, 3, "middle") == [27, 28, 29]  # under 4 tokens: no head at all
    assert truncated(sequence, 20, "middle") == sequence and truncated(sequence, 25, "middle") == sequence
    ids, lengths = pad_sequences([sequence, [5, 6]], maxlen=8, padding="post", truncating="middle")
    assert ids[0].tolist() == [10, 11, 24, 25, 26, 27, 28, 29] and lengths.tolist() == [8, 2]
    with pytest.raises(UserError, match="middle"):
        DataConfig(truncating="both").validate()


def test_splits_are_seeded_stratified_and_disjoint(small_archive):
    corpus = read_archive(small_archive)
    config = DataConfig(validation_split=0.25)
    first, second = split_corpus(corpus, config), split_corpus(corpus, config)
    assert first["validation"].texts == second["validation"].texts
    assert len(first["train"]) == 90 and len(first["validation"]) == 30 and len(first["test"]) == 120
    assert sum(first["validation"].labels) == 15
    assert not set(first["train"].texts) & set(first["validation"].texts)
    pooled = split_corpus(corpus, DataConfig(pool=True, test_fraction=0.2))
    assert len(pooled["test"]) == 48 and len(pooled["train"]) + len(pooled["validation"]) == 192


@pytest.mark.parametrize("groups", ["none", "movie"])
def test_no_validation_split_keeps_every_training_review(small_archive, groups):
    corpus = read_archive(small_archive)
    splits = split_corpus(corpus, DataConfig(validation_split=0, validation_groups=groups))
    assert splits["train"].texts == corpus.train.texts and len(splits["validation"]) == 0
    assert len(split_corpus(corpus, DataConfig(validation_split=0), limit=20)["validation"]) == 0
    prepared = load_prepared(small_archive, DataConfig(validation_split=0, num_words=50), use_cache=False)
    assert prepared.splits["validation"].ids.shape == (0, 200) and len(prepared.splits["train"]) == 120
    with pytest.raises(UserError, match=r"validation_split must be in \[0, 1\)"):
        DataConfig(validation_split=1.0).validate()


def test_a_given_vocabulary_is_used_and_keys_the_cache(small_archive):
    config = DataConfig(num_words=50, validation_split=0)  # the training split is the archive's, in order
    own = load_prepared(small_archive, config)
    given = Vocabulary(own.vocab.tokens[:2] + sorted(own.vocab.tokens[2:]))  # same words, other ids
    encoded = load_prepared(small_archive, config, vocab=given)
    assert encoded.vocab.tokens == given.tokens != own.vocab.tokens
    first_review = encoded.splits["train"].ids[0]
    assert first_review.tolist() == pad_sequences([given.encode(tokenize(read_archive(small_archive).train.texts[0]))],
                                                  200)[0][0].tolist()
    assert not np.array_equal(first_review.numpy(), own.splits["train"].ids[0].numpy())  # not the other cache entry


def test_limit_takes_a_balanced_sample(small_archive):
    splits = split_corpus(read_archive(small_archive), DataConfig(), limit=20)
    assert len(splits["train"]) == 20 and sum(splits["train"].labels) == 10
    assert len(splits["validation"]) == 5


def test_prepared_tensors_are_cached_and_identical(small_archive):
    config = DataConfig(num_words=50, maxlen=60)
    first = load_prepared(small_archive, config)
    second = load_prepared(small_archive, config)  # from the cache
    for name in first.splits:
        assert np.array_equal(first.splits[name].ids.numpy(), second.splits[name].ids.numpy())
        assert np.array_equal(first.splits[name].words.numpy(), second.splits[name].words.numpy())
    assert first.vocab.tokens == second.vocab.tokens
    assert first.splits["train"].ids.shape[1] == 60 and int(first.splits["train"].ids.max()) < 50
    other = load_prepared(small_archive, DataConfig(num_words=50, maxlen=60, padding="post"))
    assert not np.array_equal(other.splits["train"].ids.numpy(), first.splits["train"].ids.numpy())



def test_scoring_reads_eval_maxlen_tokens_while_training_reads_maxlen(small_archive):
    config = DataConfig(num_words=50, maxlen=10, eval_maxlen=40)
    prepared = load_prepared(small_archive, config, use_cache=False)
    assert prepared.splits["train"].ids.shape[1] == 10 and int(prepared.splits["train"].lengths.max()) == 10
    for name in ("validation", "test"):
        assert prepared.splits[name].ids.shape[1] == 40 and int(prepared.splits[name].lengths.max()) > 10
    assert DataConfig(maxlen=10).scoring_maxlen == 10 and config.scoring_maxlen == 40
    with pytest.raises(UserError, match="data.eval_maxlen must be 0"):
        DataConfig(eval_maxlen=-1).validate()


def test_scoring_batches_are_capped_in_padded_tokens():
    lengths = torch.tensor([1500, 1400, 900, 600, 600, 600, 600, 300, 50, 3000, 20, 10])
    batches = batch_order(lengths, 4, shuffle=False, bucket=True, generator=None, max_tokens=2400)
    flat = torch.cat(batches).tolist()
    assert sorted(flat) == list(range(len(lengths)))  # every review once
    assert flat == lengths.argsort(descending=True, stable=True).tolist()  # in bucketed order
    for batch in batches:
        assert len(batch) <= 4
        assert len(batch) == 1 or int(lengths[batch].max()) * len(batch) <= 2400  # 3000 alone is over the cap
    assert [len(b) for b in batches] == [1, 1, 1, 2, 4, 3]  # 3000 / 1500 / 1400 / 900 600 / 600 600 600 300 / 50 20 10


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_batches_are_trimmed_and_right_aligned(padding):
    import torch

    ids, lengths = pad_sequences([[5, 6, 7], [8], [9, 10]], maxlen=5, padding=padding)
    aligned = trim_and_right_align(torch.from_numpy(ids), torch.from_numpy(lengths), padding)
    assert aligned.tolist() == [[5, 6, 7], [8, PAD_ID, PAD_ID], [9, 10, PAD_ID]]


def test_validation_by_movie_holds_out_whole_movies(small_archive, tmp_path):
    corpus = read_archive(small_archive)
    assert corpus.train.movies[0].startswith("tt") and all(corpus.train.movies)
    config = DataConfig(validation_split=0.25, validation_groups="movie")
    splits = split_corpus(corpus, config)
    train_movies, val_movies = set(splits["train"].movies), set(splits["validation"].movies)
    assert not train_movies & val_movies
    assert 0.15 < len(splits["validation"]) / len(corpus.train) < 0.35
    assert 0 < sum(splits["validation"].labels) < len(splits["validation"])  # both labels held out
    random_split = split_corpus(corpus, DataConfig(validation_split=0.25))
    assert set(random_split["train"].movies) & set(random_split["validation"].movies)  # what "movie" avoids
    folder = write_folder(tmp_path / "data", review_files(60))
    assert read_folder(folder).train.movies == corpus.train.movies


def test_the_cache_key_follows_every_module_that_writes_training_examples(monkeypatch):
    """A rule changed in any of them (a WordNet-inferred word list, a wording) must not reuse tensors the old
    rules made: the member refit would then read other texts than the LSTM was trained on."""
    from lstm_sentiment.data.prepare import rules_digest

    before, read = rules_digest(), Path.read_bytes
    for name in ("negation", "composition", "wordings", "verb_opinions", "lexicon", "wordnet_lexicon", "idioms",
                 "aliases"):
        module = importlib.import_module(f"lstm_sentiment.data.{name}")
        changed = Path(module.__file__)
        monkeypatch.setattr(Path, "read_bytes", lambda self, changed=changed: read(self) + b"#" * (self == changed))
        assert rules_digest() != before, module.__name__
        monkeypatch.setattr(Path, "read_bytes", read)
