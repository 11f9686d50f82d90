"""Negation on validation data: the treebank's dev trees, negated by data/negation.py's rule, scored per model.

    python benchmarks/negation_validation.py --sst trainDevTestTrees_PTB.zip --model shipped=default \\
        --model neg3=runs/neg3 [--out benchmarks/results/negation_validation.json]

`check` is a test suite: choosing models on it would tune them to its templates. This set is for choosing: the
clear copula phrases of the dev trees ("is a delight"), each negated three ways ("is not / isn't / is never a
delight"), and the sentences those phrases carry, with the label of the negation's target (negated negative ->
positive). The originals are scored too, as a control: a model that is right on them and wrong on their
negations reads the opinion word and ignores the "not". Then the constructions of data/composition.py (embedding
negation, an aside between, double negation, expectations, answered questions, contrasts), filled with the dev
trees' opinions: a model trained with data.compositions saw the same wordings with other opinions, so these
rows measure whether it learned the construction, not the phrase; the rows ", new wordings" fill the same
constructions with wordings no training example uses (data/wordings.py: HELD_OUT), so they measure whether it learned
the construction rather than its training phrases. Then data/verb_opinions.py's first-person verb constructions
("I didn't cherish the plot") with the dev trees' subjects as objects: 'verb: ...' in the training verbs and
wordings, 'verb: ..., new verbs' with verbs that training only states, in the training wordings, and
'verb: ..., new verbs and wordings' with those verbs in held-out wordings. Last, the dev trees' clear one-word
phrases whose word no training tree uses ("dev-tree words no training tree uses"), scored alone: word knowledge
the treebank did not give (IMDb's, or a vocabulary alias's: data.word_aliases). The idiom rows score
data/idioms.json's lists about the dev trees' subjects: 'idioms' the trained ones, 'idioms, held out' 20 never
trained on, 'idioms, held out (more)' 60 more (session 28), and that list split by whether the idiom holds a
negator. The test trees are never read.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from lstm_sentiment.data.composition import construction_sets
from lstm_sentiment.data.idioms import idiom_sets
from lstm_sentiment.data.text import tokenize
from lstm_sentiment.data.treebank import read_trees, split_texts
from lstm_sentiment.data.verb_opinions import verb_sets
from lstm_sentiment.predict import load_model, resolve_model_dir

_LEAF = re.compile(r"\((\d) ([^()\s]+)\)")


def dev_sets(sst: Path) -> dict[str, list[tuple[str, int]]]:
    """The construction sets of the dev trees (data/composition.py's construction_sets), its verb sets, the
    idioms about its subjects (trained ones, and held-out ones), and its words that the training trees never use."""
    texts = split_texts(sst)
    where, lines = texts["validation"]
    trees = list(read_trees(iter(lines), where))
    return {**construction_sets(trees, limits=True), **verb_sets(trees), **idiom_sets(trees),
            "dev-tree words no training tree uses": unseen_words(texts["train"][1], lines)}


def unseen_words(train_lines: list[str], dev_lines: list[str]) -> list[tuple[str, int]]:
    """Each one-word dev phrase with a clear label (0-1 or 3-4) whose word no training tree contains, scored
    alone: what a model knows of words the treebank never taught it (from IMDb, or through an alias; an
    unknown word scores as <unk>). A word the dev trees label both ways is left out."""
    seen = {word for line in train_lines for _, leaf in _LEAF.findall(line) for word in tokenize(leaf)}
    labels: dict[str, set[int]] = {}
    for line in dev_lines:
        for label, leaf in _LEAF.findall(line):
            words = tokenize(leaf)
            if len(words) == 1 and label != "2" and words[0] not in seen:
                labels.setdefault(words[0], set()).add(int(label >= "3"))
    return [(word, next(iter(found))) for word, found in sorted(labels.items()) if len(found) == 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sst", required=True, help="trainDevTestTrees_PTB.zip or its folder")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=DIR", required=True,
                        help="a model directory (NAME=default: the shipped model); repeatable")
    parser.add_argument("--out", help="write the table as JSON here")
    args = parser.parse_args()
    sets = dev_sets(Path(args.sst))
    rows = {}
    for spec in args.model:
        name, _, directory = spec.partition("=")
        predictor = load_model(resolve_model_dir(None if directory == "default" else directory))
        rows[name] = {}
        for set_name, examples in sets.items():
            probabilities = predictor.probabilities([text for text, _ in examples], batch_size=256)
            correct = sum(int(p > 0.5) == label for p, (_, label) in zip(probabilities, examples))
            rows[name][set_name] = correct / max(len(examples), 1)
    width, column = max(len(name) for name in sets) + 2, max(len(name) for name in rows) + 2
    print(f"{'set':<{width}}{'cases':>7}" + "".join(f"{name:>{column}}" for name in rows))
    for set_name, examples in sets.items():
        print(f"{set_name:<{width}}{len(examples):>7}" + "".join(f"{row[set_name]:>{column}.3f}" for row in rows.values()))
    if args.out:
        Path(args.out).write_text(json.dumps({"cases": {k: len(v) for k, v in sets.items()}, "accuracy": rows},
                                             indent=2) + "\n")


if __name__ == "__main__":
    main()
