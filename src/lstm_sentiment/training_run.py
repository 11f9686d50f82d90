"""A training run from data to a complete model directory: prepare, fit, test once, write files and plots."""

from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .allocator import keep_freed_memory
from .checkpoint import Checkpoint, Progress, save_checkpoint
from .config import Config
from .data.batching import Batch, batch_order, make_batch
from .data.prepare import load_prepared
from .data.sources import source_kind, source_parts
from .distributed import Cluster, join_cluster, leave_cluster
from .embeddings import ppmi_svd_vectors
from .errors import UserError
from .evaluate import SCORING_BATCH_TOKENS, evaluate_split
from .faults import FaultInjector
from .files import write_json
from .language_model import load_encoder, pretrained_vocabulary
from .model import SentimentClassifier, build_classifier, classifiers_in, flatten_members
from .model_dir import HISTORY, METRICS, WEIGHTS, remove_stale_temporaries, save_model_files, save_weights
from .ngram import NgramMember
from .ngram_fit import combined_split_metrics, member_for_run
from .output_dir import check_free_space, check_output_dir, claim, replace
from .plots import plot_confusion, plot_curves
from .runtime import flush_denormals, machine_description, set_seed
from .semi_supervised import UnlabelledReviews, classifier_objective
from .train import Checkpointing, FitOptions, Interrupted, fit


@dataclass
class RunOptions:
    """What a run was asked to do besides its config; kept in the checkpoint so a resume does the same."""

    data_path: str
    limit: int | None = None
    use_cache: bool = True
    preset: str | None = None
    time_to_accuracy: float | None = None
    final_split: str = "test"  # "validation" leaves the test split untouched (runs that choose settings)
    checkpoint_every: int = 0  # optimizer steps between checkpoints, besides the end of every epoch
    pretrained: str | None = None  # a `lstm-sentiment pretrain` directory whose encoder the classifier starts from
    overwrite: bool = False  # --out may hold a model or run: it is replaced once the new one is complete
    replaces: str | None = None  # set by train_run: the directory this run's staging folder replaces at the end


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The data order of an epoch depends on (seed, epoch) only, so a resumed run can replay it."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def train_run(config: Config, options: RunOptions, out: Path, progress: bool = True,
              resume: Checkpoint | None = None) -> dict | None:
    """Train, test once, write the model directory. time_to_accuracy: also measure test accuracy after every
    epoch (reported, never used for selection) and record when it first reaches this value; the time of these
    extra evaluations is not counted. With `resume` (a checkpoint of this run), continue where it stopped."""
    started = time.perf_counter()
    keep_freed_memory()
    cluster = join_cluster(config.train.device)
    try:
        if resume is None:  # an existing model stays whole until this run has finished (output_dir.py)
            writing = claim(out, options.overwrite, clean=cluster.is_main)
            options.replaces = str(out) if writing != out else None
        else:
            writing = out
        with flush_denormals():
            try:
                metrics = _train_run(config, options, writing, progress, resume, started, cluster)
            except Interrupted as stop:
                stop.run_dir = writing
                raise
        cluster.barrier()  # the others wait while rank 0 tests and writes, then all leave together
        if cluster.is_main and options.replaces:
            replace(writing, Path(options.replaces))
        return metrics
    finally:
        leave_cluster()


