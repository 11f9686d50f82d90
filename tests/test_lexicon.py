"""data.lexicon_words: an opinion lexicon's words as one-word training examples, only where the training trees do
not label the word themselves."""

from __future__ import annotations

from importlib import resources

import pytest

from lstm_sentiment.config import DataConfig
from lstm_sentiment.data import lexicon
from lstm_sentiment.data.lexicon import calibration, lexicon_examples, rating_target, vader_ratings
from lstm_sentiment.data.prepare import labelled_words, prepare
from lstm_sentiment.data.sources import load_corpus
from lstm_sentiment.data.treebank import TreebankOptions
from lstm_sentiment.errors import UserError
from test_composition import SUPERB
from test_negation import DREADFUL, write_treebank

pytest.importorskip("vaderSentiment")


def test_ratings_map_to_the_treebank_scale():
    assert rating_target(3.1) == 1.0 and rating_target(-2.7) == 0.0  # as strong as labels 4 and 0
    assert rating_target(1.5) == 0.75 and rating_target(-1.4) == 0.25
    ratings = vader_ratings()
    assert len(ratings) > 7000 and ratings["superb"][0] > 2.5 and ratings["despise"][0] < -1
    assert all(word.isalpha() and word.islower() for word in ratings)  # one token each, as the tokenizer reads


def test_only_clear_agreed_words_the_training_split_lacks():
    made = list(lexicon_examples("vader", ["The acting was superb .", "Despise", "superb"]))
    words = [word for word, _ in made]
    assert words == sorted(words) and len(set(words)) == len(words)
    assert "superb" not in words and "despise" not in words  # labelled already (any case): in-domain wins
    assert ("adore", 1.0) in made and ("disliked", 0.25) in made
    ratings = vader_ratings()
    assert all(abs(ratings[w][0]) >= lexicon.CLEAR and ratings[w][1] < abs(ratings[w][0]) for w in words)
    assert "fine" not in words  # 0.8: too weak to be an opinion alone
    assert list(lexicon_examples("none", [])) == []


def test_lexicon_words_follow_the_trees_and_join_the_vocabulary(tmp_path):
    treebank = write_treebank(tmp_path / "sst.zip", train=[DREADFUL, SUPERB],
                              dev=["(4 (2 It) (4 (2 is) (4 superb)))"], test=["(0 (2 It) (0 (2 is) (0 awful)))"])
    config = DataConfig(phrases=True, treebank_labels="graded", labelled_words=True, lexicon_words="vader")
    assert TreebankOptions.of(config).lexicon_words == "vader"
    plain = load_corpus(treebank, treebank=TreebankOptions(phrases=True, graded=True))
    corpus = load_corpus(treebank, treebank=TreebankOptions.of(config))
    count = len(plain.train.texts)
    assert corpus.train.texts[:count] == plain.train.texts
    added = dict(zip(corpus.train.texts[count:], corpus.train.target_list()[count:], strict=True))
    assert added["despise"] == 0.25 and added["adore"] == 1.0 and "superb" not in added and "dreadful" not in added
    assert corpus.validation.texts == plain.validation.texts and corpus.test.texts == plain.test.texts
    splits = {"train": corpus.train, "validation": corpus.validation, "test": corpus.test}
    vocab, _, _ = prepare(splits, DataConfig(num_words=10, labelled_words=True))
    assert {"despise", "adore"} <= set(vocab.tokens)
    assert "despise" in labelled_words(corpus.train, [text.split() for text in corpus.train.texts])


def test_calibrated_targets_follow_the_training_splits_own_scale():
    ratings = vader_ratings()
    clear = {word: mean for word, (mean, spread) in ratings.items() if abs(mean) >= 1 and spread < abs(mean)}
    strong_negative = sorted(word for word, mean in clear.items() if -3.2 < mean <= -2.8)  # bin -6: -3.0 +- 0.25
    # the training split labels these words alone, more cautiously than the lexicon: 0.25 instead of 0
    labelled = dict.fromkeys(strong_negative[:lexicon.MIN_SHARED], 0.25)
    scale = calibration(clear, labelled)
    assert scale == {-6: 0.25}
    made = dict(lexicon_examples("vader-calibrated", labelled, labelled))
    rest = strong_negative[lexicon.MIN_SHARED:]
    assert rest and all(made[word] == 0.25 for word in rest)  # the bin's target, not 0
    assert made["adore"] == rating_target(clear["adore"])  # a bin the split does not label enough keeps the rule
    assert not set(labelled) & set(made)
    few = dict(list(labelled.items())[:lexicon.MIN_SHARED - 1])
    assert calibration(clear, few) == {}


def test_a_missing_package_or_another_lexicon_version_is_named(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(resources, "files", missing)
    with pytest.raises(UserError, match=r"pip install 'lstm-sentiment\[lexicon\]'"):
        vader_ratings()
    monkeypatch.undo()
    monkeypatch.setattr(lexicon, "VADER_SHA256", "0" * 64)
    with pytest.raises(UserError, match="vaderSentiment==3.3.2"):
        vader_ratings()
    with pytest.raises(UserError, match="data.lexicon_words"):
        DataConfig(lexicon_words="afinn").validate()
