"""Why the model decided: per-token gate activations, cell-state size, running probability and contributions.

Contributions are integrated gradients on the word vectors (Sundararajan et al. 2017) from an all-zero baseline
(the padding vector: "no words"), or occlusion (each token replaced by <unk>). Integrated gradients add up to
the logit difference between the review and the baseline, so they split the decision exactly. A deletion test
(benchmarks/explain_faithfulness.py, docs/lstm.md) found both equally faithful on the shipped model, which is
why the default is the one whose numbers add up.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor

from .data.sources import LABEL_NAMES
from .data.text import tokenize
from .data.vocab import UNK_ID, truncated
from .errors import UserError
from .model import SentimentClassifier, classifiers_in
from .predict import Predictor

METHODS = ("integrated-gradients", "occlusion")
TRUNCATED_SIDES = {"pre": "start", "post": "end", "middle": "middle"}  # data.truncating -> where tokens were cut


@dataclass
class Explanation:
    tokens: list[str]  # what the model read, after truncation to maxlen
    unknown: list[bool]  # out of the vocabulary: the model saw <unk>
    forget: list[float]  # mean f_t over hidden units (and directions) of the last LSTM layer, in [0, 1]
    input: list[float]  # mean i_t
    output: list[float]  # mean o_t
    cell_norm: list[float]  # ||C_t|| (both directions concatenated)
    running_probability: list[float]  # the LSTM's P(positive) had the review ended at this token
    contributions: list[float]  # signed: > 0 pushes towards positive; in units of the model's (combined) logit
    label: str
    probability: float  # what predict gives: the LSTM's and the n-gram member's logits mixed, where it has one
    method: str
    truncated_tokens: int  # tokens beyond maxlen the model never saw
    truncated_side: str  # "start", "end" or "middle"
    lstm_probability: float = 0.0  # the LSTM's alone (= probability without an n-gram member)
    # the n-gram member's largest shares of the combined logit, [{"ngram": "not bad", "contribution": 0.8}, ...]
    ngram_contributions: list[dict] = field(default_factory=list)
    # words outside the vocabulary that the model read as a word inside it (its aliases), {"despise": "dislike"}
    read_as: dict[str, str] = field(default_factory=dict)
    # the n-gram member read nothing of the review (its negation scope left out every word): the LSTM decides
    ngram_unread: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def visible_tokens(predictor: Predictor, text: str) -> tuple[list[str], int]:
    """The tokens the model reads (the scoring maxlen applied on the configured side) and how many were cut."""
    tokens = tokenize(text)
    if not tokens:
        raise UserError("the review has no words to explain")
    maxlen = predictor.config.data.scoring_maxlen
    cut = max(0, len(tokens) - maxlen)
    if cut:
        tokens = truncated(tokens, maxlen, predictor.config.data.truncating)
    return tokens, cut


def gate_traces(predictor: Predictor, ids: Tensor) -> dict[str, list[float]]:
    """Mean gate activations and cell-state norm per step of the last LSTM layer (both directions, aligned),
    averaged over an ensemble's members."""
    lengths = torch.tensor([ids.shape[1]], device=ids.device)
    traces = []
    for classifier in classifiers_in(predictor.model):
        with torch.no_grad():
            _, _, gates = classifier.encode(ids, lengths, "right", return_gates=True)
        last = gates[-(2 if classifier.config.bidirectional else 1):]
        means = [torch.stack([getattr(g, name)[0].float().mean(-1) for g in last]).mean(0)
                 for name in ("forget", "input", "output")]
        cells = torch.cat([g.cell[0].float() for g in last], dim=-1)
        traces.append(torch.stack([*means, cells.norm(dim=-1)]))
    forget, input_, output, cell_norm = torch.stack(traces).mean(0).tolist()
    return {"forget": forget, "input": input_, "output": output, "cell_norm": cell_norm}


def running_probabilities(predictor: Predictor, ids: Tensor, chunk: int = 64) -> list[float]:
    """P(positive) of every prefix ids[:t + 1]: exactly what the model says if the review stopped there (for a
    bidirectional model the backward direction changes with each prefix, so every prefix is run)."""
    steps = ids.shape[1]
    lengths = torch.arange(1, steps + 1, device=ids.device)
    prefixes = ids.expand(steps, steps).masked_fill(torch.arange(steps, device=ids.device)[None, :] >= lengths[:, None], 0)
    out = []
    with torch.no_grad():
        for start in range(0, steps, chunk):
            rows = slice(start, min(steps, start + chunk))
            width = rows.stop  # longest prefix of this chunk
            logits = predictor.model(prefixes[rows, :width], lengths[rows], "right")
            out.append(torch.sigmoid(logits.float()))
    return torch.cat(out).tolist()


