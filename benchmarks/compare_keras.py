"""Keras vs lstm-sentiment on the same machine, data and preprocessing: seconds per epoch and test accuracy.

    python benchmarks/compare_keras.py --data ../shared/data/aclImdb_v1.tar.gz [--presets seed000 seed002]

TensorFlow is never a dependency of the package: on first use this script makes its own virtual environment
(benchmarks/.venv-keras) and installs tensorflow-cpu and keras there. Both frameworks get the very same id
tensors (our tokenizer, vocabulary, padding and train/validation/test split), saved to a temporary .npz; Keras
trains the classic Embedding -> LSTM -> Dense(sigmoid) model of the preset; we train the preset itself.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lstm_sentiment.config_io import apply_override, load_preset
from lstm_sentiment.data.prepare import load_prepared
from lstm_sentiment.native import lstm_steps
from lstm_sentiment.runtime import mixed_precision_dtype
from lstm_sentiment.training_run import RunOptions, train_run

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-keras"
KERAS_REQUIREMENTS = ["tensorflow-cpu==2.21.0", "keras==3.15.1"]

# Runs inside the TensorFlow environment; reads the arrays and the preset's numbers, prints one JSON line.
KERAS_SCRIPT = r"""
import json, sys, time
import numpy as np
import keras
spec = json.loads(sys.argv[2])
arrays = np.load(sys.argv[1])
keras.utils.set_random_seed(spec["seed"])
layers = [keras.Input(shape=(spec["maxlen"],), dtype="int32"), keras.layers.Embedding(spec["num_words"], spec["embedding_dim"])]
for k, units in enumerate(spec["hidden_sizes"]):
    layers.append(keras.layers.LSTM(units, dropout=spec["dropout"], recurrent_dropout=spec["recurrent_dropout"],
                                    return_sequences=k < len(spec["hidden_sizes"]) - 1))
if spec["output_dropout"]:
    layers.append(keras.layers.Dropout(spec["output_dropout"]))
layers.append(keras.layers.Dense(1, activation="sigmoid"))
model = keras.Sequential(layers)
model.compile(optimizer=keras.optimizers.Adam(spec["learning_rate"]), loss="binary_crossentropy", metrics=["accuracy"])

class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        seconds.append(time.perf_counter() - self.started)

seconds = []
history = model.fit(arrays["train_x"], arrays["train_y"], batch_size=spec["batch_size"], epochs=spec["epochs"],
                    validation_data=(arrays["val_x"], arrays["val_y"]), callbacks=[EpochTimer()], verbose=2)
loss, accuracy = model.evaluate(arrays["test_x"], arrays["test_y"], batch_size=256, verbose=0)
open(sys.argv[3], "w").write(json.dumps({"epoch_seconds": seconds, "test_accuracy": float(accuracy), "test_loss": float(loss),
                  "val_accuracy": history.history["val_accuracy"], "keras": keras.__version__}))
"""


def keras_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} with {' '.join(KERAS_REQUIREMENTS)} (first use only)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *KERAS_REQUIREMENTS], check=True)
    return python


def run_keras(preset: str, data_path: Path, workdir: Path) -> dict:
    config = load_preset(preset)
    data = load_prepared(data_path, config.data)
    arrays = {}
    for name, key in (("train", "train"), ("validation", "val"), ("test", "test")):
        split = data.splits[name]
        arrays[f"{key}_x"] = split.ids.numpy().astype(np.int32)  # the same pre-padded ids we train on
        arrays[f"{key}_y"] = split.labels.numpy().astype(np.float32)
    npz = workdir / f"{preset}.npz"
    np.savez(npz, **arrays)
    spec = {"seed": config.train.seed, "maxlen": config.data.maxlen, "num_words": data.vocab.size,
            "embedding_dim": config.model.embedding_dim, "hidden_sizes": config.model.hidden_sizes,
            "dropout": config.model.dropout, "recurrent_dropout": config.model.recurrent_dropout,
            "output_dropout": config.model.output_dropout, "learning_rate": config.train.learning_rate,
            "batch_size": config.train.batch_size, "epochs": config.train.epochs}
    result_file = workdir / f"{preset}-keras.json"
    print(f"[{preset}] Keras: training (its per-epoch log follows)", flush=True)
    result = subprocess.run([str(keras_python()), "-c", KERAS_SCRIPT, str(npz), json.dumps(spec), str(result_file)],
                            check=False)  # Keras prints its own per-epoch progress
    if result.returncode != 0:
        raise SystemExit(f"Keras run for {preset} failed (exit {result.returncode}); see its output above")
    return json.loads(result_file.read_text())


def run_ours(preset: str, data_path: Path, workdir: Path, overrides: list[str]) -> dict:
    config = load_preset(preset)
    for override in overrides:
        apply_override(config, override)
    print(f"[{preset}] lstm-sentiment: training", flush=True)
    metrics = train_run(config, RunOptions(str(data_path), preset=preset), workdir / f"ours-{preset}")
    history = json.loads((workdir / f"ours-{preset}" / "history.json").read_text())
    return {"epoch_seconds": [row["seconds"] for row in history], "test_accuracy": metrics["accuracy"],
            "test_loss": metrics["loss"], "val_accuracy": [row["val_accuracy"] for row in history],
            "overrides": overrides, "precision": str(mixed_precision_dtype(torch.device("cpu"),
                                                                              config.train.mixed_precision) or "float32"),
            "step_kernel": "compiled" if lstm_steps() else "Python loop"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="aclImdb archive, folder or CSV")
    parser.add_argument("--presets", nargs="+", default=["seed000", "seed002"])
    parser.add_argument("--out", default=str(HERE / "results" / "compare_keras.json"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override our side's preset, e.g. train.mixed_precision=false")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets:
            started = time.perf_counter()
            keras_result = run_keras(preset, Path(args.data), Path(tmp))
            ours_result = run_ours(preset, Path(args.data), Path(tmp), args.overrides)
            keras_epoch = float(np.median(keras_result["epoch_seconds"]))
            ours_epoch = float(np.median(ours_result["epoch_seconds"]))
            rows.append({"preset": preset, "keras": keras_result, "ours": ours_result,
                         "keras_seconds_per_epoch": keras_epoch, "ours_seconds_per_epoch": ours_epoch,
                         "epoch_time_ratio": ours_epoch / keras_epoch,
                         "accuracy_difference": ours_result["test_accuracy"] - keras_result["test_accuracy"],
                         "wall_seconds": time.perf_counter() - started})
    print(f"{'preset':<9}{'Keras s/epoch':>14}{'ours s/epoch':>13}{'ratio':>7}{'Keras test acc':>16}{'ours test acc':>15}")
    for row in rows:
        print(f"{row['preset']:<9}{row['keras_seconds_per_epoch']:>14.1f}{row['ours_seconds_per_epoch']:>13.1f}"
              f"{row['epoch_time_ratio']:>7.2f}{row['keras']['test_accuracy']:>16.4f}"
              f"{row['ours']['test_accuracy']:>15.4f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
                               "rows": rows}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
