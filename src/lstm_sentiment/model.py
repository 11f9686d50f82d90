"""The sentiment classifier: Embedding -> LSTM layers -> pooling -> Dropout -> Dense(1). Pure: ids in, logits out."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .config import ModelConfig, pooled_features
from .data.vocab import PAD_ID, UNK_ID
from .lstm import LSTM


class SentimentClassifier(nn.Module):
    def __init__(self, config: ModelConfig, vocab_size: int):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embedding_dim, padding_idx=PAD_ID)
        if config.embedding_init == "uniform":
            with torch.no_grad():
                self.embedding.weight.uniform_(-0.05, 0.05)
                self.embedding.weight[PAD_ID].zero_()
        self.embedding_dropout = nn.Dropout(config.embedding_dropout)
        directions = 2 if config.bidirectional else 1
        sizes = [config.embedding_dim] + [h * directions for h in config.hidden_sizes]
        # One LSTM module per layer so stacked layers may differ in width (e.g. LSTM(128) -> LSTM(64)).
        self.lstms = nn.ModuleList(
            LSTM(sizes[k], hidden, bidirectional=config.bidirectional, dropout=config.dropout,
                 recurrent_dropout=config.recurrent_dropout, weight_dropout=config.weight_dropout,
                 path=config.lstm_path)
            for k, hidden in enumerate(config.hidden_sizes)
        )
        self.output_dropout = nn.Dropout(config.output_dropout)
        self.head = nn.Linear(pooled_features(config.pooling, sizes[-1]), 1)
        # texts shorter than config.sentence_head_tokens are scored by a head of their own (config.py says why)
        self.sentence_head = (nn.Linear(pooled_features(config.sentence_pooling, sizes[-1]), 1)
                              if config.sentence_head_tokens else None)

    def encode(self, ids: Tensor, lengths: Tensor, padding_side: str = "left", return_gates: bool = False):
        """Per-step outputs of the last LSTM layer, its final hidden state and (optionally) every layer's gates."""
        if self.training and self.config.word_dropout > 0:  # whole words become unknown: no single cue decides
            dropped = torch.rand(ids.shape, device=ids.device) < self.config.word_dropout
            ids = ids.masked_fill(dropped & (ids != PAD_ID), UNK_ID)
        return self.encode_embedded(self.embedding(ids), lengths, padding_side, return_gates)

    def encode_embedded(self, x: Tensor, lengths: Tensor, padding_side: str = "left", return_gates: bool = False):
        """encode() from word vectors x = [batch, time, embedding] (explanations differentiate with respect to
        them). return_gates=True runs the explicit LSTM path, which also differentiates in eval mode on cuDNN."""
        x = self.embedding_dropout(x)
        gates = []
        for lstm in self.lstms:
            result = lstm(x, lengths, padding_side=padding_side, return_gates=return_gates, need_cell_state=False)
            x, (h_n, _) = result[0], result[1]
            if return_gates:
                gates.extend(result[2])
        # h_n = [directions, batch, hidden] -> [batch, directions * hidden]
        final = h_n.transpose(0, 1).reshape(h_n.shape[1], -1)
        return x, final, gates

    def pool(self, outputs: Tensor, final: Tensor, lengths: Tensor, padding_side: str,
             pooling: str | None = None) -> Tensor:
        """Features for a head: `pooling` (default config.pooling) over the valid steps of `outputs`."""
        pooling = pooling or self.config.pooling
        if pooling == "last":
            return final
        steps = outputs.shape[1]
        # LSTM outputs are exactly zero at padded steps (lstm.py), so the sum needs no mask; the max does
        mean = outputs.sum(1) / lengths.clamp(min=1)[:, None].to(outputs.dtype)
        if pooling == "mean":
            return mean
        if not torch.jit.is_tracing() and bool((lengths == steps).all()):  # no padding: no mask to build
            maximum = outputs.amax(1)
        else:
            position = torch.arange(steps, device=outputs.device)[None, :]
            valid = position >= (steps - lengths)[:, None] if padding_side == "left" else position < lengths[:, None]
            maximum = outputs.masked_fill(~valid.unsqueeze(-1), float("-inf")).amax(1)
            maximum = torch.where(torch.isfinite(maximum), maximum, torch.zeros_like(maximum))
        if pooling == "maxmeanlast":
            return torch.cat([maximum, mean, final.to(outputs.dtype)], dim=-1)
        return maximum if pooling == "max" else torch.cat([maximum, mean], dim=-1)

    def forward(self, ids: Tensor, lengths: Tensor, padding_side: str = "left") -> Tensor:
        """ids = [batch, time] padded on `padding_side`; lengths = [batch]; returns logits = [batch]."""
        outputs, final, _ = self.encode(ids, lengths, padding_side)
        return self.classify(outputs, final, lengths, padding_side)

    def classify(self, outputs: Tensor, final: Tensor, lengths: Tensor, padding_side: str) -> Tensor:
        """Logits from the last LSTM layer's outputs and final state."""
        features = self.output_dropout(self.pool(outputs, final, lengths, padding_side))
        logits = self.head(features).squeeze(-1)
        if self.sentence_head is None:
            return logits
        sentence_features = self.output_dropout(
            self.pool(outputs, final, lengths, padding_side, self.config.sentence_pooling))
        sentence_logits = self.sentence_head(sentence_features).squeeze(-1)
        if self.config.sentence_head_adds:
            sentence_logits = sentence_logits + logits
        # a review's logit comes from the review head alone, so the sentence head learns from sentences only
        return torch.where(lengths.to(logits.device) < self.config.sentence_head_tokens, sentence_logits, logits)


class EnsembleClassifier(nn.Module):
    """`config.members` classifiers with their own weights, trained on the same batches. In training, forward
    gives one row of logits per member ([members, batch]) so that each learns on its own loss: trained on the
    loss of their average, members would lean on each other and their errors would stop being independent. In
    evaluation it gives the mean logit ([batch]), so callers see one classifier. Two members cost twice the
    compute; averaging separately trained seeds lowered validation loss, two jointly trained members (one seed
    measured) did not beat a single model (docs/results.md)."""

    def __init__(self, config: ModelConfig, vocab_size: int):
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(SentimentClassifier(config, vocab_size) for _ in range(config.members))

    def forward(self, ids: Tensor, lengths: Tensor, padding_side: str = "left") -> Tensor:
        logits = torch.stack([member(ids, lengths, padding_side) for member in self.members])
        return logits if self.training else logits.mean(0)


Classifier = SentimentClassifier | EnsembleClassifier  # what build_classifier gives and model files hold


def build_classifier(config: ModelConfig, vocab_size: int) -> Classifier:
    """A single classifier, or an ensemble when config.members > 1 (a single one keeps its plain weight names)."""
    if config.members > 1:
        return EnsembleClassifier(config, vocab_size)
    return SentimentClassifier(config, vocab_size)


def classifiers_in(model: nn.Module) -> list[SentimentClassifier]:
    """The single classifiers a model is made of (itself, or an ensemble's members), for code that looks inside."""
    return list(model.members) if isinstance(model, EnsembleClassifier) else [model]


def flatten_members(logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Training logits of an ensemble ([members, batch]) as one batch with the labels repeated, so that the mean
    loss over it is the mean of the members' own losses; a single classifier's [batch] passes unchanged."""
    if logits.dim() == 1:
        return logits, labels
    return logits.reshape(-1), labels.repeat(logits.shape[0])
