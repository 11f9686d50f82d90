"""How often an opinion lexicon's side agrees with the treebank's own label for the words both rate.

    python benchmarks/lexicon_agreement.py --sst trainDevTestTrees_PTB.zip \\
        [--out benchmarks/results/lexicon_agreement.json]

Why: data.lexicon_words teaches a lexicon's words as one-word examples, and "vader+wordnet" adds words whose side
is inferred from WordNet synonyms rather than rated by people. The treebank's training trees label many words
alone (0-4, by its own raters); for the words a lexicon also gives a side, the share on the same side measures
how far the lexicon can be trusted, before any model is trained. Words the treebank labels neutral (2) are
counted apart: the treebank's raters are cautious with a lone word. Only the training trees are read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lstm_sentiment.data.lexicon import clear_ratings
from lstm_sentiment.data.treebank import read_trees, split_texts
from lstm_sentiment.data.wordnet_lexicon import widened_ratings


def treebank_words(path: Path) -> dict[str, int]:
    """Lower-case word -> its label (0-4) as a one-word phrase of the training trees."""
    where, lines = split_texts(path)["train"]
    labels = {}
    for tree in read_trees(iter(lines), where):
        for phrase in tree:
            if " " not in phrase.text:
                labels[phrase.text.lower()] = phrase.label
    return labels


def agreement(ratings: dict[str, float], labels: dict[str, int]) -> dict:
    shared = {word: rating for word, rating in ratings.items() if word in labels}
    clear = {word: rating for word, rating in shared.items() if labels[word] != 2}
    same = sum((labels[word] > 2) == (rating > 0) for word, rating in clear.items())
    disagreeing = sorted(word for word, rating in clear.items() if (labels[word] > 2) != (rating > 0))
    return {"lexicon_words": len(ratings), "labelled_by_the_treebank": len(shared),
            "treebank_neutral": len(shared) - len(clear), "treebank_clear": len(clear), "same_side": same,
            "agreement": round(same / len(clear), 4) if clear else None, "disagreeing": disagreeing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sst", type=Path, required=True, help="trainDevTestTrees_PTB.zip or its folder")
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args()
    labels = treebank_words(args.sst)
    vader = clear_ratings()
    widened = widened_ratings(vader)
    rows = {"vader (clear words)": agreement(vader, labels), "wordnet (added to vader)": agreement(widened, labels)}
    for name, row in rows.items():
        print(f"{name}: {row['lexicon_words']:,} words, {row['labelled_by_the_treebank']:,} labelled alone by the "
              f"treebank ({row['treebank_neutral']:,} neutral); of the {row['treebank_clear']:,} clear ones "
              f"{row['same_side']:,} on the same side ({row['agreement']:.1%}); disagreeing: "
              f"{', '.join(row['disagreeing'][:20])}")
    if args.out:
        args.out.write_text(json.dumps({"treebank_one_word_labels": len(labels), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
