"""Corpus -> train/validation/test id tensors and the vocabulary, cached by data source and text settings."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..config import DataConfig
from ..errors import UserError
from . import aliases, composition, idioms, lexicon, negation, verb_opinions, wordings, wordnet_lexicon
from .cache_eviction import STAGING_PREFIX, cache_limit_bytes, evict_least_recently_used
from .corpus import concatenate
from .sources import Corpus, Reviews, cache_dir, data_fingerprint, load_corpus
from .text import TOKENIZER_VERSION, tokenize, word_count
from .treebank import TreebankOptions
from .vocab import Vocabulary, pad_sequences

SPLITS = ("train", "validation", "test")
PREPARED_FORMAT = 2  # 2: optional soft training targets


@dataclass
class EncodedSplit:
    ids: torch.Tensor  # [n, maxlen] int64, padded on the configured side
    lengths: torch.Tensor  # [n] tokens kept (<= maxlen)
    labels: torch.Tensor  # [n] 0 = negative, 1 = positive
    words: torch.Tensor  # [n] review length in words, before truncation
    # [n] float training targets in [0, 1] where softer than the labels (graded treebank labels); None: the labels
    targets: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class PreparedData:
    vocab: Vocabulary
    splits: dict[str, EncodedSplit]
    source: str
    # training + unlabelled reviews, untruncated, each followed by -1 (for word vectors); None unless asked for
    unlabelled_ids: np.ndarray | None = None


def flatten_documents(tokenized: list[list[str]], vocab: Vocabulary) -> np.ndarray:
    """All documents' ids in one int64 array, each document followed by -1."""
    pieces = []
    for tokens in tokenized:
        pieces.append(np.asarray(vocab.encode(tokens), dtype=np.int64))
        pieces.append(np.array([-1], dtype=np.int64))
    return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)


def split_corpus(corpus: Corpus, config: DataConfig, limit: int | None = None) -> dict[str, Reviews]:
    """Official train/test (or a seeded pooled split), then a seeded stratified validation carve-out of train, or
    the source's own validation split (the treebank's dev). A combined source splits each part by its own rules
    and joins the pieces, so no part's test reviews can reach another part's training split."""
    if corpus.parts:
        pieces = [split_corpus(part, config) for part in corpus.parts]
        splits = {name: concatenate([piece[name] for piece in pieces]) for name in SPLITS}
    else:
        splits = _split_source(corpus, config)
    train, validation = splits["train"], splits["validation"]
    if limit is not None and limit < len(train):
        n_val = round(limit * config.validation_split / (1 - config.validation_split))
        n_val = max(2, n_val) if config.validation_split else 0
        train = balanced_sample(train, limit, config.split_seed)
        validation = balanced_sample(validation, min(n_val, len(validation)), config.split_seed)
    return {"train": train, "validation": validation, "test": splits["test"]}


def _split_source(corpus: Corpus, config: DataConfig) -> dict[str, Reviews]:
    train, test = corpus.train, corpus.test
    if config.pool or not corpus.has_test_split:
        pooled = Reviews(train.texts + test.texts, train.labels + test.labels, train.movies + test.movies)
        train, test = _stratified_split(pooled, config.test_fraction, config.split_seed)
    if config.validation_split == 0:  # a final refit: every training review trains
        validation = _take(train, np.empty(0, dtype=np.int64))
    elif corpus.validation is not None:  # the source's own (the treebank's dev sentences)
        validation = corpus.validation
    elif config.validation_groups == "movie" and train.movies and all(train.movies):
        train, validation = _movie_split(train, config.validation_split, config.split_seed)
    else:
        train, validation = _stratified_split(train, config.validation_split, config.split_seed)
    return {"train": train, "validation": validation, "test": test}


def _stratified_split(reviews: Reviews, fraction: float, seed: int) -> tuple[Reviews, Reviews]:
    held = math.ceil(len(reviews) * fraction)  # as scikit-learn counts the held-out share
    if held < 1 or len(reviews) - held < 1:
        raise UserError(f"{len(reviews)} labelled review(s) are too few to split {fraction:.0%} off: every split "
                        "needs at least one review (give more rows, or a `split` column)")
    index = np.arange(len(reviews))
    stratify = reviews.labels if min(np.bincount(reviews.labels, minlength=2)) >= 2 else None
    from sklearn.model_selection import train_test_split  # here: scikit-learn takes 0.9 s to import, and
    # predict/serve, which import this module for its types, never split

    keep, held = train_test_split(index, test_size=fraction, random_state=seed, stratify=stratify)
    return _take(reviews, np.sort(keep)), _take(reviews, np.sort(held))


