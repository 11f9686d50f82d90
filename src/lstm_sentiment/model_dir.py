"""The model directory: weights (safetensors), config and vocabulary (JSON). No pickle anywhere."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .config import FORMAT_VERSION, MAX_PARAMETERS, Config, keys_newer_than
from .config_io import config_from_dict, missing_keys
from .data.vocab import Vocabulary
from .errors import UserError
from .files import atomic_write, read_json, write_json
from .integrity import TENSORS_KEY, VOCAB_KEY, tensors_digest, vocab_digest
from .model import Classifier, build_classifier
from .ngram import NGRAM_FILE, NGRAM_WEIGHTS, NgramMember

WEIGHTS, CONFIG, VOCAB = "model.safetensors", "config.json", "vocab.json"
METADATA_KEY = "lstm-sentiment"  # the weights file's metadata: JSON with its format and SHA-256 digests
HISTORY, METRICS = "history.json", "metrics.json"


def remove_stale_temporaries(folder: Path) -> int:
    """Temporary files of writes that were killed before their rename (`.NAME.XXXXXXXX`, up to a checkpoint's
    size each); called when a run starts in `folder`, where no other write of ours is in flight."""
    removed = 0
    for name in (WEIGHTS, CONFIG, VOCAB, HISTORY, METRICS, "checkpoint.safetensors", "encoder.safetensors",
                 NGRAM_FILE, NGRAM_WEIGHTS):
        for stale in folder.glob(f".{name}.*"):
            if stale.is_file():
                stale.unlink(missing_ok=True)
                removed += 1
    return removed


def save_weights(model: torch.nn.Module, path: Path, dtype: torch.dtype | None = None,
                 vocab: Vocabulary | None = None) -> None:
    """The model's state dict as safetensors, optionally stored in another dtype (loading casts to float32), with
    the SHA-256 of its tensors and of the vocabulary it reads (integrity.py), checked by load_model_files."""
    tensors = {name: t.detach().to("cpu", dtype).contiguous() for name, t in model.state_dict().items()}
    record = {"format": "lstm-sentiment", TENSORS_KEY: tensors_digest(tensors)}
    if vocab is not None:
        record[VOCAB_KEY] = vocab_digest(vocab.tokens)
    # one metadata entry: safetensors writes several in a random order, and the same weights must give the same
    # file bytes (weights_version names a model by them)
    metadata = {METADATA_KEY: json.dumps(record, sort_keys=True)}
    atomic_write(path, lambda p: save_file(tensors, str(p), metadata=metadata))


def save_model_files(run_dir: Path, model: Classifier | None, config: Config, vocab: Vocabulary,
                     extra: dict | None = None) -> None:
    """Config and vocabulary, and the weights unless model is None (a run writes them after its first epoch,
    so an unfinished first epoch never leaves a directory that loads)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / CONFIG, {"format_version": FORMAT_VERSION, "vocab_size": vocab.size, **config.to_dict(),
                                  **(extra or {})})
    atomic_write(run_dir / VOCAB, vocab.save)
    if model is not None:
        save_weights(model, run_dir / WEIGHTS, vocab=vocab)


