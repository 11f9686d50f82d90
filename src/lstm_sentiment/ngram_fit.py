"""Fitting the n-gram member (scikit-learn, at training time only) and the mix of its logit with the LSTM's."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from .config import Config, NgramConfig
from .data.composition import SEVEN, construction_sets
from .data.prepare import EncodedSplit, PreparedData, encode_reviews, split_corpus
from .data.sources import load_corpus, source_parts
from .data.text import tokenize
from .data.treebank import TreebankOptions, is_treebank, read_trees, split_texts
from .evaluate import classification_metrics, evaluate_mixed, predict_logits, sigmoid
from .model import Classifier
from .ngram import NgramMember, features

NB_SMOOTHING = 1.0  # Wang & Manning's alpha


def example_weights(labels: list[int], targets: list[float] | None) -> np.ndarray:
    """Graded treebank targets weigh as far as they are from neutral (a neutral phrase teaches a linear model
    nothing about the sign); hard labels weigh 1."""
    if not targets:
        return np.ones(len(labels))
    return np.abs(2.0 * np.asarray(targets, dtype=np.float64) - 1.0)


def fit_ngram_weights(tokenized: list[list[str]], labels: list[int], weights: np.ndarray,
                      config: NgramConfig) -> tuple[list[str], np.ndarray, float]:
    """NBSVM in its logistic-regression form: binarised 1..order-grams seen in at least min_count training texts,
    scaled by their naive-Bayes log-count ratios, then L2 logistic regression; the ratio is folded into each
    n-gram's weight. The max_features weights of largest size are kept (pruning moves few predictions: the
    dropped ones are small)."""
    vectorizer = CountVectorizer(analyzer=lambda tokens: features(tokens, config.order, config.negation_scope),
                                 min_df=config.min_count, binary=True, dtype=np.float32)
    counts = vectorizer.fit_transform(tokenized).tocsr()
    labels = np.asarray(labels)
    positive = counts.T @ (weights * (labels == 1)) + NB_SMOOTHING
    negative = counts.T @ (weights * (labels == 0)) + NB_SMOOTHING
    ratios = np.log((positive / positive.sum()) / (negative / negative.sum()))
    classifier = LogisticRegression(C=config.c, solver="liblinear", max_iter=1000, random_state=0)
    classifier.fit(counts @ sparse.diags(ratios), labels, sample_weight=weights)
    combined = (classifier.coef_.ravel() * ratios).astype(np.float32)
    grams = vectorizer.get_feature_names_out()
    keep = np.sort(np.argsort(-np.abs(combined), kind="stable")[:config.max_features])
    return [str(gram) for gram in grams[keep]], combined[keep], float(classifier.intercept_[0])


def fit_mix(lstm_logits: np.ndarray, ngram_logits: np.ndarray, labels: list[int],
            weights: np.ndarray | None = None) -> dict[str, float]:
    """Weights of the two logits (and a bias) that minimise the validation log-loss: stacking with two inputs,
    so the validation split, unused by the n-gram fit, chooses three numbers."""
    stacked = np.column_stack([lstm_logits, ngram_logits])
    mixer = LogisticRegression(C=1e4, max_iter=1000).fit(stacked, np.asarray(labels), sample_weight=weights)
    (lstm, ngram), bias = mixer.coef_[0], mixer.intercept_[0]
    return {"lstm": float(lstm), "ngram": float(ngram), "bias": float(bias)}


MIN_GROUP = 20  # texts of each label a sentence, review or unread mix needs; fewer: no mix of their own


def _enough(labels: np.ndarray) -> bool:
    return min(np.sum(labels == 0), np.sum(labels == 1)) >= MIN_GROUP


def fit_unread_mix(lstm_logits: np.ndarray, labels: np.ndarray, weights: np.ndarray, balanced: bool
                   ) -> dict[str, float]:
    """The mix of texts the member reads nothing of: the LSTM's logit scaled and shifted (the member's own logit
    is its intercept there, a constant). balanced: each label weighs half, so the constant holds no label prior."""
    if balanced:
        total = weights.sum()  # kept, so that C's regularisation weighs the same
        weights = weights * total * np.where(labels == 1, 0.5 / weights[labels == 1].sum(),
                                             0.5 / weights[labels == 0].sum())
    mixer = LogisticRegression(C=1e4, max_iter=1000).fit(lstm_logits[:, None], labels, sample_weight=weights)
    return {"lstm": float(mixer.coef_[0][0]), "ngram": 0.0, "bias": float(mixer.intercept_[0])}


def fit_mixes(lstm_logits: np.ndarray, ngram_logits: np.ndarray, labels: list[int], weights: np.ndarray | None,
              tokens: np.ndarray, sentence_words: int, unread: np.ndarray | None = None, unread_mix: str = "shared"
              ) -> tuple[dict[str, float], dict[str, float] | None, dict[str, float] | None]:
    """The mix; with sentence_words the sentences' own (texts of fewer tokens); with unread_mix "fit" or
    "balanced" the own mix of the texts the member reads nothing of (unread), the others then fitted on the rest.
    Each is fitted on its texts only; a group lacking MIN_GROUP texts of a label gets no mix of its own."""
    labels = np.asarray(labels)
    weights = np.ones(len(labels)) if weights is None else np.asarray(weights)
    read, apart = np.ones(len(labels), dtype=bool), None
    if unread_mix != "shared" and unread is not None and _enough(labels[unread]):
        apart = fit_unread_mix(lstm_logits[unread], labels[unread], weights[unread], unread_mix == "balanced")
        read = ~unread
    groups = [read & (tokens >= sentence_words), read & (tokens < sentence_words)] if sentence_words else []
    if not groups or not all(_enough(labels[rows]) for rows in groups):
        return fit_mix(lstm_logits[read], ngram_logits[read], labels[read].tolist(), weights[read]), None, apart
    reviews, sentences = (fit_mix(lstm_logits[rows], ngram_logits[rows], labels[rows].tolist(), weights[rows])
                          for rows in groups)
    return reviews, {**sentences, "words": sentence_words}, apart


def accuracy(logits: np.ndarray, labels: list[int]) -> float:
    return float(np.mean((np.asarray(logits) >= 0) == np.asarray(labels, dtype=bool)))


@dataclass
class MixSet:
    """Texts the mix is fitted on besides the validation split: the LSTM's logits and the labels."""
    tokenized: list[list[str]]
    lstm_logits: np.ndarray
    labels: list[int]
    weight: float  # of the whole set, as a multiple of the validation split's


