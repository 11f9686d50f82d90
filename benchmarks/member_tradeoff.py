"""Where natural sentences and constructions trade: each member of a model alone, and its mix refitted.

    python benchmarks/member_tradeoff.py --imdb aclImdb_v1.tar.gz --sst trainDevTestTrees_PTB.zip \\
        --model shipped=runs/verbs4c --model lexicon=runs/lex-s0 [--out benchmarks/results/member_tradeoff.json]

A model with an n-gram member mixes two logits with weights fitted on the validation split (ngram_fit.fit_mix).
This scores, on validation data only plus `check`: the LSTM alone, the n-gram member alone, the model as saved,
and the mix refitted three ways, each by 5-fold cross-validation on the validation split (so no text is scored
by weights fitted on it): as saved (validation only); with the dev trees' constructions (data/composition.py's
construction_sets) weighed in at a quarter and at the whole of the validation split's weight
(ngram.mix_constructions); and with a second mix for texts shorter than SHORT words (sentences, not reviews).
`check` is scored by each refitted mix fitted on all of validation. The question it answers: is a loss on SST-2
dev the LSTM's, or the mix's? --member-scope SCOPE and --sentence-mix-words N first refit the member beside the
same LSTM with that ngram.negation_scope or ngram.sentence_mix_words, as `train --no-test` fits it after training.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from lstm_sentiment.behaviour.run import run_suite
from lstm_sentiment.data.composition import construction_sets
from lstm_sentiment.data.prepare import load_prepared, split_corpus
from lstm_sentiment.data.sources import load_corpus, source_kind
from lstm_sentiment.data.treebank import TreebankOptions, read_trees, split_texts
from lstm_sentiment.ngram import NEGATION_SCOPES
from lstm_sentiment.ngram_fit import fit_mix, member_for_run
from lstm_sentiment.predict import load_model

SHORT = 60  # words: every SST-2 dev sentence is shorter (49 at most), nearly every IMDb review longer
FOLDS = 5
MIXES = {"validation": (0.0, False), "+ constructions x0.25": (0.25, False), "+ constructions x1": (1.0, False),
         "short texts apart": (0.0, True)}


class Scored:
    """One set's member logits, labels and word counts."""

    def __init__(self, predictor, texts: list[str], labels: list[int]) -> None:
        ids, lengths, ngram = predictor.encode_with_ngrams(texts)
        self.lstm, self.ngram = predictor.logits_of(ids, lengths, 256), ngram.logits
        self.saved = predictor.ngram.combine(self.lstm, ngram, lengths.numpy())  # the model's own mix (or mixes)
        self.labels = np.asarray(labels)
        self.short = (lengths.numpy() < SHORT).astype(float)  # the tokens scored: SHORT is below any maxlen used

    def inputs(self, apart: bool) -> tuple[np.ndarray, ...]:
        return (self.lstm, self.ngram) + ((self.lstm * self.short, self.ngram * self.short, self.short) if apart
                                          else ())


def mix_logits(mix: dict, inputs: tuple[np.ndarray, ...]) -> np.ndarray:
    return sum(weight * value for weight, value in zip(mix["weights"], inputs)) + mix["bias"]


def fit(inputs: list[np.ndarray], labels: np.ndarray, weights: np.ndarray) -> dict:
    """fit_mix's stacking, with any number of inputs (the short-text terms)."""
    if len(inputs) == 2:
        mix = fit_mix(inputs[0], inputs[1], labels.tolist(), weights)
        return {"weights": [mix["lstm"], mix["ngram"]], "bias": mix["bias"]}
    mixer = LogisticRegression(C=1e4, max_iter=5000).fit(np.column_stack(inputs), labels, sample_weight=weights)
    return {"weights": mixer.coef_[0].tolist(), "bias": float(mixer.intercept_[0])}


def fitted_mix(validation: Scored, constructions: Scored, rows: np.ndarray, construction_rows: np.ndarray,
               share: float, apart: bool) -> dict:
    inputs = [np.concatenate([a[rows], b[construction_rows]]) if share else a[rows]
              for a, b in zip(validation.inputs(apart), constructions.inputs(apart))]
    labels = validation.labels[rows]
    weights = np.ones(len(rows))
    if share:
        labels = np.concatenate([labels, constructions.labels[construction_rows]])
        weights = np.concatenate([weights, np.full(len(construction_rows), share * len(rows) / len(construction_rows))])
    return fit(inputs, labels, weights)


def accuracy(logits: np.ndarray, labels: np.ndarray, mask=slice(None)) -> float:
    return round(float(((logits >= 0) == (labels == 1))[mask].mean()), 4)


def check_summary(predictor, mix: dict | None, apart: bool, member: str | None = None) -> dict:
    def score(texts: list[str]) -> np.ndarray:
        scored = Scored(predictor, texts, [0] * len(texts))
        logits = {"lstm": scored.lstm, "ngram": scored.ngram, "saved": scored.saved}.get(member)
        if logits is None:
            logits = mix_logits(mix, scored.inputs(apart))
        return 1.0 / (1.0 + np.exp(-logits))
    summary = run_suite(score)["summary"]
    return {key: round(summary[key], 4) for key in ("mft_failure_rate_mean", "negation_failure_rate_max",
                                                     "mft_pass_rate")}