def _train_run(config: Config, options: RunOptions, out: Path, progress: bool, resume: Checkpoint | None,
               started: float, cluster: Cluster) -> dict | None:
    if options.pretrained and config.model.members > 1:
        raise UserError("--pretrained fine-tunes a single classifier; set model.members = 1")
    if cluster.is_main:
        check_output_dir(out)
        remove_stale_temporaries(out)
    set_seed(config.train.seed)
    device = cluster.device
    data = prepare_run_data(config, options, cluster)
    validating = config.data.validation_split > 0  # 0: a final refit on every training review, last epoch kept
    model, encoder = build_run_model(config, options, data, resume is None, device)
    if cluster.active and not cluster.is_main:
        torch.manual_seed(config.train.seed + 7919 * cluster.rank)  # own dropout masks; weights come from rank 0
    faults = FaultInjector()  # inert unless LSTM_SENTIMENT_FAULT is set (reliability tests)
    train_batches, val_batches, forward = batch_streams(config, data, cluster, device, faults)
    if cluster.is_main:
        check_free_space(out, model)
    if resume is None and cluster.is_main:  # weights follow after the first epoch, then when validation improves
        save_model_files(out, None, config, data.vocab)
    saved_run = {"config": config.to_dict(), "options": asdict(options)}

    def on_epoch_end(row: dict, improved: bool, state: Progress) -> None:
        if not cluster.is_main:
            return
        row["elapsed_seconds"] = round(state.elapsed - state.excluded, 1)
        if options.time_to_accuracy is not None:
            tracking_started = time.perf_counter()
            row["test_accuracy"] = evaluate_split(model, data.splits["test"], config.data.padding, device,
                                                  config.train.mixed_precision)[0]["accuracy"]
            state.excluded += time.perf_counter() - tracking_started
        write_json(out / HISTORY, state.history)
        write_history_csv(out / "history.csv", state.history)
        if improved:
            save_weights(model, out / WEIGHTS, vocab=data.vocab)

    def save(net, best_state, optimizer, scheduler, state: Progress, average=None, grad_scaler=None) -> None:
        if not cluster.is_main:
            return
        save_checkpoint(out, net, best_state, optimizer, scheduler, state, saved_run, faults, average, grad_scaler)
        if state.step == 0:
            faults.reached("epoch-end")

    steps = math.ceil(len(data.splits["train"]) / config.train.batch_size)
    objective = classifier_objective(config.train, forward, device, val_batches if validating else None, cluster,
                                     model)
    result = fit(model, objective, train_batches, steps, config.train, device,
                 FitOptions(on_epoch_end, progress, Checkpointing(save, options.checkpoint_every), resume,
                            clock_start=started, encoder=encoder, cluster=cluster,
                            embedding=model.embedding if config.train.adversarial else None))
    if not cluster.is_main:
        return None  # rank 0 tests the model and writes the results
    model.load_state_dict(result.best_state)
    member = texts = None
    if config.ngram.order:
        member, texts = member_for_run(config, Path(options.data_path), options.limit, data, model, device,
                                       reports_validation=options.final_split == "validation")
        member.save(out)
    metrics = final_metrics(config, options, data, model, result, device, validating, member, texts)
    metrics["seconds"] = round((resume.progress.elapsed if resume else 0.0) + time.perf_counter() - started
                               - result.progress.excluded, 1)
    metrics["resumed"] = resume is not None
    write_json(out / METRICS, metrics)
    title = f"{out.name}: {options.final_split} accuracy {metrics['accuracy']:.4f}"
    plot_curves(result.history, out / "curves.png", title=title)
    plot_confusion(metrics["confusion_matrix"], out / "confusion.png")
    return metrics


def prepare_run_data(config: Config, options: RunOptions, cluster: Cluster):
    """The prepared splits (rank 0 prepares and caches them first; the other processes then read the cache),
    checked to hold enough reviews for what the run will do with them."""
    data_path = Path(options.data_path)
    if not cluster.is_main:
        cluster.barrier()
    # a classifier fine-tuned from a language model reads text with the language model's vocabulary
    vocab = pretrained_vocabulary(Path(options.pretrained)) if options.pretrained else None
    data = load_prepared(data_path, config.data, limit=options.limit, use_cache=options.use_cache,
                         unlabelled=config.model.embedding_init == "ppmi" or config.train.semi_supervised, vocab=vocab)
    if cluster.is_main:
        cluster.barrier()
    validating = config.data.validation_split > 0
    if not len(data.splits["train"]) or (validating and not len(data.splits["validation"])):
        raise UserError(f"{data_path}: not enough labelled reviews to train and validate")
    if not validating and options.final_split == "validation":
        raise UserError("data.validation_split = 0 holds out no validation reviews to report on; "
                        "leave out --no-test (a refit is tested once, at the end)")
    return data


def build_run_model(config: Config, options: RunOptions, data, new: bool, device: torch.device):
    """The classifier, its word vectors or pretrained encoder loaded on a new run (a resumed run gets all its
    weights from the checkpoint), and the encoder's parameters (None without --pretrained)."""
    model = build_classifier(config.model, data.vocab.size)
    if config.model.embedding_init == "ppmi" and new:
        vectors = ppmi_svd_vectors(data.unlabelled_ids, data.vocab.size, config.model.embedding_dim,
                                   config.model.embedding_window, seed=config.train.seed)
        with torch.no_grad():
            for classifier in classifiers_in(model):
                classifier.embedding.weight.copy_(torch.from_numpy(vectors))
    encoder = None
    if options.pretrained:
        encoder = pretrained_encoder(model, Path(options.pretrained), config, data.vocab, load=new)
    return model.to(device), encoder


