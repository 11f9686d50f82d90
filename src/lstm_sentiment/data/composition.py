"""Composed examples from treebank opinions: one clear opinion of a training tree ("the acting is terrific")
placed inside a construction whose effect on sentiment English fixes: an embedding negation ("I wouldn't say
that ..."), the same with an aside between ("I wouldn't say, <a neutral treebank phrase>, that ..."), a double
negation, a stated expectation that the last words confirm or deny ("I expected it to be terrific, but it
wasn't."), an answered yes/no question, two opposite opinions of which the construction says which counts
("... , but ...", "at first ... ; now ...", "others ... ; I ..."), a negation that affirms ("there's no
denying that ...", "... was nothing if not terrific"), and, as an eighth family that only data.compositions = 8
uses, a negated limit ("the acting couldn't have been more terrific", "I can't tell you how terrific the acting
was": a negation of "more" or of saying enough, which means "very").

Why: the treebank labels phrases, but few of its sentences show these constructions with their opinion reversed,
and IMDb's document labels never isolate them, so a model learns "not", "but", "used to" and question marks as
cues of a kind of review instead of as operators; the affirming negations keep "no", "n't" and "nothing" from
being learned as a reversal wherever they occur. Only the training trees' own opinions, subjects and neutral
phrases fill the constructions; validation draws the same constructions from the dev trees and tests never read
any. Targets follow negation.py: a reversed opinion is mirrored and pulled towards neutral (data.negation_strength,
halfway by default), a doubly negated one keeps that share on its own side; an opinion kept or decided by a
contrast keeps three quarters of its distance from neutral.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .negation import clear_copula_phrases, negate_copula, negated_examples, negated_target
from .wordings import HELD_OUT, TRAINING, Wordings

if TYPE_CHECKING:
    from .treebank import Phrase

# the copula as it reads after a subject, and the subject that agrees with it when the sentence gives none
_COPULA_FORMS = {"is": ("is", "it"), "'s": ("is", "it"), "was": ("was", "it"), "be": ("is", "it"),
                 "been": ("was", "it"), "are": ("are", "they"), "'re": ("are", "they"), "were": ("were", "they")}
MAX_SUBJECT_WORDS = 4
# a subject is taken from the sentence only when it reads as a noun phrase on its own ("the acting"); treebank
# prefixes such as "like Mike" or "though there" do not
SUBJECT_OPENINGS = {"the", "this", "that", "these", "those", "its", "his", "her", "their", "every", "all"}
_END_PUNCTUATION = re.compile(r"(?:\s+[.!?;:,]+)+$")  # "is dreadful ." -> "is dreadful": constructions add their own
NEUTRAL_WORDS = (3, 7)  # a neutral aside: a treebank phrase labelled 2 of this many words, letters only
# ... that opens like an adverbial ("in a small town", "after the first hour") and so reads as an aside
ASIDE_OPENINGS = {"in", "on", "at", "for", "with", "after", "before", "during", "given", "since", "when", "while",
                  "as", "despite", "although", "though", "because", "if", "from", "by", "without", "unlike"}
ASIDE_ENDINGS = {"and", "or", "but", "the", "a", "an", "of", "to", "in", "on", "at", "for", "with", "by", "from",
                 "that", "its", "his", "her", "their", "is", "as"}


@dataclass(frozen=True)
class Opinion:
    subject: str  # "the acting", or "it"/"they" when the phrase's sentence gives no short subject
    copula: str  # "is", "was", "are", "were"
    complement: str  # "terrific"
    label: int  # 0-4, the copula phrase's treebank label

    @property
    def clause(self) -> str:
        return f"{self.subject} {self.copula} {self.complement}"

    @property
    def negated_clause(self) -> str:
        return f"{self.subject} {negate_copula(f'{self.copula} {self.complement}', 1)}"


# what a construction does to its opinion: keeps it, reverses it, or reverses it twice
Effect = Literal["kept", "reversed", "double"]


def kept_target(label: int) -> float:
    """A clear opinion that a construction keeps: three quarters of its distance from neutral."""
    return 0.5 + (label / 4 - 0.5) * 0.75


def effect_target(label: int, effect: Effect, strength: float = 0.5) -> float:
    """The soft target of an opinion (five-point label) after a construction's effect."""
    if effect == "kept":
        return kept_target(label)
    return negated_target(label if effect == "reversed" else 4 - label, strength)


