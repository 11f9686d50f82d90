"""Set phrases as training examples (data/idioms.py, data.idioms): the lexicon's shape, that it shares no wording
with the behaviour suite, its subjects, determinism, and that only training trees are read."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from lstm_sentiment.config import DataConfig
from lstm_sentiment.data.idioms import PLAIN_SUBJECTS, idiom_examples, idiom_sets, lexicon, said_of, subjects
from lstm_sentiment.data.sources import load_corpus
from lstm_sentiment.data.text import tokenize
from lstm_sentiment.data.treebank import TreebankOptions
from lstm_sentiment.errors import UserError
from lstm_sentiment.ngram import is_negator
from test_composition import ASIDE, SUPERB, trees
from test_negation import DREADFUL, write_treebank

SOURCE = (DREADFUL, SUPERB, ASIDE)
SLOT = re.compile(r"\{\w+\}")


def _word_ngrams(template: str, n: int) -> set[tuple[str, ...]]:
    """The runs of n literal words of a template (slots break a run): what a copied wording would share."""
    grams = set()
    for piece in SLOT.split(template.lower()):
        words = re.findall(r"[a-z']+", piece)
        grams |= {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}
    return grams


def test_the_lexicon_is_balanced_labelled_and_one_slot_per_idiom():
    for which in ("training", "held_out", "held_out_more"):
        idioms = lexicon()[which]
        assert sum(i["label"] > 2 for i in idioms) == sum(i["label"] < 2 for i in idioms), which
        assert all(i["label"] in (0, 1, 3, 4) for i in idioms)
        assert all(len(SLOT.findall(i["text"])) == 1 and i["text"][-1] in ".!" for i in idioms)
    lists = [{i["text"] for i in lexicon()[which]} for which in ("training", "held_out", "held_out_more")]
    assert sum(map(len, lists)) == len(set().union(*lists))


def test_no_idiom_shares_three_words_in_a_row_with_the_behaviour_suite():
    suite = json.loads(resources.files("lstm_sentiment.behaviour").joinpath("suite.json").read_text())
    suite_grams = set()
    for test in suite["tests"]:
        for template in test.get("templates", []):
            for key in ("text", "perturbed"):
                suite_grams |= _word_ngrams(template.get(key, ""), 3)
    assert ("can't", "go", "wrong") in suite_grams and ("enough", "good", "things") in suite_grams
    for idiom in lexicon()["training"] + lexicon()["held_out"] + lexicon()["held_out_more"]:
        assert not _word_ngrams(idiom["text"], 3) & suite_grams, idiom["text"]


def test_subjects_are_the_plain_ones_then_the_trees_singular_subjects():
    assert subjects(trees(*SOURCE)) == [*PLAIN_SUBJECTS, "the acting", "the plot"]
    assert said_of("{s} fell flat.", "the acting") == "The acting fell flat."
    assert said_of("I can't fault {o}.", "it") == "I can't fault it."


def test_examples_are_deterministic_each_idiom_about_several_subjects():
    source = trees(*SOURCE)
    first = list(idiom_examples(source, 3))
    assert first == list(idiom_examples(source, 3))
    texts = [text for text, _ in first]
    assert len(texts) == len(set(texts))
    idioms = lexicon()["training"]
    assert len(first) == 3 * len(idioms)  # one plain subject and two of the trees' for each (five to choose from)
    assert ("I can't fault it." in texts or "I can't fault this film." in texts
            or "I can't fault this movie." in texts)
    by_text = dict(first)
    fell_flat = [text for text in texts if text.endswith("fell flat.")]
    assert len(fell_flat) == 3 and all(by_text[text] == 0.0 for text in fell_flat)
    assert {target for _, target in first} <= {0.0, 0.25, 0.75, 1.0}
    # with one subject each, only the plain subjects are used
    assert all(text.split()[0] in ("It", "This", "I", "There's", "Don't", "You", "No", "Not", "Save", "I'll", "I'd")
               for text, _ in idiom_examples(source, 1))


def test_validation_sets_hold_the_training_and_the_held_out_idioms():
    sets = idiom_sets(trees(*SOURCE), per_idiom=2)
    assert len(sets["idioms"]) == 2 * len(lexicon()["training"])
    assert len(sets["idioms, held out"]) == 2 * len(lexicon()["held_out"])
    held_out = {text for text, _ in sets["idioms, held out"]}
    assert not held_out & {text for text, _ in idiom_examples(trees(*SOURCE), 16)}
    assert {label for examples in sets.values() for _, label in examples} == {0, 1}
    more = sets["idioms, held out (more)"]
    assert len(more) == 2 * len(lexicon()["held_out_more"])
    negated, plain = sets["idioms, held out (more), with a negator"], sets["idioms, held out (more), without"]
    assert sorted(negated + plain) == sorted(more) and len(negated) == len(plain)
    assert all(any(is_negator(word) for word in tokenize(text)) for text, _ in negated)
    assert not any(any(is_negator(word) for word in tokenize(text)) for text, _ in plain)


def test_idioms_are_training_examples_of_a_treebank_source_only(tmp_path):
    treebank = write_treebank(tmp_path / "sst.zip", train=list(SOURCE),
                              dev=["(4 (2 It) (4 (2 is) (4 superb)))"], test=["(0 (2 It) (0 (2 is) (0 awful)))"])
    options = TreebankOptions.of(DataConfig(phrases=True, treebank_labels="graded", idioms=2))
    assert options.idioms == 2
    plain = load_corpus(treebank, treebank=TreebankOptions(phrases=True, graded=True))
    with_idioms = load_corpus(treebank, treebank=options)
    assert with_idioms.train.texts[:len(plain.train.texts)] == plain.train.texts
    added = dict(zip(with_idioms.train.texts[len(plain.train.texts):],
                     with_idioms.train.target_list()[len(plain.train.texts):], strict=True))
    assert added == dict(idiom_examples(trees(*SOURCE), 2))
    assert with_idioms.validation.texts == plain.validation.texts and with_idioms.test.texts == plain.test.texts


def test_data_idioms_is_bounded_by_name():
    DataConfig(idioms=16).validate()
    for bad in (-1, 17):
        with pytest.raises(UserError, match="data.idioms"):
            DataConfig(idioms=bad).validate()
