"""Words of a published opinion lexicon as one-word training examples, for words the training split never shows.

Why: a word outside the treebank's training trees and rare in IMDb ("despise": 42 training reviews, most about
a villain) has no embedding to speak of, so "I despise this thriller." reads as "I <unk> this thriller.". The
treebank labels every word of its trees (data.labelled_words keeps them in the vocabulary); a lexicon rated by
people adds the ones it lacks. VADER (Hutto & Gilbert, ICWSM 2014; MIT licence; the `vaderSentiment` package)
rates 7,500 tokens from -4 to 4, each by ten raters; a word the training split already labels keeps that label
(in-domain wins), and a word the raters do not agree on the side of is left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources

from ..errors import UserError
from .text import tokenize
from .wordnet_lexicon import widened_ratings

# vaderSentiment 3.3.2's vader_lexicon.txt: another file would make other examples under the same settings
VADER_SHA256 = "1ec9c6e9ee19aade328f8beb393a6afa71a5bb3acf7d3cc22d4ef568df374bf5"
CLEAR = 1.0  # |mean rating| below this is left out: "fine" (0.8) is too weak to be an opinion on its own
STRONG = 2.5  # ... at or above it a word is as strong as the treebank's 0 and 4 labels
BIN_WIDTH = 0.5  # "vader-calibrated": ratings grouped in bins this wide ...
MIN_SHARED = 10  # ... and a bin's target taken from the training split where it labels this many of its words


def vader_ratings() -> dict[str, tuple[float, float]]:
    """word -> (mean rating, standard deviation), for lexicon entries that are one lowercase word."""
    try:
        raw = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_bytes()
    except ModuleNotFoundError:
        raise UserError("data.lexicon_words needs the vaderSentiment package: "
                        "pip install 'lstm-sentiment[lexicon]'") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != VADER_SHA256:
        raise UserError(f"vaderSentiment's vader_lexicon.txt has sha256 {digest[:12]}..., not version 3.3.2's "
                        f"{VADER_SHA256[:12]}...: install vaderSentiment==3.3.2")
    ratings = {}
    for line in raw.decode("utf-8", errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0].isalpha() and tokenize(fields[0]) == [fields[0]]:
            ratings[fields[0]] = (float(fields[1]), float(fields[2]))
    return ratings


def clear_ratings() -> dict[str, float]:
    """word -> mean rating, for the words clear enough to teach alone: |mean| >= CLEAR and raters agreeing on the
    side (standard deviation below |mean|)."""
    return {word: mean for word, (mean, spread) in vader_ratings().items() if abs(mean) >= CLEAR and spread < abs(mean)}


def clear_target(mean: float) -> float:
    """0.25 or 0.75: the target of a clear word, by its side."""
    return 0.75 if mean > 0 else 0.25


def rating_target(mean: float) -> float:
    """A treebank-scale target: 0 or 1 for strong words, 0.25 or 0.75 for clear ones."""
    if abs(mean) >= STRONG:
        return 1.0 if mean > 0 else 0.0
    return clear_target(mean)


def calibration(ratings: Mapping[str, float], labelled: Mapping[str, float]) -> dict[int, float]:
    """Rating bin -> the mean target the training split gives the lexicon words it labels itself, for bins with
    MIN_SHARED such words. Why: the treebank's raters are more cautious with a word alone than VADER's (words VADER
    rates -2.5 or lower average 0.30 there, not 0; 43% of its clear negatives are labelled neutral), and a target
    off the training split's own scale makes the model surer of a lone word than of the treebank's phrases."""
    shared: dict[int, list[float]] = {}
    for word, mean in ratings.items():
        if word in labelled:
            shared.setdefault(_bin(mean), []).append(labelled[word])
    return {key: sum(targets) / len(targets) for key, targets in shared.items() if len(targets) >= MIN_SHARED}


def _bin(mean: float) -> int:
    return round(mean / BIN_WIDTH)


def lexicon_examples(name: str, seen: Iterable[str], labelled: Mapping[str, float] | None = None
                     ) -> Iterator[tuple[str, float]]:
    """(word, target) for the lexicon's clear words that `seen` (texts the training split already has, any case)
    does not hold, in alphabetical order. "vader-calibrated" takes each word's target from `labelled` (one-word
    training texts, lower-case -> target) by rating bin; "vader" from rating_target; "vader+wordnet" is "vader",
    then the words WordNet adds (wordnet_lexicon.py), each as a clear word (0.25 or 0.75): inferred, never strong."""
    if name == "none":
        return
    known = {text.lower() for text in seen}
    ratings = clear_ratings()
    scale = calibration(ratings, labelled or {}) if name == "vader-calibrated" else {}
    for word, mean in sorted(ratings.items()):
        if word not in known:
            yield word, scale.get(_bin(mean), rating_target(mean))
    if name == "vader+wordnet":
        for word, mean in widened_ratings(ratings).items():
            if word not in known:
                yield word, clear_target(mean)