def _movie_split(reviews: Reviews, fraction: float, seed: int) -> tuple[Reviews, Reviews]:
    """Hold out whole movies, as IMDb's own train/test split does, stratified by label: validation then measures
    reviews of unseen movies (a random split lets movie-specific words leak from training into validation)."""
    folds = max(2, round(1 / fraction))
    from sklearn.model_selection import StratifiedGroupKFold  # lazily, as train_test_split above

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    keep, held = next(splitter.split(np.zeros(len(reviews)), reviews.labels, groups=reviews.movies))
    return _take(reviews, np.sort(keep)), _take(reviews, np.sort(held))


def balanced_sample(reviews: Reviews, n: int, seed: int) -> Reviews:
    if n >= len(reviews):
        return reviews
    labels = np.asarray(reviews.labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for label, share in ((0, n // 2), (1, n - n // 2)):
        candidates = np.flatnonzero(labels == label)
        chosen.append(rng.choice(candidates, size=min(share, len(candidates)), replace=False))
    return _take(reviews, np.sort(np.concatenate(chosen)))


def _take(reviews: Reviews, index: np.ndarray) -> Reviews:
    movies = [reviews.movies[i] for i in index] if reviews.movies else []
    targets = [reviews.targets[i] for i in index] if reviews.targets else []
    return Reviews([reviews.texts[i] for i in index], [reviews.labels[i] for i in index], movies, targets)


def encode_reviews(texts: list[str], labels: list[int], vocab: Vocabulary, config: DataConfig,
                   tokenized: list[list[str]] | None = None, scoring: bool = True,
                   targets: list[float] | None = None) -> EncodedSplit:
    """scoring: keep config.scoring_maxlen tokens (validation, test, evaluation); False: maxlen (training)."""
    tokenized = tokenized if tokenized is not None else [tokenize(t) for t in texts]
    maxlen = config.scoring_maxlen if scoring else config.maxlen
    ids, lengths = pad_sequences([vocab.encode(t) for t in tokenized], maxlen, config.padding, config.truncating)
    return EncodedSplit(
        ids=torch.from_numpy(ids),
        lengths=torch.from_numpy(lengths),
        labels=torch.tensor(labels, dtype=torch.int64),
        words=torch.tensor([word_count(t) for t in texts], dtype=torch.int64),
        targets=torch.tensor(targets, dtype=torch.float32) if targets else None,
    )


def prepare(splits: dict[str, Reviews], config: DataConfig, unlabelled: list[str] | None = None,
            vocab: Vocabulary | None = None,
            flatten: bool = True) -> tuple[Vocabulary, dict[str, EncodedSplit], np.ndarray | None]:
    """The vocabulary comes from the training split only (unless given: a pretrained model's), its aliases
    (data.word_aliases) from the training split and the unlabelled texts; with `flatten`, the training split and
    the unlabelled texts (if given) are also encoded in full, for word vectors."""
    tokenized = {name: [tokenize(t) for t in reviews.texts] for name, reviews in splits.items()}
    unlabelled_tokens = [tokenize(t) for t in unlabelled] if unlabelled is not None else []
    if vocab is None:
        keep = labelled_words(splits["train"], tokenized["train"]) if config.labelled_words else set()
        if config.verb_opinions:
            keep |= verb_opinions.vocabulary_words(config.verb_lexicon)
        vocab = Vocabulary.build(tokenized["train"], config.num_words, keep)
        if config.word_aliases != "none":
            vocab = vocab.with_aliases(aliases.build_aliases(tokenized["train"] + unlabelled_tokens, vocab,
                                                             config.word_aliases))
    encoded = {name: encode_reviews(splits[name].texts, splits[name].labels, vocab, config, tokenized[name],
                                    scoring=name != "train", targets=splits[name].targets) for name in splits}
    flat = None
    if unlabelled is not None and flatten:
        flat = flatten_documents(tokenized["train"] + unlabelled_tokens, vocab)
    return vocab, encoded, flat


def labelled_words(train: Reviews, tokenized: list[list[str]]) -> set[str]:
    """The one-token training examples with a clear label (the treebank's one-word phrases: "loathe",
    "cherish"): data.labelled_words keeps them all in the vocabulary. A graded neutral word (target 0.5) is not
    an opinion and is left to the frequency ranking."""
    targets = train.target_list()
    return {tokens[0] for tokens, target in zip(tokenized, targets, strict=True)
            if len(tokens) == 1 and abs(target - 0.5) >= 0.25}


def rules_digest() -> str:
    """The source of the modules that write training examples of their own (negation.py, composition.py and its
    wordings, verb_opinions.py, idioms.py and its lexicon, lexicon.py and wordnet_lexicon.py) or choose how words
    are read (aliases.py): a change to their rules must not reuse tensors the old rules made."""
    digest = hashlib.sha256()
    for module in (negation, composition, wordings, verb_opinions, lexicon, wordnet_lexicon, idioms, aliases):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(idioms.__file__).with_suffix(".json").read_bytes())
    return digest.hexdigest()[:16]


def cache_key(data_path: Path, config: DataConfig, limit: int | None, unlabelled: bool = False,
              vocab: Vocabulary | None = None) -> str:
    settings = {"data": data_fingerprint(data_path), "config": dataclasses.asdict(config), "limit": limit,
                "tokenizer": TOKENIZER_VERSION, "format": PREPARED_FORMAT, "unlabelled": unlabelled,
                "rules": rules_digest()}
    if vocab is not None:
        settings["vocabulary"] = hashlib.sha256("\n".join(vocab.tokens).encode()).hexdigest()
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:20]


def load_prepared(data_path: Path, config: DataConfig, limit: int | None = None, use_cache: bool = True,
                  skip_bad_rows: bool = False, unlabelled: bool = False, vocab: Vocabulary | None = None) -> PreparedData:
    """Prepared tensors from the cache when the data and text settings match, else built and cached.
    unlabelled=True also encodes the training split and the unlabelled reviews in full, for word vectors.
    vocab: encode with this vocabulary (a pretrained language model's) instead of building one."""
    folder = cache_dir() / "prepared" / cache_key(data_path, config, limit, unlabelled, vocab)
    if use_cache and (folder / "tensors.safetensors").exists():
        try:
            prepared = _read_cache(folder, str(data_path))
            os.utime(folder)  # recently used: evicted last
            return prepared
        except Exception:  # noqa: BLE001 - a damaged cache entry is rebuilt, never trusted
            shutil.rmtree(folder, ignore_errors=True)
    # word aliases are chosen from the unlabelled reviews too (when the source has them), never encoded
    with_aliases = config.word_aliases != "none" and vocab is None
    corpus = load_corpus(data_path, include_unsup=unlabelled or with_aliases, skip_bad_rows=skip_bad_rows,
                         treebank=TreebankOptions.of(config))
    unsup = corpus.unsup.texts[:limit] if limit is not None else corpus.unsup.texts  # --limit: small trials
    vocab, encoded, flat = prepare(split_corpus(corpus, config, limit), config,
                                   unsup if unlabelled or with_aliases else None, vocab, flatten=unlabelled)
    if use_cache:
        _write_cache(folder, vocab, encoded, flat)
    return PreparedData(vocab, encoded, str(data_path), flat)


def _read_cache(folder: Path, source: str) -> PreparedData:
    tensors = load_file(folder / "tensors.safetensors")
    splits = {name: EncodedSplit(*(tensors[f"{name}.{part}"] for part in ("ids", "lengths", "labels", "words")),
                                 targets=tensors.get(f"{name}.targets")) for name in SPLITS}
    flat = tensors["unlabelled.ids"].numpy() if "unlabelled.ids" in tensors else None
    return PreparedData(Vocabulary.load(folder / "vocab.json"), splits, source, flat)


def _write_cache(folder: Path, vocab: Vocabulary, encoded: dict[str, EncodedSplit], flat: np.ndarray | None) -> None:
    """Written into a temporary folder and renamed, so a killed run never leaves half a cache entry."""
    staging = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=STAGING_PREFIX))
        tensors = {f"{name}.{part}": getattr(split, part).contiguous()
                   for name, split in encoded.items() for part in ("ids", "lengths", "labels", "words", "targets")
                   if getattr(split, part) is not None}
        if flat is not None:
            tensors["unlabelled.ids"] = torch.from_numpy(flat)
        save_file(tensors, staging / "tensors.safetensors")
        vocab.save(staging / "vocab.json")
        os.replace(staging, folder)
        evict_least_recently_used(folder.parent, cache_limit_bytes(), keep=folder)
    except (OSError, SafetensorError):  # the cache is optional: a failed write costs the next run a re-tokenization
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
