"""A bidirectional LSTM language model whose embedding and LSTM weights become the classifier's starting point.

A forward LSTM predicts each next word, a backward LSTM each previous word (over the reversed stream), sharing
one embedding that is also the output layer (tied weights, Press & Wolf 2017). Their weights have exactly the
shapes of the classifier's bidirectional first layer, so fine-tuning starts from them (Dai & Le 2015; ULMFiT's
forward + backward models, Howard & Ruder 2018).

The full softmax over a 30k-word vocabulary costs about 20 times the LSTM on a CPU, so training uses a sampled
softmax: the true word against `negatives` words drawn once per step from the smoothed unigram distribution,
an importance-sampled estimate of the softmax normaliser (Bengio & Senecal 2008; Jean et al. 2015). Validation
uses the full softmax, so its perplexity is exact.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import Tensor, nn

from .config import Config, ModelConfig, PretrainConfig
from .data.vocab import PAD_ID, Vocabulary
from .errors import UserError
from .files import read_json
from .lstm import LSTM

ENCODER = "encoder.safetensors"  # what fine-tuning reads: embedding + both LSTM directions, classifier names


class LanguageModel(nn.Module):
    def __init__(self, model: ModelConfig, pretrain: PretrainConfig, vocab_size: int, streams: int):
        super().__init__()
        hidden = model.hidden_sizes[0]
        self.embedding = nn.Embedding(vocab_size, model.embedding_dim, padding_idx=PAD_ID)
        with torch.no_grad():
            self.embedding.weight.uniform_(-0.05, 0.05)
            self.embedding.weight[PAD_ID].zero_()
        self.forward_lstm = LSTM(model.embedding_dim, hidden, path="fused")
        self.backward_lstm = LSTM(model.embedding_dim, hidden, path="fused")
        self.projection = nn.Linear(hidden, model.embedding_dim)  # hidden state -> the tied embedding space
        self.output_bias = nn.Parameter(torch.zeros(vocab_size))
        self.dropout = nn.Dropout(pretrain.dropout)
        self.negatives = pretrain.negatives
        # Sampling distribution (unigram^0.75 of the training stream) and the states carried between windows
        # of each stream; buffers, so a checkpoint holds them and a resumed run continues the same streams.
        self.register_buffer("sampling", torch.full((vocab_size,), 1.0 / vocab_size))
        for name in ("forward_h", "forward_c", "backward_h", "backward_c"):
            self.register_buffer(name, torch.zeros(1, streams, hidden))

    def set_sampling(self, counts: Tensor, power: float = 0.75) -> None:
        weights = counts.double().clamp(min=1).pow(power)
        weights[PAD_ID] = 0.0
        self.sampling.copy_((weights / weights.sum()).float())

    def reset_states(self) -> None:
        for name in ("forward_h", "forward_c", "backward_h", "backward_c"):
            getattr(self, name).zero_()

    def _run(self, lstm: LSTM, ids: Tensor, prefix: str) -> Tensor:
        """Hidden states of one direction over a window, continuing (and then advancing) its carried state."""
        # copies: the buffers are overwritten below, before backward, which still needs the starting state (in
        # float32 the LSTM keeps the tensor it was given; under autocast it happened to keep a cast copy)
        state = (getattr(self, f"{prefix}_h").clone(), getattr(self, f"{prefix}_c").clone())
        outputs, (h_n, c_n) = lstm(self.dropout(self.embedding(ids)), state=state)
        getattr(self, f"{prefix}_h").copy_(h_n.detach())
        getattr(self, f"{prefix}_c").copy_(c_n.detach())
        return self.projection(self.dropout(outputs))

    def forward(self, forward_ids: Tensor, backward_ids: Tensor) -> tuple[Tensor, Tensor]:
        """Windows [streams, bptt + 1] of the forward and the reversed stream -> summed loss and token count."""
        total, count = 0.0, 0
        for lstm, ids, prefix in ((self.forward_lstm, forward_ids, "forward"),
                                  (self.backward_lstm, backward_ids, "backward")):
            features = self._run(lstm, ids[:, :-1], prefix)
            loss, n = self.loss(features.reshape(-1, features.shape[-1]), ids[:, 1:].reshape(-1))
            total, count = total + loss, count + n
        return total, torch.as_tensor(count)

    def loss(self, features: Tensor, targets: Tensor) -> tuple[Tensor, int]:
        """Summed negative log-likelihood over non-boundary targets: sampled in training, exact in evaluation."""
        keep = targets != PAD_ID
        features, targets = features[keep], targets[keep]
        if not self.training:
            logits = features.float() @ self.embedding.weight.t() + self.output_bias
            return nn.functional.cross_entropy(logits, targets, reduction="sum"), len(targets)
        # The normaliser Z = sum_w exp(s_w) is estimated as exp(s_y) + sum over draws j != y of
        # exp(s_j) / (K q_j): draws of y itself are left out because exp(s_y) is counted exactly, which makes the
        # estimate unbiased, so both the loss and its gradient (-1 + p_y for the target) match the full softmax
        # as K grows (the usual sampled softmax also divides exp(s_y) by K q_y, which biases frequent words).
        sampled = torch.multinomial(self.sampling, self.negatives, replacement=True)
        true_logits = ((features * self.embedding(targets)).sum(-1) + self.output_bias[targets]).float()
        noise_logits = features @ self.embedding(sampled).t() + self.output_bias[sampled]
        noise_logits = noise_logits.float() - torch.log(self.sampling[sampled] * self.negatives)
        noise_logits = noise_logits.masked_fill(sampled[None, :] == targets[:, None], -math.inf)
        logits = torch.cat([true_logits[:, None], noise_logits], dim=1)
        return (torch.logsumexp(logits, dim=1) - true_logits).sum(), len(targets)

    def encoder_state(self) -> dict[str, Tensor]:
        """The weights the classifier starts from, named as in SentimentClassifier's state dict."""
        state = {"embedding.weight": self.embedding.weight}
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            state[f"lstms.0.{kind}_l0"] = getattr(self.forward_lstm, f"{kind}_l0")
            state[f"lstms.0.{kind}_l0_reverse"] = getattr(self.backward_lstm, f"{kind}_l0")
        return {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}