def fit_ngram_member(train: tuple[list[list[str]], list[int], np.ndarray],
                     validation: tuple[list[list[str]], list[int]], lstm_validation_logits: np.ndarray,
                     config: NgramConfig, extra: MixSet | None = None) -> NgramMember:
    """Fit on the training texts, mix on the validation texts (and extra's), then (config.refit) refit the n-grams
    on both with the mix kept: the validation reviews then teach the member too, as a final refit does."""
    started = time.perf_counter()
    grams, weights, bias = fit_ngram_weights(*train, config)
    member = NgramMember(grams, weights, bias, config.order, {"lstm": 1.0, "ngram": 0.0, "bias": 0.0},
                         config.negation_scope)
    scores = member.scores(validation[0])
    tokens = np.array([len(text) for text in validation[0]])  # as scored while sentence_mix_words <= maxlen
    if extra is None or not extra.labels:
        member.mix, member.sentence_mix, member.unread_mix = fit_mixes(
            lstm_validation_logits, scores.logits, validation[1], None, tokens, config.sentence_mix_words,
            scores.unread, config.unread_mix)
    else:
        share = extra.weight * len(validation[1]) / len(extra.labels)
        extra_scores = member.scores(extra.tokenized)
        member.mix, member.sentence_mix, member.unread_mix = fit_mixes(
            np.concatenate([lstm_validation_logits, extra.lstm_logits]),
            np.concatenate([scores.logits, extra_scores.logits]), list(validation[1]) + list(extra.labels),
            np.concatenate([np.ones(len(validation[1])), np.full(len(extra.labels), share)]),
            np.concatenate([tokens, [len(text) for text in extra.tokenized]]), config.sentence_mix_words,
            np.concatenate([scores.unread, extra_scores.unread]), config.unread_mix)
    fitted = {"c": config.c, "min_count": config.min_count, "training_examples": len(train[0]),
              "validation_accuracy": {"lstm": accuracy(lstm_validation_logits, validation[1]),
                                      "ngram": accuracy(scores.logits, validation[1]),
                                      "combined": accuracy(member.combine(lstm_validation_logits, scores,
                                                                          tokens), validation[1])},
              "unread_validation_texts": int(scores.unread.sum()),
              "mix_constructions": {"examples": len(extra.labels), "weight": extra.weight} if extra else None,
              "refit": config.refit}
    if config.refit:
        texts, labels, example_weight = train
        grams, weights, bias = fit_ngram_weights(texts + validation[0], labels + list(validation[1]),
                                                 np.concatenate([example_weight, np.ones(len(validation[0]))]),
                                                 config)
        member = NgramMember(grams, weights, bias, config.order, member.mix, config.negation_scope,
                             sentence_mix=member.sentence_mix, unread_mix=member.unread_mix)
    fitted["ngrams"] = len(member.grams)
    fitted["seconds"] = round(time.perf_counter() - started, 1)
    member.fitted = fitted
    return member


