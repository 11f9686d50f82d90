"""ngram.unread_mix: texts the member reads nothing of get a mix of their own (ngram.py, ngram_fit.py), and every
path that scores with the member uses it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import member_record_edited, train_tiny_run
from lstm_sentiment.cli import main
from lstm_sentiment.config_io import layered_config
from lstm_sentiment.data.text import tokenize
from lstm_sentiment.errors import UserError
from lstm_sentiment.explain import explain
from lstm_sentiment.explain_view import explanation_fragment
from lstm_sentiment.ngram import NGRAM_FILE, NgramMember
from lstm_sentiment.ngram_fit import fit_mixes, fit_unread_mix
from lstm_sentiment.predict import load_model
from test_ngram import NGRAM_CONFIG, REVIEWS

UNREAD_MIX = {"lstm": 3.0, "ngram": 0.0, "bias": 0.5}


def sentence_member(**mixes) -> NgramMember:
    return NgramMember(grams=["dull"], weights=np.array([-2.0], np.float32), bias=-0.5, order=1,
                       mix={"lstm": 1.0, "ngram": 1.0, "bias": -1.0}, negation_scope="sentence", **mixes)


def test_scores_tell_which_texts_the_member_reads_nothing_of():
    texts = ["It isn't dull.", "Zzz qqq.", "It is dull.", "It isn't dull. It is not."]
    scores = sentence_member().scores([tokenize(text) for text in texts])
    # negated sentences are left out whole; words it does not know are read (its intercept is its prior there)
    assert scores.unread.tolist() == [True, False, False, True]
    assert scores.logits.tolist() == [-0.5, -0.5, -2.5, -0.5]


def test_unread_texts_get_their_own_mix_and_the_rest_keep_theirs():
    member = sentence_member(unread_mix=UNREAD_MIX)
    scores = member.scores([tokenize("It isn't dull."), tokenize("It is dull.")])
    lstm = np.array([0.4, 0.4])
    assert member.combine(lstm, scores).tolist() == pytest.approx([3.0 * 0.4 + 0.5, 0.4 - 2.5 - 1.0])
    with pytest.raises(ValueError, match="scores"):
        member.combine(lstm, scores.logits)  # plain logits cannot say which texts are unread
    assert sentence_member().combine(lstm, scores.logits).tolist() == pytest.approx([0.4 - 1.5, 0.4 - 3.5])
    assert member.mix_for(5, unread=True) == UNREAD_MIX and member.mix_for(5) == member.mix


def skewed_unread_texts(seed: int = 0, count: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """An LSTM logit that reads both labels alike, on texts 70% negative (as negated sentences of reviews)."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(count) < 0.3).astype(int)
    return (2.0 * labels - 1.0) + rng.normal(0, 1, count), labels


def test_a_balanced_unread_mix_learns_no_label_prior():
    lstm, labels = skewed_unread_texts()
    fitted = fit_unread_mix(lstm, labels, np.ones(len(labels)), balanced=False)
    balanced = fit_unread_mix(lstm, labels, np.ones(len(labels)), balanced=True)
    assert fitted["bias"] < -0.5  # the prior: log(0.3 / 0.7) = -0.85
    assert abs(balanced["bias"]) < 0.15 and fitted["ngram"] == balanced["ngram"] == 0.0
    assert balanced["lstm"] == pytest.approx(2.0, abs=0.2)  # the scale of a unit-noise logit, either way
    assert fitted["lstm"] == pytest.approx(2.0, abs=0.2)


