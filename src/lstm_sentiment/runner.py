"""A training run from data to a complete model directory: prepare, fit, test once, write files and plots."""

from __future__ import annotations

import csv
import math
import os
import platform
import time
from pathlib import Path

import torch

from .config import Config
from .data.batching import Batch, iterate_batches
from .data.prepare import load_prepared
from .errors import UserError
from .evaluate import evaluate_split
from .model import SentimentClassifier
from .plots import plot_confusion, plot_curves
from .runs import HISTORY, METRICS, save_model_files, save_weights, write_json
from .runtime import resolve_device, set_seed
from .train import fit, history_rows


def check_output_dir(out: Path) -> None:
    """Fail before training, not after it, when the run directory cannot be written."""
    if out.exists() and not out.is_dir():
        raise UserError(f"output path {out} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output directory {out}: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"output directory {out} is not writable")


def machine_description() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__.split('+')[0]}"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{platform.machine()} CPU"


def train_run(config: Config, data_path: Path, out: Path, limit: int | None = None, progress: bool = True,
              use_cache: bool = True, preset: str | None = None, time_to_accuracy: float | None = None,
              final_split: str = "test") -> dict:
    """final_split="validation" leaves the test split untouched (for runs that choose settings).
    time_to_accuracy: also measure test accuracy after every epoch (reported, never used for selection) and
    record when it first reaches this value; the time spent on these extra evaluations is not counted."""
    started = time.perf_counter()
    check_output_dir(out)
    generator = set_seed(config.train.seed)
    device = resolve_device(config.train.device)
    data = load_prepared(data_path, config.data, limit=limit, use_cache=use_cache)
    if not len(data.splits["train"]) or not len(data.splits["validation"]):
        raise UserError(f"{data_path}: not enough labelled reviews to train and validate")
    model = SentimentClassifier(config.model, data.vocab.size).to(device)
    train_split, val_split = data.splits["train"], data.splits["validation"]

    def forward(net: torch.nn.Module, batch: Batch):
        batch = batch.to(device)
        return net(batch.ids, batch.lengths, "right"), batch.labels

    def train_batches(epoch: int):
        return iterate_batches(train_split, config.train.batch_size, config.data.padding, shuffle=True,
                               bucket=config.train.bucket_by_length, generator=generator)

    def val_batches():
        return iterate_batches(val_split, 256, config.data.padding)

    # The directory holds a loadable model from the first improving epoch on.
    save_model_files(out, model, config, data.vocab)
    history: list[dict] = []
    tracking_seconds = 0.0

    def on_epoch_end(record, improved: bool) -> None:
        nonlocal tracking_seconds
        row = history_rows([record])[0]
        row["elapsed_seconds"] = round(time.perf_counter() - started - tracking_seconds, 1)
        if time_to_accuracy is not None:
            tracking_started = time.perf_counter()
            row["test_accuracy"] = evaluate_split(model, data.splits["test"], config.data.padding, device,
                                                  config.train.mixed_precision)[0]["accuracy"]
            tracking_seconds += time.perf_counter() - tracking_started
        history.append(row)
        write_json(out / HISTORY, history)
        write_history_csv(out / "history.csv", history)
        if improved:
            save_weights(model, out / "model.safetensors")

    steps = math.ceil(len(train_split) / config.train.batch_size)
    result = fit(model, train_batches, steps, val_batches, forward, config.train, device, on_epoch_end, progress)
    model.load_state_dict(result.best_state)
    test_metrics, _ = evaluate_split(model, data.splits[final_split], config.data.padding, device,
                                     config.train.mixed_precision)
    best = history[result.best_epoch - 1]
    metrics = {
        **test_metrics,
        "split": final_split,
        "preset": preset,
        "best_epoch": result.best_epoch,
        "epochs_run": len(history),
        "stopped_early": result.stopped_early,
        "validation": {"loss": best["val_loss"], "accuracy": best["val_accuracy"], "n": len(val_split)},
        "train_size": len(train_split),
        "seconds": round(time.perf_counter() - started - tracking_seconds, 1),
        "machine": machine_description(),
        "device": str(device),
        "seed": config.train.seed,
        "data": str(data_path),
        "limit": limit,
    }
    if time_to_accuracy is not None:
        metrics["time_to_accuracy"] = time_to_accuracy_summary(history, time_to_accuracy)
    write_json(out / METRICS, metrics)
    plot_curves(history, out / "curves.png", title=f"{out.name}: {final_split} accuracy {metrics['accuracy']:.4f}")
    plot_confusion(metrics["confusion_matrix"], out / "confusion.png")
    return metrics


def time_to_accuracy_summary(history: list[dict], target: float) -> dict:
    """First epoch whose test accuracy reaches target, with the run's elapsed time then (data preparation
    included, the tracking evaluations excluded)."""
    reached = next((row for row in history if row["test_accuracy"] >= target), None)
    return {"target": target, "epoch": reached["epoch"] if reached else None,
            "seconds": reached["elapsed_seconds"] if reached else None,
            "test_accuracy_by_epoch": [row["test_accuracy"] for row in history]}


def write_history_csv(path: Path, history: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
