"""Typed configuration: the dataclasses, their defaults and bounds, and the config file format's history. The
[data] section is data_config.py, the shared bounds config_limits.py; reading presets, files and overrides, and
layering them, is config_io.py."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .config_limits import LIMITS, MAX_PARAMETERS, require
from .data_config import DataConfig

__all__ = [
    "FORMAT_VERSION",
    "LIMITS",
    "MAX_PARAMETERS",
    "Config",
    "DataConfig",
    "ModelConfig",
    "NgramConfig",
    "PretrainConfig",
    "TrainConfig",
    "keys_newer_than",
    "pooled_features",
]

# 2: a model's config.json records every key, and a missing one is refused. Format 1 files (written before keys
# such as data.eval_maxlen or model.members existed) take the defaults, each of which reproduces what models
# did before the key was added.
# 3: adds data.negations; 4: train.virtual_adversarial and train.entropy_minimisation. An older file lacks the
# keys added since and gets their defaults (0: what the models of its format did).
# 5: a model directory may hold an n-gram member (ngram.json, ngram.safetensors) that changes its predictions, so
# a version that cannot read one must refuse the directory. [ngram] configures training only: the member's files
# carry what scoring needs.
# 6: adds data.compositions, data.balance_compositions and ngram.mix_constructions; 7: data.negation_strength;
# 8: data.composition_wordings; 9: data.labelled_words; 10: data.verb_opinions; 11: data.word_aliases;
# 12: data.verb_lexicon. 13: data.lexicon_words. 14: ngram.sentence_mix_words. 15: model.sentence_head_tokens,
# model.sentence_pooling and model.sentence_head_adds. 16: data.idioms. 17: ngram.unread_mix.
# 18: train.unlabelled_batch_size and train.unlabelled_maxlen.
FORMAT_VERSION = 18
KEYS_ADDED = {3: ("data.negations",), 4: ("train.virtual_adversarial", "train.entropy_minimisation"),
              6: ("data.compositions", "data.balance_compositions", "ngram.mix_constructions"),
              7: ("data.negation_strength",), 8: ("data.composition_wordings",),
              9: ("data.labelled_words",), 10: ("data.verb_opinions",), 11: ("data.word_aliases",),
              12: ("data.verb_lexicon",), 13: ("data.lexicon_words",),
              14: ("ngram.sentence_mix_words",),
              15: ("model.sentence_head_tokens", "model.sentence_pooling", "model.sentence_head_adds"),
              16: ("data.idioms",), 17: ("ngram.unread_mix",),
              18: ("train.unlabelled_batch_size", "train.unlabelled_maxlen")}
SECTIONS = ("data", "model", "train", "pretrain", "ngram")
POOLINGS = ("last", "max", "mean", "maxmean", "maxmeanlast")
UNREAD_MIXES = ("shared", "fit", "balanced")


@dataclass
class ModelConfig:
    """Embedding -> stacked LSTM layers -> pooling -> dropout -> Dense(1)."""

    embedding_dim: int = 128
    # "uniform": U(-0.05, 0.05) as Keras initialises embeddings; "normal": N(0, 1), PyTorch's default. Small
    # embeddings keep the gates out of saturation at the start (seed002: 0.876 vs 0.822 test accuracy).
    # "ppmi": word vectors from the training and unlabelled reviews (embeddings.py), before any label is seen.
    embedding_init: str = "uniform"
    embedding_window: int = 5  # co-occurrence window of the "ppmi" vectors
    hidden_sizes: list[int] = field(default_factory=lambda: [128])  # one entry per LSTM layer
    bidirectional: bool = False
    dropout: float = 0.0  # on each LSTM layer's inputs (Keras `dropout`)
    recurrent_dropout: float = 0.0  # on h_{t-1}, one mask per sequence (Keras `recurrent_dropout`)
    embedding_dropout: float = 0.0
    word_dropout: float = 0.0  # training only: each token is replaced by <unk> with this probability
    # training only: DropConnect on the recurrent weights U (AWD-LSTM's weight drop), one mask per batch; unlike
    # recurrent_dropout it keeps the fused kernel
    weight_dropout: float = 0.0
    output_dropout: float = 0.0  # before the Dense layer (a Keras `Dropout` layer)
    # "last" state, or "max", "mean", "maxmean" over valid time steps; "maxmeanlast": maxmean and the final
    # states too, which have read the whole text in order (a max over steps reads each word's state on its own)
    pooling: str = "last"
    # > 0: texts the LSTM reads fewer than this many tokens of (sentences) are scored by a second head over
    # `sentence_pooling`, the rest (reviews) by the head over `pooling`; each head learns from its own texts only.
    # Why: the final states read a sentence's composition ("I don't think ... that I hated it") and are noise on
    # reviews (maxmeanlast alone: SST-2 dev +0.7 point, IMDb validation -0.5; docs/results.md). 0: one head
    sentence_head_tokens: int = 0
    sentence_pooling: str = "maxmeanlast"
    # true: a short text's logit is the review head's plus the sentence head's (with sentence_pooling = "last": the
    # final states add to what max+mean pooling, shared with reviews, reads), so both heads learn from sentences
    sentence_head_adds: bool = False
    lstm_path: str = "auto"  # "auto", "explicit" or "fused" (see lstm.py)
    # An ensemble: this many classifiers with their own weights, trained side by side on the same batches, each
    # on its own loss; predictions average their logits (model.py). Costs `members` times the compute.
    members: int = 1

    def validate(self) -> None:
        require(1 <= self.embedding_dim <= LIMITS["embedding_dim"],
                f"model.embedding_dim must be in [1, {LIMITS['embedding_dim']:,}]")
        require(self.embedding_init in ("uniform", "normal", "ppmi"),
                "model.embedding_init must be 'uniform', 'normal' or 'ppmi'")
        require(self.embedding_window >= 1, "model.embedding_window must be at least 1")
        require(1 <= len(self.hidden_sizes) <= LIMITS["layers"] and all(h >= 1 for h in self.hidden_sizes),
                f"model.hidden_sizes must list 1 to {LIMITS['layers']} positive sizes")
        require(max(self.hidden_sizes) <= LIMITS["hidden_size"],
                f"model.hidden_sizes: {max(self.hidden_sizes):,} units is above the limit of {LIMITS['hidden_size']:,}")
        for name in ("dropout", "recurrent_dropout", "embedding_dropout", "word_dropout", "weight_dropout",
                     "output_dropout"):
            require(0.0 <= getattr(self, name) < 1.0, f"model.{name} must be in [0, 1)")
        require(self.pooling in POOLINGS, f"model.pooling must be one of {', '.join(POOLINGS)}")
        require(self.sentence_pooling in POOLINGS, f"model.sentence_pooling must be one of {', '.join(POOLINGS)}")
        require(self.sentence_head_tokens >= 0, "model.sentence_head_tokens must be 0 (one head) or a token count")
        require(self.lstm_path in ("auto", "explicit", "fused"), "model.lstm_path must be auto, explicit or fused")
        require(1 <= self.members <= LIMITS["members"], f"model.members must be in [1, {LIMITS['members']}]")

    def parameter_count(self, vocab_size: int) -> int:
        """Weights the classifier will hold, from the config alone (checked before anything is built)."""
        directions = 2 if self.bidirectional else 1
        count, width = vocab_size * self.embedding_dim, self.embedding_dim
        for hidden in self.hidden_sizes:
            count += directions * 4 * hidden * (width + hidden + 2)
            width = directions * hidden
        heads = pooled_features(self.pooling, width) + 1
        if self.sentence_head_tokens:
            heads += pooled_features(self.sentence_pooling, width) + 1
        return self.members * (count + heads)


def pooled_features(pooling: str, width: int) -> int:
    """How many features `pooling` gives a head from a last layer `width` wide (both directions together)."""
    return width * {"maxmean": 2, "maxmeanlast": 3}.get(pooling, 1)


@dataclass
class TrainConfig:
    """Optimisation; nothing here knows about LSTMs."""

    epochs: int = 5
    batch_size: int = 64
    optimizer: str = "adam"  # "adam" or "adamw"
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"  # "constant" or "onecycle"
    grad_clip: float = 5.0  # max gradient norm; 0 turns clipping off
    early_stopping_patience: int = 0  # epochs without validation-loss improvement; 0 = never stop early
    bucket_by_length: bool = True  # batches of similar length: padding costs almost nothing
    seed: int = 0
    device: str = "auto"
    mixed_precision: bool = True  # bf16 autocast on CUDA (fp16 without bf16) and on CPUs with native bf16
    # Fine-tuning a pretrained encoder (`train --pretrained`): its embedding and LSTM layers learn at
    # learning_rate * encoder_lr_factor (discriminative rates), and stay frozen for the first
    # freeze_encoder_epochs epochs while the new head settles (gradual unfreezing, Howard & Ruder 2018).
    encoder_lr_factor: float = 1.0
    freeze_encoder_epochs: int = 0
    # Decay of an exponential moving average of the weights (averaging.py), updated after every step; when
    # above 0, validation, best-epoch selection and the saved model use the averaged weights. 0 = off.
    weight_average: float = 0.0
    # Adversarial training (adversarial.py): each step also learns from the batch with its word vectors pushed
    # this far (relative to the review's embedded norm) in the direction that raises the loss most. Doubles the
    # cost of every step in which the embedding learns. 0 = off.
    adversarial: float = 0.0
    # Virtual adversarial training (semi_supervised.py): each step also takes a batch of unlabelled reviews (the
    # archive's unsup reviews and the training reviews without labels) and adds KL(p(x) || p(x + r)), r of this
    # size relative to the embedded review, found by one power iteration. About 3 extra passes a step. 0 = off.
    virtual_adversarial: float = 0.0
    # Entropy minimisation: this weight times the entropy of the predictions on that unlabelled batch. 0 = off.
    entropy_minimisation: float = 0.0
    # The unlabelled batch of each step: this many reviews (0: train.batch_size), each cut to its last this many
    # tokens (0: data.maxlen). Why: VAT's three extra passes cost as much as the labelled step three times over
    # at full size; a smaller batch of shorter reviews makes it affordable within `best`'s 2 hours.
    unlabelled_batch_size: int = 0
    unlabelled_maxlen: int = 0

    def validate(self) -> None:
        require(1 <= self.epochs <= LIMITS["epochs"], f"train.epochs must be in [1, {LIMITS['epochs']:,}]")
        require(1 <= self.batch_size <= LIMITS["batch_size"],
                f"train.batch_size must be in [1, {LIMITS['batch_size']:,}]")
        require(0 <= self.seed < 2**63, "train.seed must be in [0, 2^63)")
        require(self.optimizer in ("adam", "adamw"), "train.optimizer must be 'adam' or 'adamw'")
        require(self.learning_rate > 0, "train.learning_rate must be positive")
        require(self.schedule in ("constant", "onecycle"), "train.schedule must be 'constant' or 'onecycle'")
        require(self.grad_clip >= 0, "train.grad_clip must be >= 0")
        require(self.early_stopping_patience >= 0, "train.early_stopping_patience must be >= 0")
        require(self.encoder_lr_factor > 0, "train.encoder_lr_factor must be positive")
        require(0 <= self.freeze_encoder_epochs < self.epochs, "train.freeze_encoder_epochs must be in [0, epochs)")
        require(0.0 <= self.weight_average < 1.0, "train.weight_average must be in [0, 1)")
        require(0.0 <= self.adversarial < 1.0, "train.adversarial must be in [0, 1)")
        require(0.0 <= self.virtual_adversarial < 1.0, "train.virtual_adversarial must be in [0, 1)")
        require(0.0 <= self.entropy_minimisation <= 10.0, "train.entropy_minimisation must be in [0, 10]")
        require(0 <= self.unlabelled_batch_size <= LIMITS["batch_size"],
                f"train.unlabelled_batch_size must be in [0, {LIMITS['batch_size']:,}] (0: train.batch_size)")
        require(self.unlabelled_maxlen >= 0, "train.unlabelled_maxlen must be >= 0 (0: data.maxlen)")

    @property
    def semi_supervised(self) -> bool:
        """Whether training also reads unlabelled reviews."""
        return self.virtual_adversarial > 0 or self.entropy_minimisation > 0


@dataclass
class PretrainConfig:
    """Language-model pretraining (`lstm-sentiment pretrain`) on the training and unlabelled reviews; the
    embedding and first LSTM layer take their sizes from [model]."""

    epochs: int = 2
    streams: int = 64  # parallel contiguous pieces of the token stream (the batch size)
    bptt: int = 100  # tokens per window; the LSTM state carries over from one window to the next
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    dropout: float = 0.1  # on embeddings and on LSTM outputs
    negatives: int = 1024  # words sampled per step for the sampled softmax
    validation_tokens: int = 200_000  # held-out tokens (validation reviews) scored with the full softmax
    windows_per_epoch: int = 0  # stop each epoch after this many windows (0: the whole stream); for time budgets

    def validate(self) -> None:
        require(self.epochs >= 1, "pretrain.epochs must be at least 1")
        require(self.streams >= 1 and self.bptt >= 2, "pretrain.streams must be >= 1 and pretrain.bptt >= 2")
        require(self.learning_rate > 0, "pretrain.learning_rate must be positive")
        require(0.0 <= self.dropout < 1.0, "pretrain.dropout must be in [0, 1)")
        require(self.negatives >= 1, "pretrain.negatives must be at least 1")
        require(self.validation_tokens >= 1, "pretrain.validation_tokens must be at least 1")
        require(self.windows_per_epoch >= 0, "pretrain.windows_per_epoch must be >= 0")


@dataclass
class NgramConfig:
    """An n-gram member beside the LSTM (ngram.py): NBSVM fitted after the LSTM on the same training texts, its
    logit mixed with the LSTM's by weights chosen on the validation split."""

    order: int = 0  # longest n-gram; 0 = no n-gram member, 3 = 1-3 grams as NBSVM
    min_count: int = 2  # training texts an n-gram must appear in
    c: float = 1.0  # inverse L2 strength of its logistic regression
    max_features: int = 300_000  # n-grams kept (largest weights first): bounds the model directory's size
    refit: bool = True  # once the mix is chosen, refit the n-grams on training + validation texts
    # what the member reads of "not", "never", "isn't"... and the words after one up to the next punctuation:
    # "drop" leaves them to the LSTM, "mark" marks them ("¬bad"), "keep" reads them as any words; "clause" drops
    # them to the end of the sentence, and the words before a "but" or "however" too (ngram.features);
    # "sentence" as "clause", dropping the whole of a sentence that holds a negator (its subject too).
    # Beside the shipped LSTM, negated negatives of the dev trees came out right 0.64 (LSTM alone), 0.22 (keep),
    # 0.47 (mark); docs/results.md
    negation_scope: str = "drop"
    # with a treebank among the sources: the mix is also fitted on the dev trees' negation and construction sets
    # (data/composition.py construction_sets), their examples together weighing this many times the validation
    # split, so that the weights favour the member where the bag of n-grams reads those sentences wrong. 0: the
    # validation split alone
    mix_constructions: float = 0.0
    # > 0: texts shorter than this many tokens (sentences) get a mix of their own, fitted on the validation texts
    # that short, the rest (reviews) on the longer ones. Why: the member adds SST-2 points on sentences and IMDb
    # points on reviews at different weights (benchmarks/member_tradeoff.py); 0: one mix for all
    sentence_mix_words: int = 0
    # texts the member reads nothing of (its negation scope leaves out every word: with negation_scope
    # "sentence", a sentence with a negator): "shared" gives them the mix of their length, whose constant was
    # fitted on every text and adds the member's intercept times its weight; "fit" gives them a mix of their own,
    # LSTM and constant, fitted on the validation texts it reads nothing of (the other mixes then on the rest);
    # "balanced" as "fit" with each label weighing the same, so that the constant does not learn that negated
    # sentences of reviews lean negative (66% of SST-2 dev's) and "not bad" is judged by the LSTM's reading.
    # Beside five LSTMs: dev-tree constructions 0.820 -> 0.835, SST-2 dev 0.8599 -> 0.8550 (docs/results.md)
    unread_mix: str = "shared"

    def validate(self) -> None:
        require(0 <= self.order <= 5, "ngram.order must be 0 (no n-gram member) to 5")
        require(self.sentence_mix_words >= 0, "ngram.sentence_mix_words must be 0 (one mix) or a token count")
        require(self.min_count >= 1, "ngram.min_count must be at least 1")
        require(self.c > 0, "ngram.c must be positive")
        require(self.max_features >= 1, "ngram.max_features must be at least 1")
        require(self.negation_scope in ("drop", "mark", "keep", "clause", "sentence"),
                "ngram.negation_scope must be drop, mark, keep, clause or sentence")
        require(self.mix_constructions >= 0, "ngram.mix_constructions must be 0 (validation only) or positive")
        require(self.unread_mix in UNREAD_MIXES, f"ngram.unread_mix must be one of {', '.join(UNREAD_MIXES)}")


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    ngram: NgramConfig = field(default_factory=NgramConfig)

    def validate(self) -> Config:
        self.data.validate()
        self.model.validate()
        self.train.validate()
        self.pretrain.validate()
        self.ngram.validate()
        for name, tokens in (("model.sentence_head_tokens", self.model.sentence_head_tokens),
                             ("ngram.sentence_mix_words", self.ngram.sentence_mix_words)):
            require(tokens <= min(self.data.maxlen, self.data.scoring_maxlen),
                    f"{name} must not exceed data.maxlen or data.eval_maxlen (texts are told apart by the tokens "
                    "scored)")
        require(self.ngram.order == 0 or self.data.validation_split > 0,
                "ngram.order > 0 mixes the n-gram member by weights chosen on validation; set data.validation_split "
                "above 0, or ngram.order = 0 to refit the LSTM alone on every training review")
        parameters = self.model.parameter_count(self.data.num_words)
        require(parameters <= MAX_PARAMETERS, f"the model would have {parameters:,} weights "
                f"({4 * parameters / 1e9:,.0f} GB), more than the limit of {MAX_PARAMETERS:,}; check model sizes")
        require(self.model.members == 1 or self.train.adversarial == 0,
                "train.adversarial works on a single classifier; set model.members = 1 or train.adversarial = 0")
        require(self.model.members == 1 or not self.train.semi_supervised,
                "train.virtual_adversarial and train.entropy_minimisation work on a single classifier; set "
                "model.members = 1")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def keys_newer_than(version: int) -> set[str]:
    """Keys a config file of format `version` may lack (added later; their defaults reproduce older models)."""
    return {key for added, keys in KEYS_ADDED.items() if added > version for key in keys}
