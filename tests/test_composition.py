"""Composed examples from treebank opinions (data/composition.py): what each construction does to an opinion's
target, where the fillers come from, determinism, and that only training trees are composed."""

from __future__ import annotations

import pytest

from lstm_sentiment.config import DataConfig
from lstm_sentiment.data.composition import (
    CONSTRUCTIONS,
    SEVEN,
    Opinion,
    composed_examples,
    construction_sets,
    kept_target,
    neutral_asides,
    opinions,
    takes_more,
)
from lstm_sentiment.data.negation import negated_target
from lstm_sentiment.data.sources import load_corpus
from lstm_sentiment.data.treebank import TreebankOptions, parse_tree
from lstm_sentiment.data.wordings import EXTENDED, HELD_OUT, IDIOMS, TRAINING
from lstm_sentiment.errors import UserError
from test_negation import DREADFUL, write_treebank

SUPERB = "(4 (2 (2 The) (2 acting)) (4 (2 was) (4 (4 superb) (2 .))))"
ASIDE = "(2 (2 It) (2 (2 runs) (2 (2 in) (2 (2 a) (2 (2 small) (2 town))))))"  # "in a small town": an aside


def trees(*lines: str):
    return [parse_tree(line, f"train.txt:{number}") for number, line in enumerate(lines, 1)]


def test_an_opinion_keeps_its_subject_and_loses_the_full_stop():
    assert list(opinions(parse_tree(DREADFUL, "t"))) == [
        Opinion("the plot", "is", "dreadful", 1)]
    (superb,) = opinions(parse_tree(SUPERB, "t"))
    assert (superb.clause, superb.negated_clause) == ("the acting was superb", "the acting wasn't superb")


def test_asides_are_neutral_adverbial_phrases():
    assert neutral_asides(trees(ASIDE, DREADFUL)) == ["in a small town"]


def test_every_construction_moves_the_target_as_english_does():
    made = list(composed_examples(trees(DREADFUL, SUPERB, ASIDE), per_opinion=7))
    assert {name for _, _, name in made} == set(list(CONSTRUCTIONS)[:SEVEN])
    assert len(made) == 14  # two opinions, seven constructions each
    by_name = {}
    for text, target, name in made:
        by_name.setdefault(name, []).append((text, target))
    for text, target in by_name["embedded negation"] + by_name["negation with an aside"]:
        assert target == (negated_target(1) if "dreadful" in text else negated_target(4))
    assert all("in a small town" in text for text, _ in by_name["negation with an aside"])
    for text, target in by_name["double negation"]:  # "... that the plot isn't dreadful": dreadful after all
        assert ("isn't dreadful" in text and target < 0.5) or ("wasn't superb" in text and target > 0.5)
    for text, target in by_name["contrast"]:  # both opinions appear; the one the construction decides counts
        assert "dreadful" in text and "superb" in text and target in (kept_target(1), kept_target(4))
    for text, target in by_name["affirming negation"]:  # "there's no denying that ...": kept despite the "no"
        assert target == (kept_target(1) if "dreadful" in text else kept_target(4))
        assert any(word in text.lower().split() for word in ("no", "nobody", "never", "nothing", "can't", "won't"))
    for text, target in by_name["expectation"] + by_name["answered question"]:
        kept = text.endswith(("and it was.", "and it really was.", "and it certainly was.", "and it truly was.",
                              "Yes.", "Absolutely.", "Definitely.", "Yes, it is.", "Very much so."))
        label = 1 if "dreadful" in text else 4
        assert target == (kept_target(label) if kept else negated_target(label))


def test_negation_strength_reaches_reversed_and_doubly_negated_opinions_only():
    source = trees(DREADFUL, SUPERB, ASIDE)
    default, full = list(composed_examples(source, 6)), list(composed_examples(source, 6, strength=1.0))
    assert [text for text, _, _ in default] == [text for text, _, _ in full]
    for (text, before, name), (_, after, _) in zip(default, full):
        label = 1 if "dreadful" in text and name != "contrast" else 4 if name != "contrast" else None
        if before in (kept_target(1), kept_target(4)):  # kept opinions, contrasts included, do not move
            assert after == before
        elif name == "double negation":  # "... that the plot isn't dreadful": the opinion's own label
            assert after == label / 4
        else:
            assert after == negated_target(label, 1.0)


def test_compositions_are_deterministic_and_counted_per_opinion():
    source = trees(DREADFUL, SUPERB, ASIDE)
    assert list(composed_examples(source, 6)) == list(composed_examples(source, 6))
    assert len(list(composed_examples(source, 2))) == 4
    assert list(composed_examples(trees(DREADFUL, ASIDE), 6)) == []  # no opposite opinion to contrast with


def test_compositions_are_training_examples_only(tmp_path):
    treebank = write_treebank(tmp_path / "sst.zip", train=[DREADFUL, SUPERB, ASIDE],
                              dev=["(4 (2 It) (4 (2 is) (4 superb)))"], test=["(0 (2 It) (0 (2 is) (0 awful)))"])
    plain = load_corpus(treebank, treebank=TreebankOptions(phrases=True, graded=True))
    composed = load_corpus(treebank, treebank=TreebankOptions(phrases=True, graded=True, compositions=6))
    assert composed.train.texts[:len(plain.train.texts)] == plain.train.texts
    added = dict(zip(composed.train.texts[len(plain.train.texts):], composed.train.targets[len(plain.train.texts):]))
    assert len(added) == 12 and set(added.values()) <= {negated_target(label) for label in range(5)} | \
        {kept_target(label) for label in range(5)}
    assert composed.validation.texts == plain.validation.texts and composed.test.texts == plain.test.texts
    options = TreebankOptions.of(DataConfig(phrases=True, treebank_labels="graded", negations=3, compositions=6,
                                                balance_compositions=True))
    assert options == TreebankOptions(phrases=True, graded=True, negations=3, compositions=6, balance_compositions=True)