def batch_streams(config: Config, data, cluster: Cluster, device: torch.device, faults: FaultInjector):
    """train_batches(epoch), val_batches() and forward(net, batch) for fit: every process builds the same
    global batches (seeded per epoch) and takes its share of each."""
    train_split, val_split = data.splits["train"], data.splits["validation"]

    def forward(net: torch.nn.Module, batch: Batch):
        if net.training:
            faults.reached("step")  # counts training batches begun: a kill here loses the step in progress
        batch = batch.to(device)
        return flatten_members(net(batch.ids, batch.lengths, "right"), batch.labels)

    unlabelled = (UnlabelledReviews(data.unlabelled_ids, config.train.unlabelled_maxlen or config.data.maxlen)
                  if config.train.semi_supervised else None)
    unlabelled_size = config.train.unlabelled_batch_size or config.train.batch_size

    def shares(split, order, unlabelled_generator=None):
        for index in order:
            mine, weight = cluster.share(index)
            batch = make_batch(split, mine, config.data.padding)
            batch.loss_weight = weight
            if unlabelled_generator is not None:  # drawn in step order: a resumed run replays the same ones
                batch.unlabelled = unlabelled.batch(unlabelled_size, unlabelled_generator)
            yield batch

    def train_batches(epoch: int):
        generator = epoch_generator(config.train.seed + 7, epoch) if unlabelled is not None else None
        return shares(train_split, batch_order(train_split.lengths, config.train.batch_size, shuffle=True,
                                               bucket=config.train.bucket_by_length,
                                               generator=epoch_generator(config.train.seed, epoch)), generator)

    def val_batches():
        return shares(val_split, batch_order(val_split.lengths, 256, shuffle=False, bucket=True, generator=None,
                                             max_tokens=SCORING_BATCH_TOKENS))

    return train_batches, val_batches, forward


def final_metrics(config: Config, options: RunOptions, data, model, result, device: torch.device,
                  validating: bool, member: NgramMember | None = None, texts: dict | None = None) -> dict:
    """metrics.json: the kept weights (and n-gram member) scored once on the final split, with what the run saw
    and did."""
    split = data.splits[options.final_split]
    alone = None
    if member is None:
        scored, _ = evaluate_split(model, split, config.data.padding, device, config.train.mixed_precision)
    else:
        scored, alone = combined_split_metrics(member, model, split, texts[options.final_split].texts, config,
                                               device)
    best = result.history[result.best_epoch - 1]
    data_path = Path(options.data_path)
    metrics = {
        **scored,
        "split": options.final_split,
        "preset": options.preset,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "stopped_early": result.stopped_early,
        "validation": ({"loss": best["val_loss"], "accuracy": best["val_accuracy"],
                        "n": len(data.splits["validation"])} if validating else None),
        "train_size": len(data.splits["train"]),
        "machine": machine_description(),
        "device": str(device),
        "seed": config.train.seed,
        "data": str(data_path),
        # which data the model saw: one entry per source, e.g. [{"path": ..., "kind": "imdb"}, {"kind": "sst"}]
        "data_sources": [{"path": str(part), "kind": source_kind(part)} for part in source_parts(data_path)],
        "phrases": config.data.phrases,
        "negations": config.data.negations,
        "compositions": config.data.compositions,
        "negation_strength": config.data.negation_strength,
        "labelled_words": config.data.labelled_words,
        "composition_wordings": config.data.composition_wordings,
        "verb_opinions": config.data.verb_opinions,
        "verb_lexicon": config.data.verb_lexicon,
        "lexicon_words": config.data.lexicon_words,
        "idioms": config.data.idioms,
        "sentence_head_tokens": config.model.sentence_head_tokens,
        "word_aliases": config.data.word_aliases,
        "aliases": len(data.vocab.aliases),  # words outside the vocabulary read as a word inside it
        "training_examples": len(data.splits["train"]),
        "limit": options.limit,
    }
    if member is not None:  # each member alone on the final split, and what the member's fit chose on validation
        metrics["members"] = {**alone, "ngram_fit": member.fitted, "mix": member.mix,
                              **({"sentence_mix": member.sentence_mix} if member.sentence_mix else {}),
                              **({"unread_mix": member.unread_mix} if member.unread_mix else {})}
    if options.time_to_accuracy is not None:
        metrics["time_to_accuracy"] = time_to_accuracy_summary(result.history, options.time_to_accuracy)
    return metrics


def pretrained_encoder(model: SentimentClassifier, lm_dir: Path, config: Config, vocab, load: bool) -> list:
    """Copy a pretrained language model's embedding and first LSTM layer into the classifier (unless resuming,
    when the checkpoint has them); returns those parameters for discriminative rates and unfreezing."""
    state = load_encoder(lm_dir, config, vocab)
    own = model.state_dict()
    wrong = [name for name, tensor in state.items() if name not in own or own[name].shape != tensor.shape]
    if wrong:
        raise UserError(f"{lm_dir}: pretrained weights do not fit this classifier ({', '.join(wrong)})")
    if load:
        model.load_state_dict(state, strict=False)
    parameters = dict(model.named_parameters())
    return [parameters[name] for name in state]


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
