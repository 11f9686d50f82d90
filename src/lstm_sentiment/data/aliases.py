"""Words outside the vocabulary read as a word inside it: a word of the same family ("disliked" -> "dislike",
by Snowball stem) or, for a word the reviews use often enough, its nearest neighbour in meaning ("despise" ->
"dislike", by PPMI+SVD vectors of the training and unlabelled reviews).

Why: a 5,000-word vocabulary leaves common opinion words as <unk> ("despise", "detested", "adore"), which the
model reads as no word at all. An alias costs no parameter and no scoring time (the vocabulary's index holds
more keys), is chosen before any label is seen, and is saved in vocab.json with the model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from ..embeddings import ppmi_svd_vectors
from .vocab import UNK_ID, Vocabulary

MODES = ("none", "stems", "neighbours")
STEM_MIN_COUNT = 2  # seen twice: a member of a family, not a one-off typo
# fewer occurrences give noisy vectors: "detested" (11 in IMDb's 75k training and unlabelled reviews) lands
# beside "envisioned", "despise" (134) beside "dislike", "loathe" and "detest"
NEIGHBOUR_MIN_COUNT = 20
NEIGHBOUR_DIM, NEIGHBOUR_WINDOW = 128, 5
_CHUNK = 4096  # candidate rows per similarity block: 4,096 x 10k floats = 160 MB at most


def build_aliases(tokenized: Iterable[list[str]], vocab: Vocabulary, mode: str) -> dict[str, str]:
    """alias -> vocabulary token, for the words of `tokenized` (training and unlabelled texts) outside `vocab`."""
    if mode == "none":
        return {}
    documents = tokenized if isinstance(tokenized, list) else list(tokenized)
    counts: Counter[str] = Counter()
    for tokens in documents:
        counts.update(tokens)
    aliases = stem_aliases(counts, vocab)
    if mode == "neighbours":
        aliases.update(neighbour_aliases(documents, counts, vocab, taken=set(aliases)))
    return aliases


def stem_aliases(counts: Counter[str], vocab: Vocabulary) -> dict[str, str]:
    """Each word seen STEM_MIN_COUNT times whose Snowball stem a vocabulary word shares: the one sharing the
    longest prefix with it ("admired": "admire", not the more frequent "admirable"), then the most frequent."""
    import snowballstemmer  # only when a vocabulary is built: scoring reads the saved aliases

    stem = snowballstemmer.stemmer("english").stemWord
    family: dict[str, list[str]] = {}
    for token in vocab.tokens[2:]:  # in frequency order: the first of equal prefixes is the most frequent
        family.setdefault(stem(token), []).append(token)
    aliases = {}
    for word, count in sorted(counts.items()):
        if count < STEM_MIN_COUNT or word in vocab.index:
            continue
        members = family.get(stem(word))
        if members:
            aliases[word] = max(members, key=lambda token: _common_prefix(token, word))  # max keeps the first
    return aliases


def neighbour_aliases(documents: list[list[str]], counts: Counter[str], vocab: Vocabulary,
                      taken: set[str]) -> dict[str, str]:
    """Each word seen NEIGHBOUR_MIN_COUNT times, neither in `vocab` nor in `taken`: the vocabulary word whose
    vector (PPMI+SVD over the vocabulary and these words) is nearest by cosine. Opposites share contexts
    ("adore" lands beside "loathe"), which is why a family alias, when there is one, comes first."""
    candidates = sorted((word for word, count in counts.items()
                         if count >= NEIGHBOUR_MIN_COUNT and word not in vocab.index and word not in taken),
                        key=lambda word: (-counts[word], word))
    if not candidates or vocab.size <= 2:
        return {}
    index = dict(vocab.index)
    index.update((word, vocab.size + i) for i, word in enumerate(candidates))
    pieces = []
    for tokens in documents:
        pieces.append(np.fromiter((index.get(token, UNK_ID) for token in tokens), dtype=np.int64, count=len(tokens)))
        pieces.append(np.array([-1], dtype=np.int64))
    vectors = ppmi_svd_vectors(np.concatenate(pieces), len(index), NEIGHBOUR_DIM, NEIGHBOUR_WINDOW)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    known = unit[2:vocab.size]  # padding and <unk> are never an alias's target
    aliases = {}
    for start in range(0, len(candidates), _CHUNK):
        block = unit[vocab.size + start: vocab.size + start + _CHUNK]
        nearest = np.argmax(block @ known.T, axis=1) + 2
        for word, row, token_id in zip(candidates[start: start + _CHUNK], block, nearest, strict=True):
            if row.any():  # a word with no co-occurrence left has no direction to be near
                aliases[word] = vocab.tokens[token_id]
    return aliases


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