def opinions(tree: list[Phrase]) -> Iterator[Opinion]:
    """The clear copula phrases of one tree (negation.py's rule), each with the subject its sentence gives."""
    for phrase, _ in clear_copula_phrases(tree):
        copula, _, complement = _END_PUNCTUATION.sub("", phrase.text).partition(" ")
        if not complement:
            continue
        form, pronoun = _COPULA_FORMS[copula.lower()]
        subject = pronoun
        at = tree[0].text.find(" " + phrase.text)
        if copula.lower() not in ("be", "been") and at > 0:
            before = tree[0].text[:at].split()
            if (1 <= len(before) <= MAX_SUBJECT_WORDS and all(word.isalpha() for word in before)
                    and before[0].lower() in SUBJECT_OPENINGS):
                subject = " ".join(before)
                subject = subject[0].lower() + subject[1:]
        yield Opinion(subject, form, complement, phrase.label)


def neutral_asides(trees: list[list[Phrase]]) -> list[str]:
    """Neutral phrases that read as an aside: a few words of letters, opening like an adverbial and not cut off
    before their end."""
    low, high = NEUTRAL_WORDS
    asides = set()
    for tree in trees:
        for phrase in tree[1:]:
            words = phrase.text.split()
            if (phrase.label == 2 and low <= len(words) <= high and all(word.isalpha() for word in words)
                    and words[0] in ASIDE_OPENINGS and words[-1].lower() not in ASIDE_ENDINGS):
                asides.add(phrase.text)
    return sorted(asides)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]


# Each construction: (opinion, its opposite, a neutral aside, a choice, the wordings) -> (text, effect on the
# opinion), or None where the opinion does not fit it. The choice (a hash) picks one wording; every wording of a
# family has the same effect on the opinion.
Construction = Callable[[Opinion, Opinion, str, int, Wordings], "tuple[str, Effect] | None"]


def _pick(options: tuple[str, ...], choice: int) -> str:
    return options[choice % len(options)]


def _embedded(opinion: Opinion, _other: Opinion, _aside: str, choice: int, words: Wordings) -> tuple[str, Effect]:
    return _sentence(f"{_pick(words.embedders, choice)} {opinion.clause}."), "reversed"


def _interrupted(opinion: Opinion, _other: Opinion, aside: str, choice: int, words: Wordings) -> tuple[str, Effect]:
    return _sentence(f"{_pick(words.interrupted, choice)}, {aside}, that {opinion.clause}."), "reversed"


def _double(opinion: Opinion, _other: Opinion, _aside: str, choice: int, words: Wordings) -> tuple[str, Effect]:
    return _sentence(f"{_pick(words.embedders, choice)} {opinion.negated_clause}."), "double"


def _expectation(opinion: Opinion, _other: Opinion, _aside: str, choice: int, words: Wordings
                 ) -> tuple[str, Effect]:
    lead = _pick(words.expectations, choice)
    if choice // len(words.expectations) % 2:
        return _sentence(f"{lead} {opinion.complement}, {_pick(words.confirmed, choice)}"), "kept"
    return _sentence(f"{lead} {opinion.complement}, {_pick(words.denied, choice)}"), "reversed"


def _question(opinion: Opinion, _other: Opinion, _aside: str, choice: int, words: Wordings) -> tuple[str, Effect]:
    question = _sentence(f"{_pick(words.questions, choice)} {opinion.complement}?")
    if choice // len(words.questions) % 2:
        return f"{question} {_pick(words.yes, choice)}", "kept"
    return f"{question} {_pick(words.no, choice)}", "reversed"


def _contrast(opinion: Opinion, other: Opinion, _aside: str, choice: int, words: Wordings) -> tuple[str, Effect]:
    return _sentence(_pick(words.contrasts, choice).format(a=other.clause, b=opinion.clause)), "kept"


def _affirmed(opinion: Opinion, _other: Opinion, _aside: str, choice: int, words: Wordings) -> tuple[str, Effect]:
    template = _pick(words.affirmers, choice)
    return _sentence(template.format(c=opinion.clause, s=opinion.subject, v=opinion.copula,
                                     x=opinion.complement)), "kept"


def _limit(opinion: Opinion, _other: Opinion, _aside: str, choice: int, words: Wordings
           ) -> tuple[str, Effect] | None:
    if not takes_more(opinion.complement):
        return None  # "couldn't have been more a mess" is not English
    template = _pick(words.limits, choice)
    return _sentence(template.format(s=opinion.subject, v=opinion.copula, x=opinion.complement)), "kept"


CONSTRUCTIONS: dict[str, Construction] = {"embedded negation": _embedded, "negation with an aside": _interrupted,
                                          "double negation": _double, "expectation": _expectation,
                                          "answered question": _question, "contrast": _contrast,
                                          "affirming negation": _affirmed, "negated limit": _limit}
# data.compositions up to 7 draws from the first seven families, as before the negated limit existed (so those
# runs make the same examples); 8 draws from all eight
SEVEN = 7