def integrated_gradients(predictor: Predictor, ids: Tensor, steps: int = 48, chunk: int = 16) -> tuple[list[float], float]:
    """Per-token attributions summing (up to the Riemann error) to logit(review) - logit(no words); also
    returns that difference. An ensemble's logit is the mean of its members', so its attributions are the mean
    of theirs (integrated gradients are linear in the function explained)."""
    parts = [_integrated_gradients(classifier, ids, steps, chunk) for classifier in classifiers_in(predictor.model)]
    attributions = torch.stack([part[0] for part in parts]).mean(0)
    return attributions.tolist(), sum(part[1] for part in parts) / len(parts)


def _integrated_gradients(model: SentimentClassifier, ids: Tensor, steps: int, chunk: int) -> tuple[Tensor, float]:
    embedded = model.embedding(ids).detach()  # [1, time, embedding]; baseline = zeros (the padding vector)
    length = ids.shape[1]
    total = torch.zeros_like(embedded[0])
    alphas = (torch.arange(steps, device=ids.device, dtype=embedded.dtype) + 0.5) / steps  # midpoint rule
    for part in alphas.split(chunk):
        x = (part[:, None, None] * embedded).requires_grad_(True)
        lengths = torch.full((len(part),), length, device=ids.device)
        # return_gates=True: the explicit path, which differentiates in eval mode (cuDNN's kernel does not)
        outputs, final, _ = model.encode_embedded(x, lengths, "right", return_gates=True)
        logits = model.classify(outputs, final, lengths, "right")
        (gradient,) = torch.autograd.grad(logits.sum(), x)
        total += gradient.sum(0)
    attributions = (embedded[0] * total / steps).sum(-1)
    with torch.no_grad():
        lengths = torch.tensor([length], device=ids.device)
        difference = model(ids, lengths, "right") - model.classify(*model.encode_embedded(
            torch.zeros_like(embedded), lengths, "right")[:2], lengths, "right")
    return attributions, float(difference)


def occlusion(predictor: Predictor, ids: Tensor, chunk: int = 64) -> list[float]:
    """logit(review) - logit(review with this token replaced by <unk>), per token."""
    model, steps = predictor.model, ids.shape[1]
    lengths = torch.full((steps,), steps, device=ids.device)
    occluded = ids.expand(steps, steps).clone()
    occluded[torch.arange(steps), torch.arange(steps)] = UNK_ID
    with torch.no_grad():
        full = model(ids, lengths[:1], "right")
        logits = torch.cat([model(occluded[k: k + chunk], lengths[k: k + chunk], "right")
                            for k in range(0, steps, chunk)])
    return (full - logits).float().tolist()


def token_contributions(predictor: Predictor, ids: Tensor, method: str) -> list[float]:
    if method == "integrated-gradients":
        return integrated_gradients(predictor, ids)[0]
    if method == "occlusion":
        return occlusion(predictor, ids)
    raise UserError(f"unknown explanation method {method!r} (choose {', '.join(METHODS)})")


def explain(predictor: Predictor, text: str, method: str = "integrated-gradients") -> Explanation:
    tokens, cut = visible_tokens(predictor, text)
    ids = torch.tensor([predictor.vocab.encode(tokens)], device=predictor.device)
    predictor.model.eval()
    traces = gate_traces(predictor, ids)
    running = running_probabilities(predictor, ids)
    contributions, probability, ngram_contributions = token_contributions(predictor, ids, method), running[-1], []
    unread = False
    if predictor.ngram is not None:  # it reads the whole review, as predict does
        member, every_token = predictor.ngram, tokenize(text)
        unread = bool(member.scores([every_token]).unread[0])
        contributions = [member.mix_for(len(tokens), unread)["lstm"] * value for value in contributions]
        probability = float(predictor.probabilities([text])[0])
        ngram_contributions = member.contributions(every_token, tokens_scored=len(tokens))
    return Explanation(
        tokens=tokens, unknown=[i == UNK_ID for i in ids[0].tolist()], **traces, running_probability=running,
        contributions=contributions, label=LABEL_NAMES[int(probability >= 0.5)],
        probability=probability, method=method, truncated_tokens=cut,
        truncated_side=TRUNCATED_SIDES[predictor.config.data.truncating], lstm_probability=running[-1],
        ngram_contributions=ngram_contributions, ngram_unread=unread,
        read_as={token: predictor.vocab.aliases[token] for token in tokens if token in predictor.vocab.aliases})