def pack_model(run_dir: Path, out: Path, dtype: str = "float16") -> dict[str, int]:
    """A distributable copy of a model directory: weights stored in `dtype` (loading always computes in float32),
    config, vocabulary and the training run's metrics and history as provenance. Returns the size of each file in bytes."""
    model, _, vocab = load_model_files(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw_config = read_json(run_dir / CONFIG)
    if not missing_keys(raw_config):  # a config that records every key is the current format, whatever wrote it
        raw_config["format_version"] = FORMAT_VERSION
    write_json(out / CONFIG, {**raw_config, "weights_dtype": dtype})
    atomic_write(out / VOCAB, vocab.save)
    save_weights(model, out / WEIGHTS, getattr(torch, dtype), vocab=vocab)
    member = NgramMember.load(run_dir)
    if member is not None:  # float32: its weights are summed by the hundred, float16 errors would add up
        member.save(out)
    for name in (METRICS, HISTORY):  # provenance, and the curves of `report`
        if (run_dir / name).exists():
            write_json(out / name, read_json(run_dir / name))
    return {path.name: path.stat().st_size for path in sorted(out.iterdir()) if path.is_file()}


def default_model_dir() -> Path | None:
    """The small model shipped inside the package, if this installation has one."""
    folder = Path(str(resources.files("lstm_sentiment") / "default_model"))
    return folder if (folder / "model.safetensors").exists() else None


def resolve_model_dir(path: str | Path | None) -> Path:
    """The model directory a command uses: the one given, else the shipped default model."""
    if path:
        return Path(path)
    default = default_model_dir()
    if default is None:
        raise UserError("no --model given and this installation ships no default model; "
                        "train one with `lstm-sentiment train --out RUN_DIR` and pass --model RUN_DIR")
    return default


def load_model_files(run_dir: str | Path, device: torch.device | str = "cpu") -> tuple[Classifier, Config, Vocabulary]:
    """Everything needed to use a model comes from its directory, nothing else."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"model directory {run_dir} does not exist")
    raw = read_json(run_dir / CONFIG)
    if not isinstance(raw, dict):
        raise UserError(f"{run_dir / CONFIG}: expected a JSON object")
    version = raw.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise UserError(f"{run_dir / CONFIG}: format_version must be a whole number, not {version!r}")
    if version > FORMAT_VERSION:
        raise UserError(f"{run_dir / CONFIG}: format version {version} is newer than this "
                        f"lstm-sentiment supports ({FORMAT_VERSION}); upgrade the package")
    # format 1 predates some keys, and later formats added some: their defaults apply
    absent = sorted(set(missing_keys(raw)) - keys_newer_than(version)) if version >= 2 else []
    if absent:
        raise UserError(f"{run_dir / CONFIG}: missing {', '.join(absent)} (format {version} records every key; "
                        "was the file edited?)")
    try:
        config = config_from_dict({k: raw[k] for k in ("data", "model", "train") if k in raw},
                                  source=str(run_dir / CONFIG))
    except UserError as exc:
        raise UserError(str(exc)) from None
    vocab = Vocabulary.load(run_dir / VOCAB)
    if raw.get("vocab_size") not in (None, vocab.size):
        raise UserError(f"{run_dir / VOCAB}: {vocab.size} tokens but {CONFIG} says vocab_size {raw['vocab_size']}")
    parameters = config.model.parameter_count(vocab.size)
    if parameters > MAX_PARAMETERS:
        raise UserError(f"{run_dir / CONFIG}: the model would need {parameters:,} weights; refusing to build it")
    weights_path = run_dir / WEIGHTS
    if not weights_path.is_file():  # a folder or a FIFO of that name would hang or fail inside the reader
        raise UserError(f"{weights_path}: missing file" if not weights_path.exists() else
                        f"{weights_path}: not a regular file")
    try:
        with safe_open(str(weights_path), "pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{weights_path}: unreadable safetensors file ({exc})") from None
    check_digests(weights_path, metadata, tensors, vocab)
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise UserError(f"{weights_path}: non-finite values (NaN or infinity) in {name}")
    model = build_classifier(config.model, vocab.size)
    try:
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[1:3]) if len(first) > 1 else first[0]
        raise UserError(f"{weights_path}: weights do not match {CONFIG} ({detail})") from None
    return model.to(device).eval(), config, vocab


def check_digests(path: Path, metadata: dict, tensors: dict, vocab: Vocabulary) -> None:
    """Weights saved by this version carry digests; older model directories (without them) load as before."""
    try:
        metadata = json.loads(metadata.get(METADATA_KEY, "{}"))
    except json.JSONDecodeError:
        raise UserError(f"{path}: unreadable {METADATA_KEY} metadata") from None
    if not isinstance(metadata, dict):
        raise UserError(f"{path}: unreadable {METADATA_KEY} metadata")
    if TENSORS_KEY in metadata and metadata[TENSORS_KEY] != tensors_digest(tensors):
        raise UserError(f"{path}: the tensors do not match the checksum recorded when they were saved "
                        "(the file is damaged or was edited)")
    if VOCAB_KEY in metadata and metadata[VOCAB_KEY] != vocab_digest(vocab.tokens):
        raise UserError(f"{path}: these weights were trained with another vocabulary than {VOCAB} "
                        "(copied from another run?)")


def weights_version(model_dir: Path, members: bool = False) -> str:
    """First 12 hex digits of the LSTM weights' SHA-256 (what an ONNX export holds); members=True: of the n-gram
    member's weights too where there is one, which names the predictions the server gives."""
    digest = hashlib.sha256()
    files = [model_dir / WEIGHTS] + ([model_dir / NGRAM_WEIGHTS] if members and (model_dir / NGRAM_WEIGHTS).exists()
                                     else [])
    for path in files:
        with open(path, "rb") as weights:
            for block in iter(lambda: weights.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]