def test_balance_evens_each_construction_and_keeps_the_unbalanced_examples_first():
    source = trees(DREADFUL, SUPERB, ASIDE, "(4 (2 It) (4 (2 is) (4 (4 wonderful) (2 .))))")
    plain = list(composed_examples(source, 6))
    balanced = list(composed_examples(source, 6, balance=True))
    assert balanced[:len(plain)] == plain and len(balanced) > len(plain)
    for name in CONSTRUCTIONS:
        targets = [target for _, target, made_by in balanced if made_by == name]
        assert sum(target > 0.5 for target in targets) == sum(target < 0.5 for target in targets), name


def test_held_out_wordings_share_no_wording_with_training_and_keep_each_effect():
    for field in TRAINING.__dataclass_fields__:
        assert not set(getattr(EXTENDED, field)) & set(getattr(HELD_OUT, field)), field
        assert getattr(EXTENDED, field)[:len(getattr(TRAINING, field))] == getattr(TRAINING, field)
    source = trees(DREADFUL, SUPERB, ASIDE)
    seen = {text for text, _, _ in composed_examples(source, 7)}
    held_out = list(composed_examples(source, 7, wordings=HELD_OUT))
    assert not seen & {text for text, _, _ in held_out}
    # the same opinion in the same family, in other words (kept or denied may differ where the wording decides)
    assert [name for _, _, name in composed_examples(source, 7)] == [name for _, _, name in held_out]
    for text, target, name in held_out:
        if name in ("embedded negation", "negation with an aside"):
            assert target == (negated_target(1) if "dreadful" in text else negated_target(4))
    sets = construction_sets(source)
    assert {f"{name}, new wordings" for name in list(CONSTRUCTIONS)[:SEVEN]} <= set(sets)


def test_extended_wordings_are_chosen_by_the_config_and_vary_the_text_not_the_families(tmp_path):
    config = DataConfig(phrases=True, treebank_labels="graded", compositions=7, composition_wordings="extended")
    assert TreebankOptions.of(config).composition_wordings == "extended"
    source = trees(DREADFUL, SUPERB, ASIDE)
    standard, extended = list(composed_examples(source, 7)), list(composed_examples(source, 7, wordings=EXTENDED))
    assert [name for _, _, name in standard] == [name for _, _, name in extended]
    treebank = write_treebank(tmp_path / "sst.zip", train=[DREADFUL, SUPERB, ASIDE], dev=[SUPERB], test=[DREADFUL])
    texts = set(load_corpus(treebank, treebank=TreebankOptions.of(config)).train.texts)
    assert {text for text, _, _ in extended} <= texts


def test_idiom_wordings_add_kept_affirmers_and_change_only_that_family():
    for field in TRAINING.__dataclass_fields__:
        assert not set(getattr(IDIOMS, field)) & set(getattr(HELD_OUT, field)), field
    added = IDIOMS.affirmers[len(TRAINING.affirmers):]
    assert added and all(("can't" in w or "cannot" in w or "couldn't" in w) and "{c}" in w for w in added)
    config = DataConfig(phrases=True, treebank_labels="graded", compositions=7, composition_wordings="idioms")
    assert TreebankOptions.of(config).composition_wordings == "idioms"
    source = trees(DREADFUL, SUPERB, ASIDE)
    standard, idioms = list(composed_examples(source, 7)), list(composed_examples(source, 7, wordings=IDIOMS))
    assert [name for _, _, name in standard] == [name for _, _, name in idioms]
    for (text, target, name), (idiom_text, idiom_target, _) in zip(standard, idioms, strict=True):
        assert idiom_target == target  # an affirming negation keeps the opinion in every wording
        if name != "affirming negation":
            assert idiom_text == text


def test_the_negated_limit_keeps_its_opinion_and_only_eight_compositions_make_it():
    source = trees(DREADFUL, SUPERB, ASIDE)
    seven, eight = list(composed_examples(source, 7)), list(composed_examples(source, 8))
    assert "negated limit" not in {name for _, _, name in seven}
    limits = [(text, target) for text, target, name in eight if name == "negated limit"]
    assert len(limits) == 2  # "couldn't have been more dreadful": as dreadful as before, or more
    for text, target in limits:
        assert target == (kept_target(1) if "dreadful" in text else kept_target(4))
        assert any(word in text for word in ("n't", "not", "can't")) and text[0].isupper()
    assert [example for example in eight if example[2] != "negated limit"] != seven  # 8 families rotate otherwise
    # "more <complement>" only where English allows it
    assert takes_more("dreadful") and not takes_more("a mess") and not takes_more("still charming")
    assert not takes_more("badly") and not takes_more("Awful")
    assert "negated limit" not in construction_sets(source)
    sets = construction_sets(source, limits=True)
    assert sets["negated limit"] and sets["negated limit, new wordings"]
    assert not {text for text, _ in sets["negated limit"]} & {text for text, _ in sets["negated limit, new wordings"]}


def test_compositions_go_up_to_eight():
    DataConfig(compositions=8).validate()
    with pytest.raises(UserError, match="data.compositions"):
        DataConfig(compositions=9).validate()