def test_fit_mixes_sets_the_unread_texts_apart_only_when_asked_and_enough():
    lstm, labels = skewed_unread_texts(1, 2000)
    rng = np.random.default_rng(2)
    ngram = (2.0 * labels - 1.0) + rng.normal(0, 1, 2000)
    unread = np.arange(2000) < 500
    ngram[unread] = -0.5  # the member's intercept: it read nothing
    tokens = np.full(2000, 20)
    _, _, apart = fit_mixes(lstm, ngram, labels.tolist(), None, tokens, 0, unread, "shared")
    assert apart is None
    mix, _, apart = fit_mixes(lstm, ngram, labels.tolist(), None, tokens, 0, unread, "balanced")
    assert apart == fit_unread_mix(lstm[unread], labels[unread], np.ones(500), balanced=True)
    assert mix["ngram"] > 0.5  # fitted on the texts it read, where it knows
    few = np.arange(2000) < 10
    assert fit_mixes(lstm, ngram, labels.tolist(), None, tokens, 0, few, "fit")[2] is None


def test_the_setting_is_checked():
    assert layered_config(values={"ngram.unread_mix": "balanced"}).ngram.unread_mix == "balanced"
    with pytest.raises(UserError, match="ngram.unread_mix"):
        layered_config(values={"ngram.unread_mix": "sometimes"})


@pytest.fixture(scope="module")
def unread_run(tmp_path_factory, small_archive):
    """A tiny run whose member then gets an unread mix."""
    run = train_tiny_run(tmp_path_factory.mktemp("unread"), small_archive, 1,
                         NGRAM_CONFIG + 'unread_mix = "balanced"\nnegation_scope = "sentence"\n')
    member = NgramMember.load(run)
    member.unread_mix = UNREAD_MIX
    member.save(run)
    return run


def test_predict_explain_and_evaluate_use_the_unread_mix(unread_run, small_archive, capsys):
    record = json.loads((unread_run / NGRAM_FILE).read_text())
    assert record["format"] == 3 and record["unread_mix"] == UNREAD_MIX
    predictor = load_model(unread_run)
    texts = REVIEWS + ["it was not qqq zzz"]  # a sentence with a negator: the "sentence" member reads none of it
    ids, lengths = predictor.encode(texts)
    lstm = predictor.logits_of(ids, lengths)
    scores = predictor.ngram.scores([text.split() for text in texts])
    assert scores.unread[-1] and not scores.unread[0]
    expected = predictor.ngram.combine(lstm, scores, lengths.numpy())
    assert expected[-1] == pytest.approx(3.0 * lstm[-1] + 0.5)
    np.testing.assert_allclose(predictor.probabilities(texts), 1 / (1 + np.exp(-expected)), rtol=1e-12)
    explanation = explain(predictor, texts[-1])
    assert explanation.probability == pytest.approx(predictor.probabilities([texts[-1]])[0])
    assert explanation.ngram_contributions == [] and explanation.ngram_unread
    lstm_only = load_model(unread_run)
    lstm_only.ngram = None  # token contributions are the LSTM's, in units of the logit its mix gives them
    np.testing.assert_allclose(explanation.contributions,
                               [UNREAD_MIX["lstm"] * value for value in explain(lstm_only, texts[-1]).contributions])
    assert not explain(predictor, texts[0]).ngram_unread
    assert "read nothing of this review" in explanation_fragment(explanation)
    assert main(["explain", "--model", str(unread_run), texts[-1]]) == 0
    assert "the n-gram member reads nothing of it" in capsys.readouterr().out
    assert main(["evaluate", "--model", str(unread_run), "--data", str(small_archive), "--json"]) == 0
    assert 0.0 <= json.loads(capsys.readouterr().out)["accuracy"] <= 1.0


DAMAGES = {"format_2_with_unread_mix": lambda record: record.update(
                format=2, sentence_mix={"lstm": 1.0, "ngram": 1.0, "bias": 0.0, "words": 5}),
           "format_3_without": lambda record: record.pop("unread_mix"),
           "not_a_number": lambda record: record["unread_mix"].update(bias="high")}


@pytest.mark.parametrize("damage", DAMAGES)
def test_an_unread_mix_out_of_place_is_refused(unread_run, tmp_path, damage):
    with pytest.raises(UserError, match="unread_mix"):
        load_model(member_record_edited(unread_run, tmp_path / "copy", DAMAGES[damage]))