def takes_more(complement: str) -> bool:
    """Whether "more <complement>" reads as English: one word, not a noun phrase's article or an adverb
    ("more still charming", "how disappointingly it is" do not)."""
    words = complement.split()
    return len(words) == 1 and words[0].isalpha() and words[0].islower() and not words[0].endswith("ly")


def families_for(per_opinion: int) -> list[tuple[str, Construction]]:
    return list(CONSTRUCTIONS.items())[:max(SEVEN, per_opinion)]


def _choice(opinion: Opinion) -> int:
    """The hash that picks an opinion's constructions, wordings, opposite and aside."""
    return zlib.crc32(opinion.clause.encode())


def composed_examples(trees: list[list[Phrase]], per_opinion: int, balance: bool = False, strength: float = 0.5,
                      wordings: Wordings = TRAINING) -> Iterator[tuple[str, float, str]]:
    """(text, target, construction) for per_opinion (1-8) constructions of every clear opinion of the trees; the
    opposite opinion of a contrast and the aside come from the same trees. balance: each construction then also
    gets opinions of its rarer target side again, in other wordings, until both sides are as many (the trees hold
    more positive opinions, so reversing constructions would otherwise teach "n't" as a sign of a negative
    review). strength: negation.py's. Deterministic: every choice is a hash of the opinion's text."""
    found = [opinion for tree in trees for opinion in opinions(tree)]
    positive = [opinion for opinion in found if opinion.label > 2]
    negative = [opinion for opinion in found if opinion.label < 2]
    asides = neutral_asides(trees)
    if not positive or not negative or not asides:
        return
    families = families_for(per_opinion)

    def build(opinion: Opinion, family: int, wording: int) -> tuple[str, float, str] | None:
        choice = _choice(opinion)
        opposite = negative if opinion.label > 2 else positive
        other, aside = opposite[choice % len(opposite)], asides[choice % len(asides)]
        name, construct = families[family]
        composed = construct(opinion, other, aside, choice // len(families) + wording, wordings)
        if composed is None:
            return None
        text, effect = composed
        return text, effect_target(opinion.label, effect, strength), name

    made: dict[int, list[tuple[str, float, str]]] = {family: [] for family in range(len(families))}
    for opinion in found:
        for index in range(per_opinion):
            family = (_choice(opinion) + index) % len(families)
            example = build(opinion, family, index)
            if example is not None:
                made[family].append(example)
                yield example
    if not balance:
        return
    for family, examples in made.items():
        above = sum(target > 0.5 for _, target, _ in examples)
        below = len(examples) - above
        wanted_above = above < below
        pool = [opinion for opinion in found
                if (first := build(opinion, family, 0)) is not None and (first[1] > 0.5) == wanted_above]
        for extra in range(abs(above - below) if pool else 0):
            opinion = pool[extra % len(pool)]
            wording = per_opinion + extra // len(pool)
            # the wording picks the kept or reversed form in some families: keep only the side that is short
            text, target, name = build(opinion, family, 2 * wording)
            if (target > 0.5) != wanted_above:
                text, target, name = build(opinion, family, 2 * wording + 1)
            if (target > 0.5) == wanted_above:
                yield text, target, name


def construction_sets(trees: list[list[Phrase]], limits: bool = False) -> dict[str, list[tuple[str, int]]]:
    """Labelled sets to choose models on, built from (dev) trees by the rules of negation.py and this module:
    'negated negative', 'negated positive', the 'originals' they negate, then one set per construction of the
    first seven in the training wordings and one in the held-out wordings ('<construction>, new wordings'), and
    with limits the negated limit's two as well; each text once, as (text, expected label)."""
    sets: dict[str, list[tuple[str, int]]] = {"negated negative": [], "negated positive": [], "originals": []}
    seen: set[str] = set()

    def add(name: str, text: str, label: int) -> None:
        if text not in seen:
            seen.add(text)
            sets.setdefault(name, []).append((text, label))

    for tree in trees:
        for text, target in negated_examples(tree, copies=3):
            add("negated negative" if target > 0.5 else "negated positive", text, int(target > 0.5))
        for phrase, _ in clear_copula_phrases(tree):
            add("originals", phrase.text, int(phrase.label > 2))
    versions = ((TRAINING, ""), (HELD_OUT, ", new wordings"))
    for wordings, suffix in versions:
        for text, target, construction in composed_examples(trees, SEVEN, wordings=wordings):
            add(construction + suffix, text, int(target > 0.5))
    for wordings, suffix in versions if limits else ():
        for text, target, construction in composed_examples(trees, len(CONSTRUCTIONS), wordings=wordings):
            if construction == "negated limit":
                add(construction + suffix, text, int(target > 0.5))
    return sets
