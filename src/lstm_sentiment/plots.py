"""Figures: training curves and the confusion matrix. Positive is always blue, negative always orange."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

TRAIN_COLOUR, VALIDATION_COLOUR = "#1f77b4", "#d62728"
POSITIVE_COLOUR, NEGATIVE_COLOUR = "#1f77b4", "#ff7f0e"


def plot_curves(history: list[dict], path: Path, title: str = "") -> None:
    """Accuracy and loss per epoch, train vs validation."""
    epochs = [row["epoch"] for row in history]
    figure, (acc_axis, loss_axis) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for axis, key, label in ((acc_axis, "accuracy", "Accuracy"), (loss_axis, "loss", "Loss (binary cross-entropy)")):
        axis.plot(epochs, [row[f"train_{key}"] for row in history], "o-", color=TRAIN_COLOUR, label="train")
        if history and history[0][f"val_{key}"] is not None:  # a refit has no validation split
            axis.plot(epochs, [row[f"val_{key}"] for row in history], "s--", color=VALIDATION_COLOUR,
                      label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.set_title(label)
        axis.set_xticks(epochs)
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_confusion(matrix: list[list[int]], path: Path, title: str = "Confusion matrix (test)") -> None:
    figure, axis = plt.subplots(figsize=(4.6, 4), constrained_layout=True)
    image = axis.imshow(matrix, cmap="Blues")
    names = ["negative", "positive"]
    axis.set_xticks([0, 1], names)
    axis.set_yticks([0, 1], names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(title)
    peak = max(max(row) for row in matrix) or 1
    for i in range(2):
        for j in range(2):
            axis.text(j, i, f"{matrix[i][j]:,}", ha="center", va="center",
                      color="white" if matrix[i][j] > peak / 2 else "black", fontsize=12)
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_data_overview(balance: dict, lengths, maxlen: int, truncated: float, words: dict, path: Path,
                       source: str = "") -> None:
    """Class balance per split, review lengths with maxlen, the most frequent words of each class."""
    figure, axes = plt.subplots(2, 2, figsize=(13, 9), constrained_layout=True)
    (balance_axis, length_axis), (positive_axis, negative_axis) = axes
    names = list(balance)
    for offset, (label, name, colour) in enumerate(((1, "positive", POSITIVE_COLOUR), (0, "negative", NEGATIVE_COLOUR))):
        counts = [balance[split].get(label, 0) for split in names]
        bars = balance_axis.bar([k + (offset - 0.5) * 0.4 for k in range(len(names))], counts, width=0.4,
                                color=colour, label=name)
        balance_axis.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=9)
    balance_axis.set_xticks(range(len(names)), names)
    balance_axis.set_ylabel("reviews")
    balance_axis.set_title("Class balance per split")
    peak = max((max(c.values(), default=0) for c in balance.values()), default=1)
    balance_axis.set_ylim(0, peak * 1.25)
    balance_axis.legend(loc="upper center", ncol=2)
    upper = max(int(lengths.max()) if len(lengths) else 1, maxlen + 1)
    length_axis.hist(lengths, bins=min(80, upper), range=(0, min(upper, 2000)), color="#7f7f7f")
    length_axis.axvline(maxlen, color="#d62728", linestyle="--", label=f"maxlen {maxlen}: truncates {truncated:.1%}")
    length_axis.set_xlabel("review length (tokens; longer than 2,000 not shown)")
    length_axis.set_ylabel("training reviews")
    length_axis.set_title("Review lengths (training split)")
    length_axis.legend()
    for axis, label, name, colour in ((positive_axis, 1, "positive", POSITIVE_COLOUR),
                                      (negative_axis, 0, "negative", NEGATIVE_COLOUR)):
        pairs = words.get(label, [])[::-1]
        axis.barh([w for w, _ in pairs], [c for _, c in pairs], color=colour)
        axis.set_xlabel("occurrences")
        axis.set_title(f"Most frequent words in {name} reviews (stop words left out)")
    if source:
        figure.suptitle(source, fontsize=10)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_roc(labels, probabilities, path, auc: float | None) -> None:
    from sklearn.metrics import roc_curve

    false_positive, true_positive, _ = roc_curve(labels, probabilities)
    figure, axis = plt.subplots(figsize=(4.6, 4.2), constrained_layout=True)
    axis.plot(false_positive, true_positive, color=POSITIVE_COLOUR, label=f"model (AUC {auc:.4f})" if auc else "model")
    axis.plot([0, 1], [0, 1], "--", color="#aaa", label="chance")
    axis.set_xlabel("false positive rate")
    axis.set_ylabel("true positive rate")
    axis.set_title("ROC curve")
    axis.legend(loc="lower right")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_by_length(by_length: dict, path) -> None:
    names = list(by_length)
    accuracy = [by_length[n]["accuracy"] or 0.0 for n in names]
    figure, axis = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
    bars = axis.bar(names, accuracy, color="#7f7f7f")
    axis.bar_label(bars, labels=[f"{a:.3f}\nn={by_length[n]['n']:,}" for a, n in zip(accuracy, names)], fontsize=8)
    axis.set_ylim(0, 1.1)
    axis.set_xlabel("review length (words)")
    axis.set_ylabel("accuracy")
    axis.set_title("Accuracy by review length")
    figure.savefig(path, dpi=110)
    plt.close(figure)