def refit_member(predictor, data_path: Path, scope: str | None, sentence_words: int | None,
                 unread_mix: str | None = None) -> None:
    """The member `train --no-test` would fit beside this LSTM with these ngram settings (None: the saved one's)."""
    saved = predictor.ngram
    ngram = dataclasses.replace(predictor.config.ngram, order=saved.order, negation_scope=scope or saved.negation_scope,
                                sentence_mix_words=(saved.sentence_mix or {}).get("words", 0)
                                if sentence_words is None else sentence_words,
                                unread_mix=unread_mix or predictor.config.ngram.unread_mix)
    config = dataclasses.replace(predictor.config, ngram=ngram)
    data = load_prepared(data_path, config.data)
    predictor.ngram, _ = member_for_run(config, data_path, None, data, predictor.model, predictor.device,
                                        reports_validation=True)


def tradeoff(model_dir: str, imdb: Path, sst: Path, member_scope: str | None = None,
             sentence_words: int | None = None) -> dict:
    predictor = load_model(model_dir)
    if predictor.ngram is None:
        raise SystemExit(f"{model_dir}: no n-gram member to trade against")
    config = predictor.config
    data_path = Path(os.pathsep.join([str(imdb), str(sst)]))
    if member_scope or sentence_words is not None:
        refit_member(predictor, data_path, member_scope, sentence_words)
    corpus = load_corpus(data_path, treebank=TreebankOptions.of(config.data))
    if source_kind(Path(corpus.parts[1].source)) != "sst":
        raise SystemExit("the second data source must be the sentiment treebank")
    split = split_corpus(corpus, config.data, None)["validation"]
    validation = Scored(predictor, split.texts, split.labels)
    is_sst = np.zeros(len(split.labels), dtype=bool)
    is_sst[len(split.labels) - len(corpus.parts[1].validation.labels):] = True  # parts are split in order
    where, lines = split_texts(sst)["validation"]
    sets = construction_sets(list(read_trees(iter(lines), where)), limits=config.data.compositions > 7)
    examples = [example for name, found in sets.items() if name != "originals" for example in found]
    constructions = Scored(predictor, [text for text, _ in examples], [label for _, label in examples])

    rows = {"lstm alone": (validation.lstm, constructions.lstm, check_summary(predictor, None, False, "lstm")),
            "n-gram alone": (validation.ngram, constructions.ngram, check_summary(predictor, None, False, "ngram")),
            "as saved": (validation.saved, constructions.saved, check_summary(predictor, None, False, "saved"))}
    strata = validation.labels * 2 + is_sst
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(validation.labels, strata))
    construction_folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(
        constructions.labels, constructions.labels))
    results = {}
    for name, (share, apart) in MIXES.items():
        held_out = np.zeros(len(validation.labels))
        held_out_constructions = np.zeros(len(constructions.labels))
        for (train, test), (construction_train, construction_test) in zip(folds, construction_folds):
            mix = fitted_mix(validation, constructions, train, construction_train, share, apart)
            held_out[test] = mix_logits(mix, tuple(a[test] for a in validation.inputs(apart)))
            held_out_constructions[construction_test] = mix_logits(
                mix, tuple(a[construction_test] for a in constructions.inputs(apart)))
        mix = fitted_mix(validation, constructions, np.arange(len(validation.labels)),
                         np.arange(len(constructions.labels)), share, apart)
        rows[f"mix refitted: {name}"] = (held_out, held_out_constructions, check_summary(predictor, mix, apart))
        results[name] = {"weights": [round(w, 4) for w in mix["weights"]], "bias": round(mix["bias"], 4)}
    table = {}
    for name, (logits, construction_logits, check) in rows.items():
        table[name] = {"combined validation": accuracy(logits, validation.labels),
                       "IMDb validation": accuracy(logits, validation.labels, ~is_sst),
                       "SST-2 dev": accuracy(logits, validation.labels, is_sst),
                       "dev constructions": accuracy(construction_logits, constructions.labels), "check": check}
    return {"rows": table, "refitted mixes": results, "validation": len(split.labels),
            "constructions": len(examples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--imdb", type=Path, required=True)
    parser.add_argument("--sst", type=Path, required=True)
    parser.add_argument("--model", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--member-scope", choices=NEGATION_SCOPES, help="refit the member with this scope first")
    parser.add_argument("--sentence-mix-words", type=int, metavar="N",
                        help="refit the member with ngram.sentence_mix_words = N first (0: one mix)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = {}
    for spec in args.model:
        name, _, folder = spec.partition("=")
        report[name] = tradeoff(folder, args.imdb, args.sst, args.member_scope, args.sentence_mix_words)
        print(f"\n{name} ({folder})")
        print(f"{'':38s} {'comb.val':>8s} {'IMDb val':>8s} {'SST dev':>8s} {'constr.':>8s} "
              f"{'check mean MFT':>14s} {'worst neg.':>10s}")
        for row, values in report[name]["rows"].items():
            print(f"{row:38s} {values['combined validation']:8.4f} {values['IMDb validation']:8.4f} "
                  f"{values['SST-2 dev']:8.4f} {values['dev constructions']:8.3f} "
                  f"{values['check']['mft_failure_rate_mean']:14.3f} {values['check']['negation_failure_rate_max']:10.3f}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