def batchify(stream: Tensor, streams: int) -> Tensor:
    """A 1-D token stream -> [streams, length]: row k is the k-th contiguous piece, so windows taken left to
    right continue each row's text and its carried LSTM state stays meaningful."""
    length = len(stream) // streams
    return stream[: length * streams].reshape(streams, length)


def _language_model_config(lm_dir: Path) -> dict:
    """The saved config of a finished `pretrain` directory (a clear error for anything else)."""

    if not (lm_dir / ENCODER).exists():
        raise UserError(f"{lm_dir / ENCODER}: missing (is {lm_dir} a finished `lstm-sentiment pretrain` directory?)")
    saved = read_json(lm_dir / "config.json")
    if not isinstance(saved, dict) or saved.get("kind") != "language-model":
        raise UserError(f"{lm_dir / 'config.json'}: not a language-model directory")
    return saved


def pretrained_vocabulary(lm_dir: Path) -> Vocabulary:
    """The language model's vocabulary: the classifier fine-tuned from it must read text with the same ids,
    whatever its own data split (a refit on every training review included)."""
    _language_model_config(lm_dir)
    return Vocabulary.load(lm_dir / "vocab.json")


def load_encoder(lm_dir: Path, config: Config, vocab: Vocabulary) -> dict[str, torch.Tensor]:
    """The pretrained embedding and LSTM weights, after checking they fit this run: the same vocabulary and the
    same embedding and first-layer sizes."""
    saved = _language_model_config(lm_dir)
    path = lm_dir / ENCODER
    pairs = {f"model.{key}": (saved["model"].get(key), getattr(config.model, key))
             for key in ("embedding_dim", "hidden_sizes")}
    pairs["data.num_words"] = (saved.get("data", {}).get("num_words"), config.data.num_words)  # the LM's vocabulary
    mismatched = {key: values for key, values in pairs.items() if values[0] != values[1]}
    if mismatched:  # name the fix: a preset fine-tuning a language model pretrained with --set overrides
        detail = ", ".join(f"{key} ({pretrained} in the language model, {own} here)"
                           for key, (pretrained, own) in mismatched.items())
        fix = " ".join(f"--set {key}={json.dumps(pretrained)}" for key, (pretrained, _) in mismatched.items())
        raise UserError(f"{lm_dir} was pretrained with other settings than this run: {detail}; fine-tune with {fix}")
    if not config.model.bidirectional:
        raise UserError(f"{lm_dir} was pretrained with other settings than this run: model.bidirectional "
                        "(must be true)")
    if Vocabulary.load(lm_dir / "vocab.json").tokens != vocab.tokens:
        raise UserError(f"{lm_dir}/vocab.json differs from this run's vocabulary")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path}: unreadable safetensors file ({exc})") from None
