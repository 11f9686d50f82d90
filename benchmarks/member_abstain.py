"""Texts the n-gram member reads nothing of (with ngram.negation_scope = sentence: every sentence with a negator),
scored three ways: by the model as saved, by the LSTM alone, and by the sentence mix without its constant.

    python benchmarks/member_abstain.py --sst trainDevTestTrees_PTB.zip RUN_DIR [RUN_DIR ...]

Why: the sentence mix adds a constant (its bias plus its n-gram weight times the member's intercept) fitted on all
short texts. For a text the member cannot read, that constant is all the member adds, and in the shipped model it
pushes towards negative. Validation only: the treebank's dev sentences (SST-2 dev) and the construction sets made
from the dev trees (data/composition.py construction_sets). An exploration, not an option of the package.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lstm_sentiment.data.composition import construction_sets
from lstm_sentiment.data.treebank import binary_examples, read_trees, split_texts
from lstm_sentiment.predict import load_model


def scored_three_ways(predictor, texts: list[str], labels: np.ndarray) -> dict:
    member = predictor.ngram
    ids, lengths, ngram_scores = predictor.encode_with_ngrams(texts)
    lstm = predictor.logits_of(ids, lengths)
    saved = member.combine(lstm, ngram_scores, lengths.numpy())
    unread = ngram_scores.unread
    weight = member.mix_for(0)["lstm"]  # a short text's mix: the sentence mix, or the one mix
    ways = {"as saved": saved, "LSTM alone": np.where(unread, lstm, saved),
            "mix without its constant": np.where(unread, weight * lstm, saved)}
    return {"texts": len(texts), "unread": int(unread.sum()),
            **{name: round(float(((logits >= 0) == (labels == 1)).mean()), 4) for name, logits in ways.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sst", type=Path, required=True, help="trainDevTestTrees_PTB.zip or its folder")
    parser.add_argument("runs", nargs="+", help="model directories with an n-gram member")
    args = parser.parse_args()
    where, lines = split_texts(args.sst)["validation"]
    trees = list(read_trees(iter(lines), where))
    sentences = [(text, label) for text, label, _ in binary_examples(trees)]
    constructions = [example for name, found in construction_sets(trees).items() if name != "originals"
                     for example in found]
    for run in args.runs:
        predictor = load_model(run)
        for name, examples in (("SST-2 dev", sentences), ("dev constructions", constructions)):
            row = scored_three_ways(predictor, [text for text, _ in examples],
                                    np.array([label for _, label in examples]))
            print(f"{run}  {name}: " + ", ".join(f"{key} {value}" for key, value in row.items()), flush=True)


if __name__ == "__main__":
    main()
