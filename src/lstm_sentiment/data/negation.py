"""Counterfactual negation of treebank phrases: "is dreadful" (negative) also becomes "isn't dreadful" (mildly
positive), and the sentence around it with it, when that phrase carries the sentence's sentiment.

Why: document labels never show a negated opinion with its label, and the treebank barely does. Of its training
phrases that begin with "not"/"never"/"no", 192 are neutral, 152 negative and 33 positive: "not bad" is labelled
neutral and "not clumsy" does not occur, so a model learns "not" as a cue for negative. A negated copula phrase
("is/was/are ... X") whose own label and whose complement's label agree is a minimal pair whose label is known
from language, not from any test: the negation of a clear opinion leans the other way. Targets are the mirror
image pulled towards neutral; by default halfway (label 0 -> 0.75, 1 -> 0.625, 3 -> 0.375, 4 -> 0.25), as "not
bad" means "fairly good", not "excellent" (data.negation_strength sets the share kept). Only training trees are
read; validation and test never are.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .treebank import Phrase

# copula -> its contracted negation ("" where English has none that reads naturally)
COPULAS = {"is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't", "'s": "", "'re": "", "be": "",
           "been": ""}
NEGATORS = ("not", "n't", "never")  # variants, in the order a phrase receives them
# a negated sentence is made only when the phrase is at least this share of the sentence's words: beyond that,
# the phrase is one opinion among others (a subordinate clause) and the sentence's label need not flip
SENTENCE_SHARE = 0.5
# longer complements hold opinions of their own ("is a bit too enigmatic and overly ambitious to be fully
# successful"), and these openings make a predicate whose negation does not mirror it ("'s hard to imagine a more
# generic effort", "is to sit through", "'s better", "is what it wants to be", "is as good as")
MAX_COMPLEMENT_WORDS = 5
NOT_MIRRORED = {"to", "too", "so", "as", "more", "less", "most", "least", "better", "worse", "best", "worst",
                "hard", "easy", "difficult", "impossible", "what", "that", "how", "enough", "just", "only", "even",
                "all", "exactly", "wrong", "like", "about", "in", "on", "at", "for", "with", "of", "by", "from"}


def negated_target(label: int, strength: float = 0.5) -> float:
    """The five-point label of a clear opinion -> the soft target of its negation, which keeps `strength` of the
    opinion's distance from neutral on the other side."""
    return 0.5 + (0.5 - label / 4) * strength


def negate_copula(text: str, variant: int) -> str | None:
    """'is dreadful' -> 'is not dreadful' / "isn't dreadful" / 'is never dreadful'; None if not a copula phrase."""
    copula, _, rest = text.partition(" ")
    contracted = COPULAS.get(copula.lower())
    if contracted is None or not rest:
        return None
    negator = NEGATORS[variant % len(NEGATORS)]
    if negator == "n't":
        if contracted:
            return f"{contracted.capitalize() if copula[0].isupper() else contracted} {rest}"
        negator = "not"  # "'s not", "not be": no contracted form
    if copula.lower() in ("be", "been"):  # "will be X" -> "will not be X", "has been X" -> "has never been X"
        return f"{negator} {copula} {rest}"
    return f"{copula} {negator} {rest}"


def _is_clear(label: int) -> bool:
    return label != 2


def _agrees(first: int, second: int) -> bool:
    return _is_clear(first) and _is_clear(second) and (first > 2) == (second > 2)


def _mirrors(rest: str) -> bool:
    """True when negating 'is <rest>' flips its opinion: a short complement that is not itself negated and does
    not open in a way that makes the negation mean something else."""
    words = rest.lower().split()
    return (len(words) <= MAX_COMPLEMENT_WORDS and words[0] not in NOT_MIRRORED
            and words[0] not in ("not", "never", "no", "n't", "hardly", "barely", "nothing", "neither"))


def clear_copula_phrases(tree: list[Phrase]) -> Iterator[tuple[Phrase, bool]]:
    """(phrase, carries the sentence) for each copula phrase of one tree whose negation mirrors it: its label and
    its complement's agree and are not neutral. It carries the sentence when the sentence agrees too, holds it
    once and is not much longer than it."""
    labels = {phrase.text: phrase.label for phrase in tree}
    root = tree[0]
    for phrase in tree[1:]:
        copula, _, rest = phrase.text.partition(" ")
        if copula.lower() not in COPULAS or rest not in labels or not _mirrors(rest):
            continue
        if _agrees(phrase.label, labels[rest]):
            yield phrase, (_agrees(root.label, phrase.label) and root.text.count(phrase.text) == 1
                           and len(phrase.text.split()) >= SENTENCE_SHARE * len(root.text.split()))


def negated_examples(tree: list[Phrase], copies: int, strength: float = 0.5) -> Iterator[tuple[str, float]]:
    """(text, target) for each clear copula phrase of one tree and, where it carries the sentence, the sentence;
    copies (1-3) negator variants each, chosen by a hash of the text so that the output is deterministic."""
    root = tree[0]
    for phrase, carries_sentence in clear_copula_phrases(tree):
        first = zlib.crc32(phrase.text.encode())
        target = negated_target(phrase.label, strength)
        made = set()
        for copy in range(copies):
            negated = negate_copula(phrase.text, first + copy)
            if negated in made:  # "'s" has no contracted form: its "n't" variant is its "not" one
                continue
            made.add(negated)
            yield negated, target
            if carries_sentence:
                yield root.text.replace(phrase.text, negated), negated_target(root.label, strength)
