"""ngram.sentence_mix_words: sentences and reviews mixed apart (ngram.py, ngram_fit.py), and every path that
scores with the member using the right mix for each text."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import member_record_edited, train_tiny_run
from lstm_sentiment.cli import main
from lstm_sentiment.config_io import layered_config
from lstm_sentiment.errors import UserError
from lstm_sentiment.explain import explain
from lstm_sentiment.ngram import NGRAM_FILE, NgramMember
from lstm_sentiment.ngram_fit import fit_mixes
from lstm_sentiment.predict import load_model
from test_ngram import NGRAM_CONFIG, REVIEWS

WORDS = 4  # "loved it" and "great wonderful film" are sentences, the other two reviews


@pytest.fixture(scope="module")
def sentence_run(tmp_path_factory, small_archive):
    """A tiny run whose member then gets a sentence mix that reads the member alone."""
    run = train_tiny_run(tmp_path_factory.mktemp("sentences"), small_archive, 1, NGRAM_CONFIG)
    member = NgramMember.load(run)
    member.sentence_mix = {"lstm": 0.0, "ngram": 1.0, "bias": 0.0, "words": WORDS}
    member.save(run)
    return run


def test_each_group_gets_the_mix_fitted_on_its_own_texts():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2000)
    sign = 2.0 * labels - 1.0
    tokens = np.where(np.arange(2000) < 1000, 20, 200)  # the first half sentences, the second reviews
    # sentences: the member knows and the LSTM guesses; reviews: the other way round
    knows = np.arange(2000) < 1000
    lstm = np.where(knows, 0.0, 2.0) * sign + rng.normal(0, 1, 2000)
    ngram = np.where(knows, 2.0, 0.0) * sign + rng.normal(0, 1, 2000)
    reviews, sentences, unread = fit_mixes(lstm, ngram, labels.tolist(), None, tokens, 60)
    assert sentences["words"] == 60 and sentences["ngram"] > 1.0 > abs(sentences["lstm"]) * 4
    assert reviews["lstm"] > 1.0 > abs(reviews["ngram"]) * 4
    assert unread is None  # "shared": no unread mix
    one, none, _ = fit_mixes(lstm, ngram, labels.tolist(), None, tokens, 0)
    assert none is None and 0.5 < one["lstm"] and 0.5 < one["ngram"]
    # too few sentences of a label: one mix for all
    assert fit_mixes(lstm, ngram, labels.tolist(), None, np.where(np.arange(2000) < 30, 20, 200), 60)[1] is None


def test_predict_explain_and_evaluate_use_each_texts_own_mix(sentence_run, small_archive, capsys):
    record = json.loads((sentence_run / NGRAM_FILE).read_text())
    assert record["format"] == 2 and record["sentence_mix"]["words"] == WORDS
    predictor = load_model(sentence_run)
    member = predictor.ngram
    ids, lengths = predictor.encode(REVIEWS)
    lstm = predictor.logits_of(ids, lengths)
    ngram = member.logits([review.split() for review in REVIEWS])
    short = lengths.numpy() < WORDS
    assert short.tolist() == [True, False, False, True]
    review_mix = member.mix["lstm"] * lstm + member.mix["ngram"] * ngram + member.mix["bias"]
    expected = 1 / (1 + np.exp(-np.where(short, ngram, review_mix)))
    np.testing.assert_allclose(predictor.probabilities(REVIEWS), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="tokens scored"):
        member.combine(lstm, ngram)
    explanation = explain(predictor, REVIEWS[0])
    assert explanation.probability == pytest.approx(predictor.probabilities([REVIEWS[0]])[0])
    assert all(value == 0.0 for value in explanation.contributions)  # the sentence mix gives the LSTM no weight
    assert main(["evaluate", "--model", str(sentence_run), "--data", str(small_archive), "--json"]) == 0
    assert 0.0 <= json.loads(capsys.readouterr().out)["accuracy"] <= 1.0


DAMAGES = {"format_1_with_sentence_mix": lambda record: record.update(format=1),
           "format_2_without": lambda record: record.pop("sentence_mix"),
           "zero_words": lambda record: record["sentence_mix"].update(words=0)}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_sentence_mix_out_of_place_is_refused(sentence_run, tmp_path, damage):
    with pytest.raises(UserError, match="sentence_mix"):
        load_model(member_record_edited(sentence_run, tmp_path / "copy", DAMAGES[damage]))


def test_the_setting_is_checked_against_the_tokens_scored():
    assert layered_config(values={"ngram.sentence_mix_words": 60}).ngram.sentence_mix_words == 60
    with pytest.raises(UserError, match="sentence_mix_words"):
        layered_config(values={"ngram.sentence_mix_words": -1})
    with pytest.raises(UserError, match="sentence_mix_words"):
        layered_config(values={"data.maxlen": 50, "ngram.sentence_mix_words": 60})
