"""Typed configuration: the dataclasses, their defaults and bounds. Reading presets, files and overrides, and
layering them, is config_io.py."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError

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
# 12: data.verb_lexicon. 13: data.lexicon_words. 14: ngram.sentence_mix_words. 15: model.sentence_head_tokens
# model.sentence_pooling and model.sentence_head_adds.
FORMAT_VERSION = 15
KEYS_ADDED = {3: ("data.negations",), 4: ("train.virtual_adversarial", "train.entropy_minimisation"),
              6: ("data.compositions", "data.balance_compositions", "ngram.mix_constructions"),
              7: ("data.negation_strength",), 8: ("data.composition_wordings",),
              9: ("data.labelled_words",), 10: ("data.verb_opinions",), 11: ("data.word_aliases",),
              12: ("data.verb_lexicon",), 13: ("data.lexicon_words",),
              14: ("ngram.sentence_mix_words",),
              15: ("model.sentence_head_tokens", "model.sentence_pooling", "model.sentence_head_adds")}
SECTIONS = ("data", "model", "train", "pretrain", "ngram")
# Sizes past these are typing mistakes, not models (a 10^9-wide embedding asks for terabytes): refused before
# anything is allocated. The largest preset uses 30,000 words, 256 units and 1,500 tokens.
LIMITS = {"num_words": 10_000_000, "maxlen": 1_000_000, "embedding_dim": 16_384, "hidden_size": 16_384,
          "layers": 64, "members": 64, "batch_size": 1_000_000, "epochs": 100_000}
MAX_PARAMETERS = 2_000_000_000  # 8 GB of float32 weights, before optimizer state


@dataclass
class DataConfig:
    """How reviews become id sequences, and how the data is split."""

    num_words: int = 10000  # vocabulary size, padding and out-of-vocabulary ids included
    maxlen: int = 200  # tokens kept per review
    # tokens read per review when scoring (validation, test, evaluate, predict, serve, explain); 0: maxlen. A
    # bidirectional model with pooling over time reads any length, so training can cut reviews short for speed
    # while scoring reads more of the long ones (quick: validation loss 0.2482 vs 0.2513, 3 seeds).
    eval_maxlen: int = 0
    padding: str = "pre"  # side that receives padding: "pre" (Keras default) or "post"
    # what loses tokens beyond maxlen: "pre" (the start; Keras' default), "post" (the end) or "middle" (keeps a
    # quarter from the start and the rest from the end: data/vocab.py, truncated)
    truncating: str = "pre"
    # share of the training split held out for model selection; 0 trains on all of it for the configured epochs
    # and keeps the last (a final refit, once the settings were chosen on a validation split)
    validation_split: float = 0.2
    # "movie": hold out whole movies (aclImdb archives and folders; IMDb's test split is movie-disjoint too),
    # "none": any reviews (always the case for CSV files without movie ids)
    validation_groups: str = "none"
    pool: bool = False  # pool train+test and re-split by test_fraction (what many notebooks do)
    # sentiment treebank sources only: every labelled phrase of the training trees is also a training example
    phrases: bool = False
    # sentiment treebank sources only: "binary" (SST-2: labels 0-1 negative, 3-4 positive, 2 dropped) or "graded"
    # (training examples keep label/4 as a soft target, neutral ones included; validation and test stay binary)
    treebank_labels: str = "binary"
    # sentiment treebank sources only: negated variants ("is not", "isn't", "is never") of each clear copula phrase
    # of the training trees, labelled as the mirror image pulled halfway to neutral (data/negation.py); 0-3
    negations: int = 0
    # sentiment treebank sources only: composed examples per clear opinion of the training trees (0-7): embedding
    # negation, with an aside, double negation, confirmed or denied expectation, answered question, contrast,
    # affirming negation (data/composition.py; before format 7 there were six, so 6 made other examples); 8 adds
    # an eighth, the negated limit ("couldn't have been more terrific"), and makes other examples than 7
    compositions: int = 0
    # ... and each construction given as many examples with a positive target as with a negative one (the rarer
    # side repeated in other wordings): the trees hold more positive opinions than negative ones
    balance_compositions: bool = False
    # ... the share of a clear opinion's distance from neutral that its negation keeps on the other side: 0.5
    # ("is dreadful", label 0, negated -> 0.75) reads "not bad" as "fairly good"; 1 mirrors it fully (-> 1.0).
    # A double negation keeps the same share on the opinion's own side.
    negation_strength: float = 0.5
    # ... and the wordings of the constructions: "standard", "extended" (twice as many) or "idioms" (standard,
    # with "can't ... enough" idioms among the affirming negations; data/wordings.py)
    composition_wordings: str = "standard"
    # every word the training split labels on its own (the treebank's one-word phrases) joins the vocabulary,
    # beyond the num_words most frequent: rare opinion words ("loathe") then get an embedding, not <unk>
    labelled_words: bool = False
    # sentiment treebank sources only: first-person verb opinions ("I cherished the acting") in 1-9 of nine
    # constructions per verb and object (negated, embedded, doubly negated, with an aside, contrasted, expected,
    # questioned, "can't ... enough"; data/verb_opinions.py), its verbs kept in the vocabulary; 0: none
    verb_opinions: int = 0
    # the verbs of those opinions: "standard" (24, data/verb_opinions.py's TRAINING) or "extended" (48, EXTENDED)
    verb_lexicon: str = "standard"
    # sentiment treebank sources only: the clear words of a published opinion lexicon that no training tree
    # holds, as one-word examples (data/lexicon.py; "vader": VADER's 7,500 rated words, `pip install
    # 'lstm-sentiment[lexicon]'`; "vader-calibrated": each rating's target the training trees' own for the words
    # they share), or "none"; with labelled_words they join the vocabulary
    lexicon_words: str = "none"
    # words outside the vocabulary read as a word inside it (data/aliases.py), chosen from the training and
    # unlabelled texts before any label is seen: "stems" (same Snowball stem: "disliked" -> "dislike"),
    # "neighbours" (also the nearest in meaning by PPMI+SVD vectors, for words seen 20 times: "despise" ->
    # "dislike"), "none"
    word_aliases: str = "none"
    test_fraction: float = 0.2  # used when pooling, or for a CSV without a split column
    split_seed: int = 42

    @property
    def scoring_maxlen(self) -> int:
        """Tokens kept per review when the model scores it rather than learns from it."""
        return self.eval_maxlen or self.maxlen

    def validate(self) -> None:
        _check(3 <= self.num_words <= LIMITS["num_words"], f"data.num_words must be in [3, {LIMITS['num_words']:,}]")
        _check(1 <= self.maxlen <= LIMITS["maxlen"], f"data.maxlen must be in [1, {LIMITS['maxlen']:,}]")
        _check(0 <= self.eval_maxlen <= LIMITS["maxlen"],
               f"data.eval_maxlen must be 0 (as maxlen) or a number of tokens up to {LIMITS['maxlen']:,}")
        _check(self.padding in ("pre", "post"), "data.padding must be 'pre' or 'post'")
        _check(self.truncating in ("pre", "post", "middle"), "data.truncating must be 'pre', 'post' or 'middle'")
        _check(0.0 <= self.validation_split < 1.0, "data.validation_split must be in [0, 1)")
        _check(self.validation_groups in ("none", "movie"), "data.validation_groups must be 'none' or 'movie'")
        _check(0.0 < self.test_fraction < 1.0, "data.test_fraction must be between 0 and 1")
        _check(self.treebank_labels in ("binary", "graded"), "data.treebank_labels must be 'binary' or 'graded'")
        _check(0 <= self.negations <= 3, "data.negations must be 0 (none) to 3 (not, n't and never)")
        _check(0 <= self.compositions <= 8,
               "data.compositions must be 0 (none) to 7 (one of each of the seven constructions) or 8 (with the "
               "negated limit)")
        _check(0 <= self.verb_opinions <= 9,
               "data.verb_opinions must be 0 (none) to 9 (every verb construction for every verb and object)")
        _check(self.verb_lexicon in ("standard", "extended"), "data.verb_lexicon must be 'standard' or 'extended'")
        _check(self.lexicon_words in ("none", "vader", "vader-calibrated"),
               "data.lexicon_words must be 'none', 'vader' or 'vader-calibrated'")
        _check(self.word_aliases in ("none", "stems", "neighbours"),
               "data.word_aliases must be 'none', 'stems' or 'neighbours'")
        _check(self.composition_wordings in ("standard", "extended", "idioms"),
               "data.composition_wordings must be 'standard', 'extended' or 'idioms'")
        _check(0.0 < self.negation_strength <= 1.0,
               "data.negation_strength must be in (0, 1] (near 0: a negated opinion is neutral, 1: its mirror image)")


POOLINGS = ("last", "max", "mean", "maxmean", "maxmeanlast")


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
        _check(1 <= self.embedding_dim <= LIMITS["embedding_dim"],
               f"model.embedding_dim must be in [1, {LIMITS['embedding_dim']:,}]")
        _check(self.embedding_init in ("uniform", "normal", "ppmi"),
               "model.embedding_init must be 'uniform', 'normal' or 'ppmi'")
        _check(self.embedding_window >= 1, "model.embedding_window must be at least 1")
        _check(1 <= len(self.hidden_sizes) <= LIMITS["layers"] and all(h >= 1 for h in self.hidden_sizes),
               f"model.hidden_sizes must list 1 to {LIMITS['layers']} positive sizes")
        _check(max(self.hidden_sizes) <= LIMITS["hidden_size"],
               f"model.hidden_sizes: {max(self.hidden_sizes):,} units is above the limit of {LIMITS['hidden_size']:,}")
        for name in ("dropout", "recurrent_dropout", "embedding_dropout", "word_dropout", "weight_dropout",
                     "output_dropout"):
            _check(0.0 <= getattr(self, name) < 1.0, f"model.{name} must be in [0, 1)")
        _check(self.pooling in POOLINGS, f"model.pooling must be one of {', '.join(POOLINGS)}")
        _check(self.sentence_pooling in POOLINGS, f"model.sentence_pooling must be one of {', '.join(POOLINGS)}")
        _check(self.sentence_head_tokens >= 0, "model.sentence_head_tokens must be 0 (one head) or a token count")
        _check(self.lstm_path in ("auto", "explicit", "fused"), "model.lstm_path must be auto, explicit or fused")
        _check(1 <= self.members <= LIMITS["members"], f"model.members must be in [1, {LIMITS['members']}]")

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

    def validate(self) -> None:
        _check(1 <= self.epochs <= LIMITS["epochs"], f"train.epochs must be in [1, {LIMITS['epochs']:,}]")
        _check(1 <= self.batch_size <= LIMITS["batch_size"], f"train.batch_size must be in [1, {LIMITS['batch_size']:,}]")
        _check(0 <= self.seed < 2**63, "train.seed must be in [0, 2^63)")
        _check(self.optimizer in ("adam", "adamw"), "train.optimizer must be 'adam' or 'adamw'")
        _check(self.learning_rate > 0, "train.learning_rate must be positive")
        _check(self.schedule in ("constant", "onecycle"), "train.schedule must be 'constant' or 'onecycle'")
        _check(self.grad_clip >= 0, "train.grad_clip must be >= 0")
        _check(self.early_stopping_patience >= 0, "train.early_stopping_patience must be >= 0")
        _check(self.encoder_lr_factor > 0, "train.encoder_lr_factor must be positive")
        _check(0 <= self.freeze_encoder_epochs < self.epochs, "train.freeze_encoder_epochs must be in [0, epochs)")
        _check(0.0 <= self.weight_average < 1.0, "train.weight_average must be in [0, 1)")
        _check(0.0 <= self.adversarial < 1.0, "train.adversarial must be in [0, 1)")
        _check(0.0 <= self.virtual_adversarial < 1.0, "train.virtual_adversarial must be in [0, 1)")
        _check(0.0 <= self.entropy_minimisation <= 10.0, "train.entropy_minimisation must be in [0, 10]")

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
        _check(self.epochs >= 1, "pretrain.epochs must be at least 1")
        _check(self.streams >= 1 and self.bptt >= 2, "pretrain.streams must be >= 1 and pretrain.bptt >= 2")
        _check(self.learning_rate > 0, "pretrain.learning_rate must be positive")
        _check(0.0 <= self.dropout < 1.0, "pretrain.dropout must be in [0, 1)")
        _check(self.negatives >= 1, "pretrain.negatives must be at least 1")
        _check(self.validation_tokens >= 1, "pretrain.validation_tokens must be at least 1")
        _check(self.windows_per_epoch >= 0, "pretrain.windows_per_epoch must be >= 0")


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
    # them to the end of the sentence, and the words before a "but" or "however" too (ngram.features).
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

    def validate(self) -> None:
        _check(0 <= self.order <= 5, "ngram.order must be 0 (no n-gram member) to 5")
        _check(self.sentence_mix_words >= 0, "ngram.sentence_mix_words must be 0 (one mix) or a token count")
        _check(self.min_count >= 1, "ngram.min_count must be at least 1")
        _check(self.c > 0, "ngram.c must be positive")
        _check(self.max_features >= 1, "ngram.max_features must be at least 1")
        _check(self.negation_scope in ("drop", "mark", "keep", "clause"),
               "ngram.negation_scope must be drop, mark, keep or clause")
        _check(self.mix_constructions >= 0, "ngram.mix_constructions must be 0 (validation only) or positive")


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
        _check(self.model.sentence_head_tokens <= min(self.data.maxlen, self.data.scoring_maxlen),
               "model.sentence_head_tokens must not exceed data.maxlen or data.eval_maxlen (texts are told apart by "
               "the tokens read)")
        _check(self.ngram.sentence_mix_words <= min(self.data.maxlen, self.data.scoring_maxlen),
               "ngram.sentence_mix_words must not exceed data.maxlen or data.eval_maxlen (texts are told apart by "
               "the tokens scored)")
        _check(self.ngram.order == 0 or self.data.validation_split > 0,
               "ngram.order > 0 mixes the n-gram member by weights chosen on validation; set data.validation_split "
               "above 0")
        parameters = self.model.parameter_count(self.data.num_words)
        _check(parameters <= MAX_PARAMETERS, f"the model would have {parameters:,} weights "
               f"({4 * parameters / 1e9:,.0f} GB), more than the limit of {MAX_PARAMETERS:,}; check model sizes")
        _check(self.model.members == 1 or self.train.adversarial == 0,
               "train.adversarial works on a single classifier; set model.members = 1 or train.adversarial = 0")
        _check(self.model.members == 1 or not self.train.semi_supervised,
               "train.virtual_adversarial and train.entropy_minimisation work on a single classifier; set "
               "model.members = 1")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def keys_newer_than(version: int) -> set[str]:
    """Keys a config file of format `version` may lack (added later; their defaults reproduce older models)."""
    return {key for added, keys in KEYS_ADDED.items() if added > version for key in keys}


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UserError(message)