def construction_mix_set(config: Config, data_path: Path, model: Classifier, vocab, device: torch.device
                         ) -> MixSet | None:
    """The dev trees' negation and construction sets as a MixSet, when a treebank is among the sources and
    ngram.mix_constructions asks for them; None otherwise."""
    treebanks = [part for part in source_parts(data_path) if is_treebank(Path(part))]
    if not config.ngram.mix_constructions or not treebanks:
        return None
    where, lines = split_texts(Path(treebanks[0]))["validation"]
    sets = construction_sets(list(read_trees(iter(lines), where)), limits=config.data.compositions > SEVEN)
    examples = [example for name, found in sets.items() if name != "originals" for example in found]
    texts, labels = [text for text, _ in examples], [label for _, label in examples]
    tokenized = [tokenize(text) for text in texts]
    encoded = encode_reviews(texts, labels, vocab, config.data, tokenized)
    logits = predict_logits(model, encoded, config.data.padding, device, mixed_precision=config.train.mixed_precision)
    return MixSet(tokenized, logits, labels, config.ngram.mix_constructions)


def member_for_run(config: Config, data_path: Path, limit: int | None, data: PreparedData, model: Classifier,
                   device: torch.device, reports_validation: bool = False) -> tuple[NgramMember, dict]:
    """The n-gram member of a training run, and the run's splits as text: the same splits as the LSTM's (the
    corpus read again and split by the same seeded rules, checked against the prepared labels), mixed on the
    validation split. A run that reports on validation (--no-test) does not refit on it: its number would be the
    member's memory of those texts (1-3 grams nearly memorise what they were fitted on)."""
    corpus = load_corpus(data_path, treebank=TreebankOptions.of(config.data))
    splits = split_corpus(corpus, config.data, limit)
    for name in ("train", "validation"):
        if splits[name].labels != data.splits[name].labels.tolist():
            raise RuntimeError(f"the {name} split read for the n-gram member differs from the prepared one")
    train, validation = splits["train"], splits["validation"]
    lstm_logits = predict_logits(model, data.splits["validation"], config.data.padding, device,
                                 mixed_precision=config.train.mixed_precision)
    member = fit_ngram_member(([tokenize(t) for t in train.texts], train.labels,
                               example_weights(train.labels, train.targets)),
                              ([tokenize(t) for t in validation.texts], validation.labels), lstm_logits,
                              replace(config.ngram, refit=config.ngram.refit and not reports_validation),
                              construction_mix_set(config, data_path, model, data.vocab, device))
    return member, splits


def combined_split_metrics(member: NgramMember, model: Classifier, split: EncodedSplit, texts: list[str],
                           config: Config, device: torch.device) -> tuple[dict, dict]:
    """The final split scored by the combined model, and (for the record) by each member alone."""
    combined, _, alone = evaluate_mixed(member, model, split, [tokenize(t) for t in texts], config.data.padding,
                                        device, config.train.mixed_precision)
    scored = {name: classification_metrics(split.labels.numpy(), sigmoid(logits)) for name, logits in alone.items()}
    return combined, {name: {key: value[key] for key in ("accuracy", "loss", "roc_auc")} for name, value in scored.items()}
