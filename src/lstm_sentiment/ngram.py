"""The n-gram member: an NBSVM (Wang & Manning 2012) beside the LSTM, its logit mixed with the LSTM's.

A bag of n-grams catches what the LSTM's small vocabulary drops (names, rare words, set phrases); the LSTM catches
word order. Mesnil et al. (2015) found such a member adds 0.3-0.7 points to neural models on IMDb. Stored in the
model directory as JSON (the n-grams, the mix) and safetensors (one weight per n-gram), never a pickle. Loading
and scoring need no scikit-learn (fitting does: ngram_fit.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .errors import UserError
from .files import atomic_write, read_json, write_json
from .integrity import TENSORS_KEY, VOCAB_KEY, tensors_digest, vocab_digest

NGRAM_FILE, NGRAM_WEIGHTS = "ngram.json", "ngram.safetensors"
NGRAM_FORMAT = 1
MIX_KEYS = ("lstm", "ngram", "bias")
SENTENCE_MIX_FORMAT = 2  # written only by a member with a sentence mix, which a reader of format 1 would ignore
UNREAD_MIX_FORMAT = 3  # written only by a member with an unread mix, which a reader of format 2 would ignore


NEGATORS = frozenset({"not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot", "without"})
SCOPE_ENDS = frozenset({".", ",", "!", "?", ";", ":", "but"})
NEGATED = "\u00ac"  # "¬bad": "bad" inside a negation's scope; the tokenizer never makes this character


def ngrams(tokens: list[str], order: int) -> list[str]:
    """Every 1..order-gram of a token list, words joined by a space (tokens never hold one)."""
    grams = list(tokens)
    for n in range(2, order + 1):
        grams.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return grams


NEGATION_SCOPES = ("drop", "mark", "keep", "clause", "sentence")
SENTENCE_ENDS = frozenset({".", "!", "?", ";"})
CONTRASTS = frozenset({"but", "however"})  # the clause after one decides ("dull at first, but it grows on you")


def mark_negation_scope(tokens: list[str]) -> list[str]:
    """Negators ("not", "never", "isn't", ...) keep their place; the words after one, up to the next punctuation
    or "but", become other words ("¬bad"), so a bag of n-grams can learn that "not ... bad" is not "bad" (Das &
    Chen 2001, Pang et al. 2002)."""
    marked, negated = [], False
    for token in tokens:
        if token in SCOPE_ENDS:
            negated = False
            marked.append(token)
        elif token in NEGATORS or token.endswith("n't"):
            negated = True
            marked.append(token)
        else:
            marked.append(NEGATED + token if negated else token)
    return marked


def is_negator(token: str) -> bool:
    return token in NEGATORS or token.endswith("n't")


def clause_mask(tokens: list[str], whole_sentence: bool = False) -> list[bool]:
    """Which tokens a "clause" member reads: per sentence, only what follows its last "but" or "however", and
    nothing from a negator to the end of the sentence (commas do not end the scope: "I wouldn't say, on
    reflection, that it was good"). Why: those are the sentences whose sense depends on word order (a contrast,
    a negation with an aside, an expectation denied), which a bag of n-grams reads backwards; the LSTM reads
    them alone (compare VADER's rule that words after "but" outweigh those before it). whole_sentence (scope
    "sentence"): nothing of a sentence with a negator, whose words before it are mostly its subject ("The plot
    wasn't dull."), and a subject's weight is what reviews say about that subject, not what this one does."""
    keep = [True] * len(tokens)
    start = 0
    for end in [i + 1 for i, token in enumerate(tokens) if token in SENTENCE_ENDS] + [len(tokens)]:
        contrast = max((i for i in range(start, end) if tokens[i] in CONTRASTS), default=None)
        if contrast is not None:
            keep[start:contrast + 1] = [False] * (contrast + 1 - start)
        negator = next((i for i in range(start, end) if keep[i] and is_negator(tokens[i])), None)
        if negator is not None:
            first = start if whole_sentence else negator
            keep[first:end] = [False] * (end - first)
        start = end
    return keep


def features(tokens: list[str], order: int, negation_scope: str) -> list[str]:
    """The n-grams a member reads from a token list (what fitting counts and scoring looks up).

    negation_scope "keep": every n-gram; "mark": words in a negation's scope marked (mark_negation_scope);
    "drop": the negators and their scopes left out, n-grams never spanning the gap, so the member says nothing
    about negated phrases and the LSTM, which reads word order, decides them alone; "clause": as "drop", with
    the scope running to the end of the sentence, and the words before a contrast left out too (clause_mask);
    "sentence": as "clause", with the whole of a sentence that holds a negator left out."""
    if negation_scope == "keep":
        return ngrams(tokens, order)
    if negation_scope in ("clause", "sentence"):
        # None where a token is left out: "drop"'s loop below then cuts the n-grams there
        mask = clause_mask(tokens, whole_sentence=negation_scope == "sentence")
        marked = [token if kept else None for token, kept in zip(tokens, mask)]
    else:
        marked = mark_negation_scope(tokens)
        if negation_scope == "mark":
            return ngrams(marked, order)
    grams, piece = [], []
    for original, token in zip(tokens, marked):  # the hot loop of scoring: kept as one pass
        if token is None or token[0] == NEGATED or token != original or token in NEGATORS or token.endswith("n't"):
            grams.extend(ngrams(piece, order))
            piece = []
        else:
            piece.append(token)
    grams.extend(ngrams(piece, order))
    return grams


class MemberScores(NamedTuple):
    """The member's logit per text, and which texts it read nothing of: its negation scope left out every word
    (with scope "sentence", a text whose every sentence holds a negator), so the text is the LSTM's to judge. A
    text of words it merely does not know is read: its intercept is then the member's honest prior."""
    logits: np.ndarray
    unread: np.ndarray


@dataclass
class NgramMember:
    """logit(text) = bias + the sum of the weights of the distinct n-grams it contains (binarised features,
    each weight the logistic regression's coefficient times the n-gram's naive-Bayes log-count ratio). The mix
    turns the two members' logits into one: mix["lstm"] * lstm + mix["ngram"] * ngram + mix["bias"], or, for texts
    of fewer than sentence_mix["words"] tokens as the LSTM reads them, sentence_mix's numbers, and for texts the
    member reads nothing of, unread_mix's (whose "ngram" is 0: the member has nothing to add but a constant)."""

    grams: list[str]
    weights: np.ndarray  # float32 [len(grams)]
    bias: float
    order: int
    mix: dict[str, float]
    negation_scope: str = "drop"  # features(): "drop", "mark" or "keep" the n-grams of negated phrases
    fitted: dict = field(default_factory=dict)  # provenance: C, counts, validation accuracies
    sentence_mix: dict[str, float] | None = None  # {"lstm", "ngram", "bias", "words"}: the mix of short texts
    unread_mix: dict[str, float] | None = None  # {"lstm", "ngram", "bias"}: the mix of texts it reads nothing of
    _lookup: dict[str, float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._lookup = dict(zip(self.grams, self.weights.tolist()))

    def _scored(self, tokens: list[str]) -> tuple[float, bool]:
        weight = self._lookup.get
        grams = set(features(tokens, self.order, self.negation_scope))
        return self.bias + sum(weight(gram, 0.0) for gram in grams), not grams

    def logits(self, tokenized: list[list[str]]) -> np.ndarray:
        return self.scores(tokenized).logits

    def scores(self, tokenized: list[list[str]]) -> MemberScores:
        """Each text's logit and whether the member read nothing of it, in one pass."""
        scored = [self._scored(tokens) for tokens in tokenized]
        return MemberScores(np.fromiter((logit for logit, _ in scored), dtype=np.float64, count=len(scored)),
                            np.fromiter((unread for _, unread in scored), dtype=bool, count=len(scored)))

    def mix_for(self, tokens_scored: int, unread: bool = False) -> dict[str, float]:
        """The mix of a text the LSTM reads this many tokens of (and the member nothing, where unread)."""
        if unread and self.unread_mix is not None:
            return self.unread_mix
        short = self.sentence_mix is not None and tokens_scored < self.sentence_mix["words"]
        return self.sentence_mix if short else self.mix

    def combine(self, lstm_logits: np.ndarray, ngram: MemberScores | np.ndarray, tokens_scored=None) -> np.ndarray:
        """ngram: what scores() returns (plain logits do where the member has no unread mix); tokens_scored (per
        text, as the LSTM reads them) is needed only by a member with a sentence mix."""
        lstm_logits = np.asarray(lstm_logits, np.float64)
        ngram_logits = ngram.logits if isinstance(ngram, MemberScores) else np.asarray(ngram, np.float64)
        combined = _mixed(self.mix, lstm_logits, ngram_logits)
        if self.sentence_mix is not None:
            if tokens_scored is None:
                raise ValueError("this member mixes sentences apart: pass each text's tokens scored")
            short = np.asarray(tokens_scored) < self.sentence_mix["words"]
            combined = np.where(short, _mixed(self.sentence_mix, lstm_logits, ngram_logits), combined)
        if self.unread_mix is not None:
            if not isinstance(ngram, MemberScores):
                raise ValueError("this member mixes the texts it reads nothing of apart: pass what scores() returns")
            combined = np.where(ngram.unread, _mixed(self.unread_mix, lstm_logits, ngram_logits), combined)
        return combined

    def contributions(self, tokens: list[str], top: int = 10, tokens_scored: int | None = None) -> list[dict]:
        """The n-grams that moved this text's combined logit most, each with its share of it (weight x mix)."""
        weight, grams = self._lookup.get, set(features(tokens, self.order, self.negation_scope))
        present = {gram: weight(gram) for gram in grams if gram in self._lookup}
        ranked = sorted(present.items(), key=lambda item: (-abs(item[1]), item[0]))[:top]
        share = self.mix_for(len(tokens) if tokens_scored is None else tokens_scored, not grams)["ngram"]
        return [{"ngram": gram, "contribution": round(value * share, 4)} for gram, value in ranked]

    def save(self, folder: Path) -> None:
        tensors = {"weights": torch.from_numpy(np.ascontiguousarray(self.weights, dtype=np.float32))}
        record = {"format": "lstm-sentiment-ngram", TENSORS_KEY: tensors_digest(tensors),
                  VOCAB_KEY: vocab_digest(self.grams)}
        metadata = {"lstm-sentiment": json.dumps(record, sort_keys=True)}
        atomic_write(folder / NGRAM_WEIGHTS, lambda p: save_file(tensors, str(p), metadata=metadata))
        record = {"format": NGRAM_FORMAT, "order": self.order, "negation_scope": self.negation_scope,
                  "bias": self.bias, "mix": self.mix, "fitted": self.fitted, "ngrams": self.grams}
        if self.sentence_mix is not None:
            record.update(format=SENTENCE_MIX_FORMAT, sentence_mix=self.sentence_mix)
        if self.unread_mix is not None:
            record.update(format=UNREAD_MIX_FORMAT, unread_mix=self.unread_mix)
        write_json(folder / NGRAM_FILE, record)

    @classmethod
    def load(cls, folder: Path) -> NgramMember | None:
        """The member of a model directory, None where it has none; damaged or mismatched files are refused."""
        path, weights_path = folder / NGRAM_FILE, folder / NGRAM_WEIGHTS
        if not path.exists() and not weights_path.exists():
            return None
        for needed in (path, weights_path):
            if not needed.is_file():
                raise UserError(f"{needed}: missing (an n-gram member needs both {NGRAM_FILE} and {NGRAM_WEIGHTS})")
        raw = read_json(path)
        grams = _checked_fields(raw, path)
        try:
            with safe_open(str(weights_path), "pt") as handle:
                metadata = json.loads((handle.metadata() or {}).get("lstm-sentiment", "{}"))
                tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118 (not a dict)
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"{weights_path}: unreadable safetensors file ({exc})") from None
        weights = tensors.get("weights")
        if weights is None or weights.dim() != 1 or len(weights) != len(grams):
            raise UserError(f"{weights_path}: expected one weight per n-gram of {NGRAM_FILE} ({len(grams)})")
        if metadata.get(TENSORS_KEY) not in (None, tensors_digest(tensors)):
            raise UserError(f"{weights_path}: the tensors do not match the checksum recorded when they were saved")
        if metadata.get(VOCAB_KEY) not in (None, vocab_digest(grams)):
            raise UserError(f"{weights_path}: these weights belong to other n-grams than {NGRAM_FILE}'s")
        weights = weights.float().numpy()
        if not np.isfinite(weights).all():
            raise UserError(f"{weights_path}: non-finite values (NaN or infinity)")
        sentence_mix = raw.get("sentence_mix")
        if sentence_mix is not None:
            sentence_mix = {**_numbers(sentence_mix), "words": int(sentence_mix["words"])}
        unread_mix = raw.get("unread_mix")
        return cls(grams, weights, float(raw["bias"]), int(raw["order"]), _numbers(raw["mix"]), raw["negation_scope"],
                   raw.get("fitted", {}), sentence_mix, None if unread_mix is None else _numbers(unread_mix))


def _checked_fields(raw, path: Path) -> list[str]:
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a JSON object")
    formats = (NGRAM_FORMAT, SENTENCE_MIX_FORMAT, UNREAD_MIX_FORMAT)
    if raw.get("format") not in formats:
        raise UserError(f"{path}: format {raw.get('format')!r} is not one this lstm-sentiment reads "
                        f"({', '.join(map(str, formats))})")
    grams = raw.get("ngrams")
    if not isinstance(grams, list) or not all(isinstance(gram, str) for gram in grams):
        raise UserError(f"{path}: field 'ngrams' must be a list of strings")
    order = raw.get("order")
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= 5:
        raise UserError(f"{path}: field 'order' must be a whole number from 1 to 5, not {order!r}")
    if raw.get("negation_scope") not in NEGATION_SCOPES:
        raise UserError(f"{path}: field 'negation_scope' must be one of {', '.join(NEGATION_SCOPES)}")
    if not isinstance(raw.get("bias"), (int, float)) or isinstance(raw.get("bias"), bool):
        raise UserError(f"{path}: field 'bias' must be a number")
    if not _is_mix(raw.get("mix")):
        raise UserError(f"{path}: field 'mix' must hold the numbers 'lstm', 'ngram' and 'bias'")
    sentence_mix, unread_mix = raw.get("sentence_mix"), raw.get("unread_mix")
    if (raw["format"] == SENTENCE_MIX_FORMAT) != (sentence_mix is not None and unread_mix is None):
        raise UserError(f"{path}: field 'sentence_mix' alone belongs with format {SENTENCE_MIX_FORMAT}, and only there")
    if (raw["format"] == UNREAD_MIX_FORMAT) != (unread_mix is not None):
        raise UserError(f"{path}: field 'unread_mix' belongs with format {UNREAD_MIX_FORMAT}, and only there")
    if unread_mix is not None and not _is_mix(unread_mix):
        raise UserError(f"{path}: field 'unread_mix' must hold the numbers 'lstm', 'ngram' and 'bias'")
    if sentence_mix is not None:
        words = sentence_mix.get("words") if isinstance(sentence_mix, dict) else None
        if not _is_mix(sentence_mix) or not isinstance(words, int) or isinstance(words, bool) or words < 1:
            raise UserError(f"{path}: field 'sentence_mix' must hold the numbers 'lstm', 'ngram' and 'bias' and a "
                            "whole number of 'words' above 0")
    return grams


def _mixed(mix: dict[str, float], lstm_logits: np.ndarray, ngram_logits: np.ndarray) -> np.ndarray:
    return mix["lstm"] * lstm_logits + mix["ngram"] * ngram_logits + mix["bias"]


def _numbers(mix: dict) -> dict[str, float]:
    return {key: float(mix[key]) for key in MIX_KEYS}


def _is_mix(mix) -> bool:
    return isinstance(mix, dict) and all(isinstance(mix.get(key), (int, float)) and not isinstance(mix[key], bool)
                                         and np.isfinite(mix[key]) for key in MIX_KEYS)
