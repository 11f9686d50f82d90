"""First-person verb opinions ("I cherished the acting") inside the constructions that negate, embed, contrast,
question or intensify them ("I didn't cherish the acting", "I wouldn't say that I cherished it", "My cousin
resented it, but I cherished it", "I can't praise it enough").

Why: composition.py's constructions hold copula opinions only ("the acting is terrific"), and the treebank has
almost no first-person verb phrases ("I liked it": 22 of 8,544 training sentences, none negated), so a model
never sees "didn't" reverse a verb of liking: "I didn't despise the sequel" read as negative. The verbs here are
written for this module from English, deliberately none of the `check` suite's (love, like, enjoy, adore, admire,
appreciate, hate, dislike, despise, loathe, detest), nor the verbs its idiom templates and README's examples use
(recommend, praise): the suite then measures whether the operator transfers to verbs never composed in training. Held-out verbs ("prize", "deride") appear in training only stated ("I prized
the acting."), as `check`'s verbs appear in IMDb, so that validation rows can measure the same transfer: from a
verb whose side a model knows to its negation, embedding or contrast. Objects are the subjects of the training
trees' opinions ("the acting") and "it"; validation sets use the dev trees' subjects, with the training verbs,
the held-out verbs, and the held-out verbs in held-out wordings (HELD_OUT); tests never read any of them. Targets follow composition.py: kept three quarters of the way out, reversed by negation_strength.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .composition import Effect, _pick, _sentence, effect_target, neutral_asides, opinions
from .wordings import HELD_OUT as HELD_OUT_COMPOSITION
from .wordings import TRAINING as TRAINING_COMPOSITION
from .wordings import Wordings

if TYPE_CHECKING:
    from .treebank import Phrase


@dataclass(frozen=True)
class Verb:
    base: str  # "cherish"
    past: str  # "cherished"
    label: int  # 0-4, as a treebank label: how strongly the verb states its opinion


@dataclass(frozen=True)
class VerbWordings:
    positive: tuple[Verb, ...]
    negative: tuple[Verb, ...]
    negated: tuple[str, ...]  # "I {n} ..." with {b} the base and {p} the past form: "didn't {b}", "never {p}"
    adverbs: tuple[str, ...]  # "I {adverb} {past} it": a degree word does not change the side
    others: tuple[str, ...]  # people whose opinion the author's overrides
    contrasts: tuple[str, ...]  # {w} the other person, {a} their verb (past), {b} the author's ({A}, {B}: base forms), {o} the object
    expectations: tuple[str, ...]  # "{lead} {b} {o}", then denied or confirmed
    denied: tuple[str, ...]
    confirmed: tuple[str, ...]
    questions: tuple[str, ...]  # "{question} {b} {o}?", then no or yes
    no: tuple[str, ...]
    yes: tuple[str, ...]
    idioms: tuple[str, ...]  # "can't ... enough": a negated limit that means "very" (positive verbs only)
    composition: Wordings  # embedders and interrupted leads, shared with composition.py


def _verbs(label: int, pairs: str) -> tuple[Verb, ...]:
    return tuple(Verb(*pair.split("/"), label) for pair in pairs.split())


TRAINING = VerbWordings(
    positive=_verbs(4, "cherish/cherished treasure/treasured relish/relished savour/savoured")
    + _verbs(3, "honour/honoured endorse/endorsed respect/respected value/valued applaud/applauded "
                "commend/commended celebrate/celebrated welcome/welcomed"),
    negative=_verbs(0, "abhor/abhorred resent/resented deplore/deplored scorn/scorned")
    + _verbs(1, "regret/regretted dread/dreaded condemn/condemned disdain/disdained lament/lamented "
                "mock/mocked dismiss/dismissed begrudge/begrudged"),
    negated=("didn't {b}", "did not {b}", "don't {b}", "do not {b}", "never {p}", "didn't really {b}"),
    adverbs=("honestly", "sincerely", "simply", "actually", "deeply", "frankly"),
    others=("my cousin", "my roommate", "my colleagues", "the reviewers", "everybody else", "my neighbours",
            "the people I went with", "my husband"),
    contrasts=("{w} {a} {o}, but I {b} it.", "although {w} {a} {o}, I {b} it.", "I used to {A} {o}; today I {B} it.",
               "at first I {a} {o}; now I {B} it.", "{w} {a} {o}. I, however, {b} it.",
               "years ago I {a} {o}; seeing it again, I {B} it."),
    expectations=("I expected to {b}", "I thought I would {b}", "I was sure I would {b}", "I assumed I would {b}"),
    denied=("but I didn't.", "but I really didn't.", "but no, I didn't."),
    confirmed=("and I did.", "and I really did.", "and I certainly did."),
    questions=("did I {b}", "do I {b}", "would I say I {b}"),
    no=("No.", "Not at all.", "Not really.", "No, I didn't."),
    yes=("Yes.", "Absolutely.", "Yes, I did.", "Very much so."),
    idioms=("I can't {b} {o} enough.", "I cannot {b} {o} enough.", "I can't {b} {o} highly enough.",
            "I could not {b} {o} more."),
    composition=TRAINING_COMPOSITION)

# data.verb_lexicon = "extended": the same wordings with twice the verbs (still none of `check`'s, of
# HELD_OUT's, nor "recommend" and "praise"): more verbs per construction, so that the construction, not the 24
# verbs, decides (data.verb_opinions = 9 showed that more examples of the same verbs teach the verbs)
EXTENDED = replace(
    TRAINING,
    positive=TRAINING.positive + _verbs(4, "revere/revered worship/worshipped")
    + _verbs(3, "extol/extolled hail/hailed acclaim/acclaimed cheer/cheered compliment/complimented "
                "glorify/glorified fancy/fancied favour/favoured support/supported trust/trusted"),
    negative=TRAINING.negative + _verbs(0, "trash/trashed lambast/lambasted")
    + _verbs(1, "denounce/denounced criticise/criticised slam/slammed pan/panned shun/shunned reject/rejected "
                "curse/cursed blame/blamed spurn/spurned belittle/belittled"))
LEXICONS = {"standard": TRAINING, "extended": EXTENDED}

# no verb and no wording in common with TRAINING (tests/test_verb_opinions.py checks): its verbs are stated in
# training examples but composed only in validation sets, its wordings only in validation sets
HELD_OUT = VerbWordings(
    positive=_verbs(4, "prize/prized esteem/esteemed") + _verbs(3, "salute/saluted embrace/embraced "
                                                                     "champion/championed laud/lauded"),
    negative=_verbs(0, "deride/derided ridicule/ridiculed") + _verbs(1, "rue/rued decry/decried bemoan/bemoaned "
                                                                     "disparage/disparaged"),
    negated=("did not once {b}", "never really {p}", "do not really {b}"),
    adverbs=("wholeheartedly", "openly", "certainly"),
    others=("my uncle", "the whole audience", "my classmates", "the press"),
    contrasts=("{w} {a} {o}; still, I {b} it.", "while {w} {a} {o}, I {b} it.",
               "back then I {a} {o}; these days I {B} it."),
    expectations=("I was told I would {b}", "I fully expected to {b}"),
    denied=("yet I did not.", "but sadly I didn't."),
    confirmed=("and so I did.", "and sure enough I did."),
    questions=("will I ever {b}", "did I honestly {b}"),
    no=("Nope.", "Certainly not."),
    yes=("Of course.", "Oh yes."),
    idioms=("I cannot {b} {o} too much.", "I can't {b} {o} too highly."),
    composition=HELD_OUT_COMPOSITION)
# the held-out verbs in the training wordings: training states them, validation composes them
NEW_VERBS = replace(TRAINING, positive=HELD_OUT.positive, negative=HELD_OUT.negative)


@dataclass(frozen=True)
class VerbOpinion:
    verb: Verb
    object: str  # "the acting", "it"

    @property
    def clause(self) -> str:
        return f"I {self.verb.past} {self.object}"

    @property
    def choice(self) -> int:
        """The hash that picks this opinion's constructions, wordings, opposite verb and aside."""
        return zlib.crc32(self.clause.encode())

    def negated_clause(self, words: VerbWordings, choice: int) -> str:
        negated = _pick(words.negated, choice).format(b=self.verb.base, p=self.verb.past)
        return f"I {negated} {self.object}"


