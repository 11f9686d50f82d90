"""Metrics of a trained classifier on a split: accuracy, loss, precision/recall/F1, ROC-AUC, confusion, by length."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, precision_recall_fscore_support, roc_auc_score

from .data.batching import iterate_batches
from .data.prepare import EncodedSplit
from .data.text import tokenize
from .model import Classifier
from .runtime import autocast

if TYPE_CHECKING:
    from .data.corpus import Reviews
    from .predict import Predictor

LENGTH_BUCKETS = ((0, 100, "<100"), (100, 300, "100-299"), (300, 600, "300-599"), (600, None, ">=600"))
# padded tokens per scoring batch: 256 reviews of up to 600 tokens; longer reviews (data.eval_maxlen) come in
# smaller batches, so the peak memory of scoring does not grow with the longest review
SCORING_BATCH_TOKENS = 256 * 600


def predict_logits(model: Classifier, split: EncodedSplit, padding: str, device: torch.device,
                   batch_size: int = 256, mixed_precision: bool = True) -> np.ndarray:
    """The classifier's logit for every review of the split, in split order."""
    return _score_split(model, split, padding, device, batch_size, mixed_precision, lambda logits: logits)


def predict_probabilities(model: Classifier, split: EncodedSplit, padding: str, device: torch.device,
                          batch_size: int = 256, mixed_precision: bool = True) -> np.ndarray:
    """P(positive) for every review of the split, in split order."""
    return _score_split(model, split, padding, device, batch_size, mixed_precision, torch.sigmoid)


def _score_split(model, split, padding, device, batch_size, mixed_precision, transform) -> np.ndarray:
    model.eval()
    scores = np.empty(len(split), dtype=np.float64)
    with torch.no_grad(), autocast(device, mixed_precision):
        for batch in iterate_batches(split, batch_size, padding, shuffle=False, bucket=True,
                                     max_tokens=SCORING_BATCH_TOKENS):
            batch = batch.to(device)
            logits = model(batch.ids, batch.lengths, "right").float()
            scores[batch.index.numpy()] = transform(logits).double().cpu().numpy()
    return scores


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray,
                           words: np.ndarray | None = None) -> dict:
    """The `evaluate --json` object: keys are a public contract."""
    labels = np.asarray(labels)
    predicted = (probabilities >= 0.5).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(labels, predicted, average="binary", zero_division=0)
    both_classes = len(np.unique(labels)) == 2
    metrics = {
        "accuracy": float(accuracy_score(labels, predicted)),
        "loss": float(log_loss(labels, np.clip(probabilities, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "roc_auc": float(roc_auc_score(labels, probabilities)) if both_classes else None,
        "confusion_matrix": confusion_matrix(labels, predicted, labels=[0, 1]).tolist(),  # [[tn, fp], [fn, tp]]
        "n": len(labels),
    }
    if words is not None:
        metrics["by_length"] = accuracy_by_length(labels, predicted, np.asarray(words))
    return metrics


def accuracy_by_length(labels: np.ndarray, predicted: np.ndarray, words: np.ndarray) -> dict:
    buckets = {}
    for low, high, name in LENGTH_BUCKETS:
        inside = (words >= low) & (words < high if high is not None else True)
        n = int(inside.sum())
        buckets[name] = {"n": n, "accuracy": float((labels[inside] == predicted[inside]).mean()) if n else None}
    return buckets


def evaluate_split(model: Classifier, split: EncodedSplit, padding: str, device: torch.device,
                   mixed_precision: bool = True) -> tuple[dict, np.ndarray]:
    probabilities = predict_probabilities(model, split, padding, device, mixed_precision=mixed_precision)
    metrics = classification_metrics(split.labels.numpy(), probabilities, split.words.numpy())
    return metrics, probabilities


def evaluate_reviews(predictor: Predictor, reviews: Reviews) -> tuple[dict, np.ndarray]:
    """The `evaluate --json` metrics of a loaded model on labelled reviews, read as the model scores text (its
    vocabulary, scoring maxlen and padding), and P(positive) per review: `evaluate`, `report` and the Python API
    all come here."""
    from .data.prepare import encode_reviews

    tokenized = [tokenize(t) for t in reviews.texts]
    encoded = encode_reviews(reviews.texts, reviews.labels, predictor.vocab, predictor.config.data, tokenized)
    if predictor.ngram is None:
        return evaluate_split(predictor.model, encoded, predictor.config.data.padding, predictor.device)
    metrics, probabilities, _ = evaluate_mixed(predictor.ngram, predictor.model, encoded, tokenized,
                                               predictor.config.data.padding, predictor.device)
    return metrics, probabilities


def evaluate_mixed(member, model: Classifier, split: EncodedSplit, tokenized: list[list[str]], padding: str,
                   device: torch.device, mixed_precision: bool = True) -> tuple[dict, np.ndarray, dict]:
    """A model with an n-gram member (ngram.py) on a split: the mixed metrics, P(positive) per review, and each
    member's logits alone ({"lstm": ..., "ngram": ...})."""
    scores = member.scores(tokenized)
    alone = {"lstm": predict_logits(model, split, padding, device, mixed_precision=mixed_precision),
             "ngram": scores.logits}
    probabilities = sigmoid(member.combine(alone["lstm"], scores, split.lengths.numpy()))
    return classification_metrics(split.labels.numpy(), probabilities, split.words.numpy()), probabilities, alone


def format_metrics(metrics: dict) -> str:
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]
    auc = metrics["roc_auc"]
    lines = [
        f"reviews    {metrics['n']}",
        f"accuracy   {metrics['accuracy']:.4f}",
        f"loss       {metrics['loss']:.4f}",
        f"precision  {metrics['precision']:.4f}",
        f"recall     {metrics['recall']:.4f}",
        f"f1         {metrics['f1']:.4f}",
        f"roc_auc    {auc:.4f}" if auc is not None else "roc_auc    n/a (one class only)",
        "confusion matrix (rows: true negative/positive, columns: predicted negative/positive)",
        f"           {tn:>7} {fp:>7}",
        f"           {fn:>7} {tp:>7}",
    ]
    if "by_length" in metrics:
        lines.append("accuracy by review length (words)")
        for name, bucket in metrics["by_length"].items():
            acc = f"{bucket['accuracy']:.4f}" if bucket["accuracy"] is not None else "  n/a "
            lines.append(f"  {name:>8}  {acc}  (n={bucket['n']})")
    return "\n".join(lines)
