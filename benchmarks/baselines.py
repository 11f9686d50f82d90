"""Our models side by side with the bag-of-words baselines a practitioner tries first, in one run.

    python benchmarks/baselines.py --imdb aclImdb_v1.tar.gz --sst trainDevTestTrees_PTB.zip \\
        --train imdb=aclImdb_v1.tar.gz --train imdb+sst=aclImdb_v1.tar.gz+trainDevTestTrees_PTB.zip:phrases \\
        [--model NAME=RUN_DIR ...] [--out benchmarks/results/baselines.json]

Baselines (scikit-learn, fitted here, never pickled): TF-IDF of 1-2 grams + logistic regression, and NBSVM
(Wang & Manning 2012: binarised 1-3 grams scaled by naive-Bayes log-count ratios, then a linear classifier; the
logistic-regression form, "NBLR"). Each --train NAME=SOURCES[:phrases[+negations][+compositions[+balanced][+idioms][+limits][+verbs][+lexicon][+setphrases]]] fits both on the training split
of those sources (the same reviews a model of ours trained on; `:phrases` adds the treebank's labelled phrases, as
`data.phrases` does, `+negations` their negated copula phrases, as `data.negations = 3` does, `+compositions`
the composed examples of `data.compositions = 7`, and `+balanced` those balanced as `data.balance_compositions`
does, `+idioms` them in `data.composition_wordings = idioms`, `+limits` with the eighth family too
(`data.compositions = 8`), `+verbs` the first-person verb opinions of `data.verb_opinions = 4`, `+lexicon` the opinion lexicon's words of
`data.lexicon_words = "vader-calibrated"`, `+setphrases` the set phrases of `data.idioms = 8` (idioms.json; not
`+idioms`, which names a wording of the constructions); labels are binary, so `data.negation_strength` does not apply); the regularisation C is chosen on that
data's validation split (IMDb: held-out movies;
treebank: dev), then the baseline is refitted on training + validation. Every model, baselines and ours
(--model NAME=DIR, or NAME=default for the shipped one), is scored on the same sets in the same run: the IMDb
test split, the SST-2 test sentences (1,821) and the `check` suite.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from lstm_sentiment.behaviour.run import run_suite
from lstm_sentiment.config import DataConfig
from lstm_sentiment.data.composition import CONSTRUCTIONS, SEVEN
from lstm_sentiment.data.prepare import split_corpus
from lstm_sentiment.data.sources import load_corpus, resolve_data_path
from lstm_sentiment.data.text import tokenize
from lstm_sentiment.data.treebank import TreebankOptions
from lstm_sentiment.evaluate import evaluate_reviews
from lstm_sentiment.predict import load_model, resolve_model_dir
from lstm_sentiment.runtime import cpuinfo_line

RESULTS = Path(__file__).parent / "results" / "baselines.json"
VERB_OPINIONS = 4  # constructions per verb and object with +verbs, as the shipped recipe's data.verb_opinions
SET_PHRASES = 8  # subjects per idiom with +setphrases, as the shipped recipe's data.idioms
GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)  # wide: the chosen C must not sit at an edge


class TfidfLogistic:
    name = "TF-IDF (1-2 grams) + LR"

    def __init__(self, c: float):
        self.vectorizer = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                                          ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        self.classifier = LogisticRegression(C=c, max_iter=2000, solver="liblinear")

    def fit(self, texts: list[str], labels: list[int]) -> TfidfLogistic:
        self.classifier.fit(self.vectorizer.fit_transform(texts), labels)
        return self

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.vectorizer.transform(texts))[:, 1]


class NBSVM(TfidfLogistic):
    name = "NBSVM (1-3 grams)"

    def __init__(self, c: float):
        self.vectorizer = CountVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                                          ngram_range=(1, 3), min_df=2, binary=True)
        self.classifier = LogisticRegression(C=c, max_iter=2000, solver="liblinear")
        self.ratios = None

    def fit(self, texts: list[str], labels: list[int]) -> NBSVM:
        features = self.vectorizer.fit_transform(texts)
        labels = np.asarray(labels)
        positive = np.asarray(features[labels == 1].sum(0)).ravel() + 1.0  # alpha = 1
        negative = np.asarray(features[labels == 0].sum(0)).ravel() + 1.0
        self.ratios = sparse.diags(np.log((positive / positive.sum()) / (negative / negative.sum())))
        self.classifier.fit(features @ self.ratios, labels)
        return self

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.vectorizer.transform(texts) @ self.ratios)[:, 1]


def accuracy(probabilities: np.ndarray, labels: list[int]) -> float:
    return float(np.mean((np.asarray(probabilities) >= 0.5) == np.asarray(labels)))


def fit_baseline(kind, splits) -> tuple[object, float, float]:
    """C chosen on validation accuracy, then refitted on the whole training split (train + validation)."""
    scores = {c: accuracy(kind(c).fit(splits["train"].texts, splits["train"].labels)
                          .probabilities(splits["validation"].texts), splits["validation"].labels) for c in GRID}
    best = max(scores, key=scores.get)
    started = time.perf_counter()
    everything = splits["train"].texts + splits["validation"].texts
    model = kind(best).fit(everything, splits["train"].labels + splits["validation"].labels)
    return model, best, time.perf_counter() - started


def check_summary(score) -> dict:
    results = run_suite(score)
    return {**results["summary"], "tests": {row["name"]: round(row["failure_rate"], 4) for row in results["tests"]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", action="append", required=True, metavar="NAME=SOURCES[:phrases[+negations][+compositions[+balanced][+idioms][+limits][+verbs][+lexicon][+setphrases]]]",
                        help="baselines' training data: sources joined by '+', ':phrases' for treebank phrases, "
                             "':phrases+negations' with data.negations = 3 too, '+compositions' with data.compositions = 7 (the seven), '+balanced' with "
                             "data.balance_compositions, '+idioms' with data.composition_wordings = idioms, "
                             "'+limits' with data.compositions = 8 (the negated limit too), '+verbs' with "
                             "data.verb_opinions = 4, '+lexicon' with data.lexicon_words = vader-calibrated, "
                             "'+setphrases' with data.idioms = 8")
    parser.add_argument("--imdb", required=True, help="aclImdb archive: its test split is scored")
    parser.add_argument("--sst", required=True, help="treebank zip: its SST-2 test sentences are scored")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=DIR",
                        help="our models to score too (DIR 'default': the shipped model)")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    sets = {"imdb_test": split_corpus(load_corpus(Path(args.imdb)), DataConfig())["test"],
            "sst2_test": load_corpus(Path(args.sst)).test}
    rows = []
    for spec in args.train:
        name, _, sources = spec.partition("=")
        sources, _, flag = sources.partition(":")
        flags = set(flag.split("+")) if flag else set()
        phrases, negations, balanced = "phrases" in flags, 3 if "negations" in flags else 0, "balanced" in flags
        compositions = (len(CONSTRUCTIONS) if "limits" in flags else SEVEN) if "compositions" in flags else 0
        wordings = "idioms" if "idioms" in flags else "standard"
        verbs = VERB_OPINIONS if "verbs" in flags else 0
        lexicon = "vader-calibrated" if "lexicon" in flags else "none"
        set_phrases = SET_PHRASES if "setphrases" in flags else 0
        config = DataConfig(validation_split=0.1, validation_groups="movie", phrases=phrases, negations=negations,
                            compositions=compositions, balance_compositions=balanced, composition_wordings=wordings,
                            verb_opinions=verbs, lexicon_words=lexicon, idioms=set_phrases)
        splits = split_corpus(load_corpus(resolve_data_path(sources.split("+")), treebank=TreebankOptions.of(config)),
                              config)
        for kind in (TfidfLogistic, NBSVM):
            model, c, seconds = fit_baseline(kind, splits)
            row = {"model": f"{kind.name}, trained on {name}", "trained_on": sources.split("+"), "phrases": phrases,
                   "negations": negations, "compositions": compositions,
                   "balance_compositions": balanced, "composition_wordings": wordings, "verb_opinions": verbs,
                   "lexicon_words": lexicon, "idioms": set_phrases,
                   "C": c, "fit_seconds": round(seconds, 1), "training_examples": len(splits["train"])}
            row.update({key: accuracy(model.probabilities(reviews.texts), reviews.labels)
                        for key, reviews in sets.items()})
            row["check"] = check_summary(model.probabilities)
            rows.append(row)
            print(json.dumps({key: row[key] for key in ("model", "C", "imdb_test", "sst2_test")}), flush=True)
    for spec in args.model:
        name, _, directory = spec.partition("=")
        model_dir = resolve_model_dir(None if directory == "default" else directory)
        predictor = load_model(model_dir, device="auto")
        row = {"model": name, "directory": str(model_dir), "data_sources": _recorded_sources(model_dir)}
        row.update({key: evaluate_reviews(predictor, reviews)[0]["accuracy"] for key, reviews in sets.items()})
        row["check"] = check_summary(lambda texts, scorer=predictor: scorer.probabilities(texts, batch_size=256))
        rows.append(row)
        print(json.dumps({key: row[key] for key in ("model", "imdb_test", "sst2_test")}), flush=True)
    result = {"machine": cpuinfo_line("model name"), "rows": rows,
              "command": "python benchmarks/baselines.py " + " ".join(_argv())}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(markdown_table(rows))


def _recorded_sources(model_dir: Path) -> list:
    metrics = model_dir / "metrics.json"
    if not metrics.exists():
        return []
    recorded = json.loads(metrics.read_text())
    return recorded.get("data_sources") or [{"path": recorded.get("data"), "kind": "imdb"}]


def _argv() -> list[str]:
    import sys

    return sys.argv[1:]


def markdown_table(rows: list[dict]) -> str:
    lines = ["| model | IMDb test | SST-2 test | check: MFT passed | mean MFT failure | worst negation | worst INV |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        check = row["check"]
        lines.append(f"| {row['model']} | {row['imdb_test']:.4f} | {row['sst2_test']:.4f} | "
                     f"{check['mft_pass_rate']:.3f} | {check['mft_failure_rate_mean']:.3f} | "
                     f"{check['negation_failure_rate_max']:.3f} | {check['inv_failure_rate_max']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
