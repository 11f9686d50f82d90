"""The vocabulary: the most frequent training words plus padding and out-of-vocabulary ids, and optionally aliases
(words outside it read as a word inside it, data/aliases.py), saved as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..files import read_json
from .text import TOKENIZER_VERSION, tokenize

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
# 2: adds `aliases`; a file without them is still written as format 1, which every version reads the same way
VOCAB_FORMAT_VERSION = 2


class Vocabulary:
    """Token <-> id mapping; ids 0 and 1 are padding and unknown, so `size` counts them. `aliases` map words
    outside the vocabulary to a token's id when encoding; they add no id."""

    def __init__(self, tokens: Sequence[str], aliases: Mapping[str, str] | None = None):
        if list(tokens[:2]) != [PAD, UNK]:
            raise ValueError("a vocabulary starts with <pad> and <unk>")
        self.tokens = list(tokens)
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.aliases = dict(aliases or {})
        self._lookup = self.index
        if self.aliases:
            wrong = next((word for word, token in self.aliases.items()
                          if word in self.index or token not in self.index or token in (PAD, UNK)), None)
            if wrong is not None:
                raise ValueError(f"alias {wrong!r} must be a word outside the vocabulary naming a word inside it")
            self._lookup = {**{word: self.index[token] for word, token in self.aliases.items()}, **self.index}

    def with_aliases(self, aliases: Mapping[str, str]) -> Vocabulary:
        return Vocabulary(self.tokens, aliases)

    @property
    def size(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, tokenized: Iterable[list[str]], num_words: int, keep: Iterable[str] = ()) -> Vocabulary:
        """The num_words - 2 most frequent tokens, then every token of `keep` they lack (alphabetically): words
        the training data labels on their own earn an embedding however rare they are."""
        counts: Counter[str] = Counter()
        for tokens in tokenized:
            counts.update(tokens)
        # Ties are broken alphabetically so the vocabulary does not depend on review order.
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        words = [word for word, _ in ranked[: num_words - 2]]
        extra = sorted(set(keep) - set(words) - {PAD, UNK})
        return cls([PAD, UNK] + words + extra)

    def encode(self, tokens: list[str]) -> list[int]:
        get = self._lookup.get
        return [get(token, UNK_ID) for token in tokens]

    def encode_text(self, text: str) -> list[int]:
        return self.encode(tokenize(text))

    def unknown_words(self, text: str) -> list[str]:
        """The distinct tokens of a text this vocabulary reads as <unk> (aliases count as known), in order of
        appearance: what a failure may come from, since the model sees none of them."""
        lookup = self._lookup
        return list(dict.fromkeys(token for token in tokenize(text) if token not in lookup))

    def to_json(self) -> dict:
        if not self.aliases:  # byte for byte what versions before aliases wrote and read
            return {"format_version": 1, "tokenizer_version": TOKENIZER_VERSION, "tokens": self.tokens}
        return {"format_version": VOCAB_FORMAT_VERSION, "tokenizer_version": TOKENIZER_VERSION, "tokens": self.tokens,
                "aliases": dict(sorted(self.aliases.items()))}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        raw = read_json(path, "vocabulary")
        if not isinstance(raw, dict) or not isinstance(raw.get("tokens"), list):
            raise UserError(f"{path}: not a vocabulary (expected an object with a `tokens` list)")
        version = raw.get("format_version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise UserError(f"{path}: format_version must be a whole number, not {version!r}")
        if version > VOCAB_FORMAT_VERSION:
            raise UserError(f"{path}: vocabulary format {version} is newer than this version supports")
        tokens = raw["tokens"]
        wrong = next((i for i, token in enumerate(tokens) if not isinstance(token, str)), None)
        if wrong is not None:
            raise UserError(f"{path}: token {wrong} is a {type(tokens[wrong]).__name__}, not a string")
        if len(set(tokens)) != len(tokens):
            duplicate = next(token for token, count in Counter(tokens).items() if count > 1)
            raise UserError(f"{path}: token {duplicate!r} appears more than once")
        aliases = raw.get("aliases", {})
        if not isinstance(aliases, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
            raise UserError(f"{path}: `aliases` must map words to vocabulary tokens (strings to strings)")
        try:
            return cls(tokens, aliases)
        except ValueError as exc:
            raise UserError(f"{path}: {exc}") from None


TRUNCATIONS = ("pre", "post", "middle")
HEAD_SHARE = 4  # "middle" keeps the first maxlen // HEAD_SHARE tokens and fills the rest from the end


def truncated(sequence: Sequence, maxlen: int, truncating: str = "pre") -> Sequence:
    """At most maxlen items of a sequence: "pre" loses the start (Keras' default), "post" the end, "middle" the
    middle, keeping a quarter from the start and three quarters from the end (Sun et al. 2019 kept 128 + 382 of
    512 tokens of IMDb reviews: a review's opening states the film, its end the verdict)."""
    if len(sequence) <= maxlen:
        return sequence
    if truncating == "pre":
        return sequence[len(sequence) - maxlen:]
    if truncating == "post":
        return sequence[:maxlen]
    head = maxlen // HEAD_SHARE
    return list(sequence[:head]) + list(sequence[len(sequence) - (maxlen - head):])


def pad_sequences(sequences: Sequence[Sequence[int]], maxlen: int, padding: str = "pre",
                  truncating: str = "pre") -> tuple[np.ndarray, np.ndarray]:
    """Keras-style padding/truncation to `maxlen` (truncated()); returns ids (N, maxlen) int64 and lengths (N,)."""
    ids = np.full((len(sequences), maxlen), PAD_ID, dtype=np.int64)
    lengths = np.empty(len(sequences), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        kept = truncated(sequence, maxlen, truncating)
        n = len(kept)
        lengths[row] = n
        if n:
            if padding == "pre":
                ids[row, maxlen - n:] = kept
            else:
                ids[row, :n] = kept
    return ids, lengths
