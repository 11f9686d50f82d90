"""Counterfactual negation of treebank phrases (data/negation.py): which phrases are negated, how, with which
target, and that only the training trees are touched."""

from __future__ import annotations

import zipfile

from lstm_sentiment.data.negation import negate_copula, negated_examples, negated_target
from lstm_sentiment.data.sources import load_corpus
from lstm_sentiment.data.treebank import TreebankOptions, parse_tree

# "The plot is dreadful ." (1): its copula phrase "is dreadful ." (1) and complement "dreadful ." (0) agree, and
# the phrase is most of the sentence; "It 's great fun , but the ending is dull ." mixes two opinions
DREADFUL = "(1 (2 The) (1 (2 plot) (1 (2 is) (0 (0 dreadful) (2 .)))))"
MIXED = ("(3 (3 (2 It) (4 (2 's) (4 (4 great) (3 fun)))) (2 (2 ,) (2 (2 but) (1 (2 (2 the) (2 ending)) "
         "(1 (2 is) (1 (1 dull) (2 .)))))))")
NOT_MIRRORED = "(1 (2 It) (1 (2 's) (1 (2 hard) (2 (2 to) (2 care)))))"  # "'s not hard to care" is not positive


def write_treebank(path, train, dev, test):
    with zipfile.ZipFile(path, "w") as archive:
        for name, lines in (("train", train), ("dev", dev), ("test", test)):
            archive.writestr(f"trees/{name}.txt", "\n".join(lines) + "\n")
    return path


def test_the_three_negators_and_their_grammar():
    assert [negate_copula("is dreadful", k) for k in range(3)] == \
        ["is not dreadful", "isn't dreadful", "is never dreadful"]
    assert negate_copula("Was superb", 1) == "Wasn't superb"
    assert negate_copula("'s great", 1) == "'s not great"  # no contracted form: "not"
    assert negate_copula("be boring", 2) == "never be boring"  # "will be boring" -> "will never be boring"
    assert negate_copula("makes sense", 0) is None


def test_negated_targets_mirror_the_label_halfway_to_neutral():
    assert [negated_target(label) for label in (0, 1, 3, 4)] == [0.75, 0.625, 0.375, 0.25]


def test_negation_strength_sets_how_far_the_mirror_image_reaches():
    assert [negated_target(label, 1.0) for label in (0, 1, 3, 4)] == [1.0, 0.75, 0.25, 0.0]
    assert [negated_target(label, 0.25) for label in (0, 4)] == [0.625, 0.375]
    made = list(negated_examples(parse_tree(DREADFUL, "train.txt:1"), copies=3, strength=1.0))
    assert [text for text, _ in made] == [text for text, _ in negated_examples(parse_tree(DREADFUL, "t"), 3)]
    assert {target for _, target in made} == {0.75}  # "is dreadful" (1) -> "isn't dreadful" as far from neutral


def test_a_clear_copula_phrase_and_the_sentence_it_carries_are_negated():
    made = list(negated_examples(parse_tree(DREADFUL, "train.txt:1"), copies=3))
    phrases = {"is not dreadful .", "isn't dreadful .", "is never dreadful ."}
    assert {text for text, _ in made} == phrases | {f"The plot {phrase}" for phrase in phrases}
    assert {target for _, target in made} == {0.625}
    assert made == list(negated_examples(parse_tree(DREADFUL, "train.txt:1"), copies=3))  # deterministic order
    assert len(list(negated_examples(parse_tree(DREADFUL, "train.txt:1"), copies=1))) == 2


def test_a_clause_among_others_is_negated_alone_and_odd_predicates_not_at_all():
    made = dict(negated_examples(parse_tree(MIXED, "train.txt:1"), copies=1))
    # both copula phrases are negated; neither carries the whole sentence, so the sentence is not
    assert {negated_target(4), negated_target(1)} == set(made.values())
    assert all(not text.startswith("It") for text in made)
    assert list(negated_examples(parse_tree(NOT_MIRRORED, "train.txt:1"), copies=3)) == []


def test_negations_are_training_examples_only(tmp_path):
    treebank = write_treebank(tmp_path / "sst.zip", train=[DREADFUL, MIXED],
                              dev=["(4 (2 It) (4 (2 is) (4 superb)))"], test=["(0 (2 It) (0 (2 is) (0 awful)))"])
    plain = load_corpus(treebank, treebank=TreebankOptions(phrases=True))
    negated = load_corpus(treebank, treebank=TreebankOptions(phrases=True, negations=3))
    added = dict(zip(negated.train.texts[len(plain.train.texts):], negated.train.labels[len(plain.train.texts):]))
    assert negated.train.texts[:len(plain.train.texts)] == plain.train.texts
    assert added["The plot is not dreadful ."] == 1 and added["'s not great fun"] == 0
    assert negated.validation.texts == plain.validation.texts and negated.test.texts == plain.test.texts
    graded = load_corpus(treebank, treebank=TreebankOptions(phrases=True, graded=True, negations=3))
    assert dict(zip(graded.train.texts, graded.train.targets))["The plot is not dreadful ."] == 0.625
