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
        axis.plot(epochs, [row[f"val_{key}"] for row in history], "s--", color=VALIDATION_COLOUR, label="validation")
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
