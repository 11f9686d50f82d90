"""First-person verb opinions (data/verb_opinions.py): what each construction does to a verb's target, that the
verbs are not the behaviour suite's, held-out verbs and wordings, determinism, and that only training trees are
read."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources

import pytest

from lstm_sentiment.config import DataConfig
from lstm_sentiment.data.composition import kept_target
from lstm_sentiment.data.negation import negated_target
from lstm_sentiment.data.prepare import prepare
from lstm_sentiment.data.sources import load_corpus
from lstm_sentiment.data.treebank import TreebankOptions
from lstm_sentiment.data.verb_opinions import (
    EXTENDED,
    HELD_OUT,
    TRAINING,
    VERB_CONSTRUCTIONS,
    training_examples,
    verb_examples,
    verb_objects,
    verb_sets,
    verb_words,
    vocabulary_words,
)
from lstm_sentiment.errors import UserError
from test_composition import ASIDE, SUPERB, trees
from test_negation import DREADFUL, write_treebank

SOURCE = (DREADFUL, SUPERB, ASIDE)


def _verb_of(text: str, words=TRAINING):
    found = [verb for verb in words.positive + words.negative
             if {verb.base, verb.past} & set(text.rstrip(".?").replace(",", "").replace(";", "").split())]
    return found


def test_objects_are_the_opinions_subjects_and_it():
    assert verb_objects(trees(*SOURCE)) == ["it", "the acting", "the plot"]


def test_every_construction_moves_the_target_as_english_does():
    made = list(verb_examples(trees(*SOURCE), per_pair=len(VERB_CONSTRUCTIONS)))
    assert {name for _, _, name in made} == set(VERB_CONSTRUCTIONS)
    for text, target, name in made:
        verbs = _verb_of(text)
        if name == "verb contrast":  # both verbs appear; the author's (the later, present-day one) counts
            assert len(verbs) == 2
            author = [verb for verb in verbs if text.rstrip(".").endswith((f" {verb.past} it", f" {verb.base} it"))]
            assert len(author) == 1 and target == kept_target(author[0].label), text
            continue
        (verb,) = verbs
        if name in ("stated verb", "verb can't ... enough"):
            assert target == kept_target(verb.label), text
        elif name == "double negation of a verb":
            assert target == negated_target(4 - verb.label), text
            assert (target > 0.5) == (verb.label > 2)
        elif name in ("negated verb", "embedded negation of a verb", "negated verb with an aside"):
            assert target == negated_target(verb.label), text
        else:  # expectation and question: the last words confirm or deny
            kept = text.endswith(TRAINING.confirmed + TRAINING.yes)
            assert target == (kept_target(verb.label) if kept else negated_target(verb.label)), text
        assert text[0].isupper() and text[-1] in ".?" or text.endswith(TRAINING.no + TRAINING.yes)
    assert all("in a small town" in text for text, _, name in made if name == "negated verb with an aside")
    # "I can't resent it enough" is not English: the idiom takes positive verbs only
    assert all(target > 0.5 for _, target, name in made if name == "verb can't ... enough")


def test_positive_and_negative_verbs_are_as_many_and_examples_deterministic():
    assert len(TRAINING.positive) == len(TRAINING.negative)
    assert len(HELD_OUT.positive) == len(HELD_OUT.negative)
    source = trees(*SOURCE)
    first, again = list(verb_examples(source, 4)), list(verb_examples(source, 4))
    assert first == again
    pairs = (len(TRAINING.positive) + len(TRAINING.negative)) * len(verb_objects(source))
    negative_pairs = len(TRAINING.negative) * len(verb_objects(source))
    # every family fits every pair but the idiom, which skips negative verbs
    assert 4 * pairs - negative_pairs <= len(first) < 4 * pairs
    assert len({text for text, _, _ in first}) == len(first)
    assert list(verb_examples(trees(DREADFUL, SUPERB), 4)) == []  # no neutral aside in the trees


def test_strength_moves_reversed_targets_only():
    source = trees(*SOURCE)
    default, full = list(verb_examples(source, 9)), list(verb_examples(source, 9, strength=1.0))
    assert [text for text, _, _ in default] == [text for text, _, _ in full]
    for (_, before, _), (_, after, _) in zip(default, full, strict=True):
        if before in {kept_target(label) for label in (0, 1, 3, 4)}:
            assert after == before
        else:
            assert abs(after - 0.5) > abs(before - 0.5)


def test_no_verb_is_the_behaviour_suites_and_held_out_shares_nothing_with_training():
    lexicon = json.loads(resources.files("lstm_sentiment.behaviour").joinpath("lexicon.json").read_text())
    suite_verbs = {word for key in ("pos_verb", "pos_verb_past", "neg_verb", "neg_verb_past") for word in lexicon[key]}
    suite_verbs |= {"recommend", "recommended", "praise", "praised"}  # its idioms' and the README examples' verbs
    assert not (verb_words(EXTENDED) | verb_words(HELD_OUT)) & suite_verbs
    assert not verb_words(EXTENDED) & verb_words(HELD_OUT)
    for field in TRAINING.__dataclass_fields__:
        if field not in ("positive", "negative", "composition"):
            assert not set(getattr(TRAINING, field)) & set(getattr(HELD_OUT, field)), field
    source = trees(*SOURCE)
    assert not {t for t, _, _ in verb_examples(source, 9)} & {t for t, _, _ in verb_examples(source, 9, words=HELD_OUT)}
    sets = verb_sets(source)
    for name in VERB_CONSTRUCTIONS:
        for suffix in ("", ", new verbs", ", new verbs and wordings"):
            assert sets[f"verb: {name}{suffix}"], name + suffix
    assert all(_verb_of(text, HELD_OUT) for text, _ in sets["verb: negated verb, new verbs"])
    assert all(label in (0, 1) for examples in sets.values() for _, label in examples)


def test_verb_opinions_are_training_examples_and_their_verbs_join_the_vocabulary(tmp_path):
    treebank = write_treebank(tmp_path / "sst.zip", train=list(SOURCE),
                              dev=["(4 (2 It) (4 (2 is) (4 superb)))"], test=["(0 (2 It) (0 (2 is) (0 awful)))"])
    config = DataConfig(phrases=True, treebank_labels="graded", verb_opinions=2)
    options = TreebankOptions.of(config)
    assert options.verb_opinions == 2
    plain = load_corpus(treebank, treebank=TreebankOptions(phrases=True, graded=True))
    with_verbs = load_corpus(treebank, treebank=options)
    assert with_verbs.train.texts[:len(plain.train.texts)] == plain.train.texts
    added = with_verbs.train.texts[len(plain.train.texts):]
    composed = {text for text, _, _ in verb_examples(trees(*SOURCE), 2)}
    assert composed < set(added)
    # the held-out verbs, stated only, in the past and the present: never negated, embedded or contrasted
    stated = set(added) - composed
    objects = verb_objects(trees(*SOURCE))
    assert len(stated) == 2 * (len(HELD_OUT.positive) + len(HELD_OUT.negative)) * len(objects)
    assert any(" prize " in text for text in stated) and any(" prized " in text for text in stated)
    assert all(text.startswith("I ") and _verb_of(text, HELD_OUT) and "n't" not in text and " not " not in text
               and not _verb_of(text) for text in stated)
    assert with_verbs.validation.texts == plain.validation.texts and with_verbs.test.texts == plain.test.texts
    assert "cherished" in verb_words() and "rued" not in verb_words()
    splits = {"train": with_verbs.train, "validation": with_verbs.validation, "test": with_verbs.test}
    vocab, _, _ = prepare(splits, DataConfig(num_words=10, verb_opinions=2))
    assert vocabulary_words() == verb_words(TRAINING) | verb_words(HELD_OUT)
    assert vocabulary_words() <= set(vocab.tokens)  # beyond the 10 most frequent: every verb of the examples


def test_verb_opinions_go_up_to_nine():
    DataConfig(verb_opinions=9).validate()
    with pytest.raises(UserError, match="data.verb_opinions"):
        DataConfig(verb_opinions=10).validate()


def test_the_extended_lexicon_adds_verbs_to_the_same_wordings(tmp_path):
    assert EXTENDED.positive[:len(TRAINING.positive)] == TRAINING.positive
    assert len(EXTENDED.positive) == len(EXTENDED.negative) == 2 * len(TRAINING.positive)
    assert {verb.label for verb in EXTENDED.positive} <= {3, 4} and {verb.label for verb in EXTENDED.negative} <= {0, 1}
    assert replace(EXTENDED, positive=TRAINING.positive, negative=TRAINING.negative) == TRAINING
    source = trees(*SOURCE)
    standard = {text for text, _, _ in training_examples(source, 4)}
    extended = {text for text, _, _ in training_examples(source, 4, lexicon="extended")}
    assert extended != standard and len(extended) > 1.5 * len(standard)
    assert {t for t in standard if " prize" in t} == {t for t in extended if " prize" in t}  # held-out: the same
    added = extended - standard
    assert any(" revered " in text for text in added) and any(" belittle" in text for text in added)
    assert vocabulary_words("extended") == verb_words(EXTENDED) | verb_words(HELD_OUT)
    assert TreebankOptions.of(DataConfig(verb_opinions=2, verb_lexicon="extended")).verb_lexicon == "extended"
    with pytest.raises(UserError, match="data.verb_lexicon"):
        DataConfig(verb_lexicon="huge").validate()