# (opinion, an opposite verb, an aside, a choice, the wordings) -> (text, effect), or None where it does not fit
VerbConstruction = Callable[[VerbOpinion, Verb, str, int, VerbWordings], "tuple[str, Effect] | None"]


def _stated(opinion: VerbOpinion, _other: Verb, _aside: str, choice: int, words: VerbWordings) -> tuple[str, Effect]:
    """In the past or the present ("I cherished it", "I cherish it"), with a degree adverb or without."""
    verb = opinion.verb.past if choice % 2 else opinion.verb.base
    if choice // 2 % 2:
        return f"I {_pick(words.adverbs, choice // 4)} {verb} {opinion.object}.", "kept"
    return f"I {verb} {opinion.object}.", "kept"


def _negated(opinion: VerbOpinion, _other: Verb, _aside: str, choice: int, words: VerbWordings) -> tuple[str, Effect]:
    return f"{opinion.negated_clause(words, choice)}.", "reversed"


def _embedded(opinion: VerbOpinion, _other: Verb, _aside: str, choice: int, words: VerbWordings
              ) -> tuple[str, Effect]:
    return _sentence(f"{_pick(words.composition.embedders, choice)} {opinion.clause}."), "reversed"


def _double(opinion: VerbOpinion, _other: Verb, _aside: str, choice: int, words: VerbWordings) -> tuple[str, Effect]:
    clause = opinion.negated_clause(words, choice // len(words.composition.embedders))
    return _sentence(f"{_pick(words.composition.embedders, choice)} {clause}."), "double"


def _aside(opinion: VerbOpinion, _other: Verb, aside: str, choice: int, words: VerbWordings) -> tuple[str, Effect]:
    return _sentence(f"{_pick(words.composition.interrupted, choice)}, {aside}, that {opinion.clause}."), "reversed"


def _contrast(opinion: VerbOpinion, other: Verb, _aside: str, choice: int, words: VerbWordings) -> tuple[str, Effect]:
    template = _pick(words.contrasts, choice)
    text = template.format(w=_pick(words.others, choice // len(words.contrasts)), a=other.past, A=other.base,
                           b=opinion.verb.past, B=opinion.verb.base, o=opinion.object)
    return _sentence(text), "kept"


def _expectation(opinion: VerbOpinion, _other: Verb, _aside: str, choice: int, words: VerbWordings
                 ) -> tuple[str, Effect]:
    lead = _pick(words.expectations, choice).format(b=opinion.verb.base)
    if choice // len(words.expectations) % 2:
        return f"{lead} {opinion.object}, {_pick(words.confirmed, choice)}", "kept"
    return f"{lead} {opinion.object}, {_pick(words.denied, choice)}", "reversed"


def _question(opinion: VerbOpinion, _other: Verb, _aside: str, choice: int, words: VerbWordings
              ) -> tuple[str, Effect]:
    question = _sentence(f"{_pick(words.questions, choice).format(b=opinion.verb.base)} {opinion.object}?")
    if choice // len(words.questions) % 2:
        return f"{question} {_pick(words.yes, choice)}", "kept"
    return f"{question} {_pick(words.no, choice)}", "reversed"


def _idiom(opinion: VerbOpinion, _other: Verb, _aside: str, choice: int, words: VerbWordings
           ) -> tuple[str, Effect] | None:
    if opinion.verb.label <= 2:
        return None  # "I can't resent it enough" is not an idiom of English
    return _pick(words.idioms, choice).format(b=opinion.verb.base, o=opinion.object), "kept"


VERB_CONSTRUCTIONS: dict[str, VerbConstruction] = {
    "stated verb": _stated, "negated verb": _negated, "embedded negation of a verb": _embedded,
    "double negation of a verb": _double, "negated verb with an aside": _aside, "verb contrast": _contrast,
    "verb expectation": _expectation, "verb question": _question, "verb can't ... enough": _idiom}


def verb_objects(trees: list[list[Phrase]]) -> list[str]:
    """What the verbs are about: "it" and the noun-phrase subjects of the trees' clear opinions ("the acting")."""
    return ["it"] + sorted({opinion.subject for tree in trees for opinion in opinions(tree)} - {"it", "they"})


def verb_examples(trees: list[list[Phrase]], per_pair: int, strength: float = 0.5,
                  words: VerbWordings = TRAINING) -> Iterator[tuple[str, float, str]]:
    """(text, target, construction) for per_pair (1-9) constructions of every verb with every object of the
    trees; as many positive verbs as negative ones, so every construction sees both sides about equally.
    Deterministic: every choice is a hash of the verb and the object."""
    asides = neutral_asides(trees)
    if not asides:
        return
    families, objects = list(VERB_CONSTRUCTIONS.items()), verb_objects(trees)
    for verbs, opposite in ((words.positive, words.negative), (words.negative, words.positive)):
        for verb in verbs:
            for target_object in objects:
                opinion = VerbOpinion(verb, target_object)
                choice = opinion.choice
                for index in range(per_pair):
                    name, construct = families[(choice + index) % len(families)]
                    other = opposite[(choice // 7 + index) % len(opposite)]
                    made = construct(opinion, other, asides[choice % len(asides)], choice // 11 + index, words)
                    if made is not None:
                        text, effect = made
                        yield text, effect_target(verb.label, effect, strength), name


def training_examples(trees: list[list[Phrase]], per_pair: int, strength: float = 0.5,
                      lexicon: str = "standard") -> Iterator[tuple[str, float, str]]:
    """data.verb_opinions' examples: per_pair constructions of the training verbs with every object, then every
    held-out verb with every object stated twice, in the past and the present (so that validation can compose
    verbs known only as statements, in either form)."""
    yield from verb_examples(trees, per_pair, strength, LEXICONS[lexicon])
    stated, objects = VERB_CONSTRUCTIONS["stated verb"], verb_objects(trees)
    for verb in NEW_VERBS.positive + NEW_VERBS.negative:
        for target_object in objects:
            opinion = VerbOpinion(verb, target_object)
            for tense in (0, 1):  # an even choice states the base form, an odd one the past
                text, effect = stated(opinion, verb, "", 2 * (opinion.choice // 2) + tense, NEW_VERBS)
                yield text, effect_target(verb.label, effect, strength), "stated verb"


def verb_sets(trees: list[list[Phrase]]) -> dict[str, list[tuple[str, int]]]:
    """Validation sets from (dev) trees: every construction of every verb-object pair, in the training verbs and
    wordings ('verb: <construction>'), the held-out verbs in training wordings ('..., new verbs') and in held-out
    ones ('..., new verbs and wordings'); (text, label)."""
    sets: dict[str, list[tuple[str, int]]] = {}
    seen: set[str] = set()
    for words, suffix in ((TRAINING, ""), (NEW_VERBS, ", new verbs"), (HELD_OUT, ", new verbs and wordings")):
        for text, target, name in verb_examples(trees, len(VERB_CONSTRUCTIONS), words=words):
            if text not in seen:
                seen.add(text)
                sets.setdefault(f"verb: {name}{suffix}", []).append((text, int(target > 0.5)))
    return sets


def verb_words(words: VerbWordings = TRAINING) -> set[str]:
    """Every form of every verb of `words`."""
    return {form for verb in words.positive + words.negative for form in (verb.base, verb.past)}


def vocabulary_words(lexicon: str = "standard") -> set[str]:
    """What data.verb_opinions keeps in the vocabulary: every verb its examples use (most are rare in IMDb)."""
    return verb_words(LEXICONS[lexicon]) | verb_words(HELD_OUT)
