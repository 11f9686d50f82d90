"""Label-preserving perturbations for INV tests: typos, punctuation, contractions, an added URL, swapped values."""

from __future__ import annotations

import random
import re

from .suite import Template, fill, fill_value

_CONTRACTIONS = [("was not", "wasn't"), ("did not", "didn't"), ("is not", "isn't"), ("would not", "wouldn't"),
                 ("do not", "don't"), ("I have", "I've"), ("It is", "It's"), ("it is", "it's")]
_WORD = re.compile(r"[A-Za-z]{4,}")


def typo(text: str, rng: random.Random) -> str | None:
    """Two neighbouring letters of one word swapped (the word's first letter stays)."""
    words = list(_WORD.finditer(text))
    if not words:
        return None
    word = rng.choice(words)
    position = rng.randrange(word.start() + 1, word.end() - 1)
    if text[position] == text[position + 1]:
        return None
    return text[:position] + text[position + 1] + text[position] + text[position + 2:]


def punctuation(text: str, rng: random.Random) -> str | None:
    """The final full stop dropped, doubled into an exclamation, or every full stop made an ellipsis."""
    options = [text.rstrip(".!?"), text.rstrip(".") + "!", text.replace(". ", "... ").rstrip(".") + "..."]
    changed = [option for option in options if option != text]
    return rng.choice(changed) if changed else None


def contraction(text: str, rng: random.Random) -> str | None:
    """One phrase contracted ("was not" -> "wasn't") or expanded, whichever the text offers."""
    swaps = [(long, short) for long, short in _CONTRACTIONS if long in text]
    swaps += [(short, long) for long, short in _CONTRACTIONS if short in text]
    if not swaps:
        return None
    old, new = rng.choice(swaps)
    return text.replace(old, new, 1)


def url(text: str, rng: random.Random) -> str:
    site = rng.choice(["www.moviedb-archive.com/title", "bit.ly", "t.co", "www.example.org/reviews"])
    return f"{text} {rng.choice(['See', 'More at', 'Trailer:'])} https://{site}/{rng.randrange(10**6, 10**7)}"


TEXT_PERTURBATIONS = {"typo": typo, "punctuation": punctuation, "contraction": contraction, "url": url}


def vary(review: Template, key: str, lexicon: dict[str, list[str]], rng: random.Random) -> str | None:
    """The same review with `key` (and any nested values) given other values from the lexicon."""
    if key not in review.bindings:
        return None
    others = [value for value in lexicon[key] if value != review.bindings[key]]
    bindings = {slot: value for slot, value in review.bindings.items() if slot != key}
    bindings[key] = fill_value(rng.choice(others), lexicon, rng, bindings)
    return fill(review.source, lexicon, rng, bindings)


def perturbed_pairs(reviews: list[Template], perturbation: str, lexicon: dict[str, list[str]],
                    rng: random.Random) -> list[tuple[str, str]]:
    """(original, perturbed) for every base review the perturbation applies to."""
    pairs = []
    for review in reviews:
        if perturbation.startswith("vary:"):
            changed = vary(review, perturbation.removeprefix("vary:"), lexicon, rng)
        else:
            changed = TEXT_PERTURBATIONS[perturbation](review.text, rng)
        if changed is not None and changed != review.text:
            pairs.append((review.text, changed))
    return pairs
