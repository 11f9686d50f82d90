"""The words of composition.py's constructions, as data: the wordings training examples are made with, a larger
set of them, and held-out ones that only validation sets use.

Why a module of its own: the rules of a construction (what it does to an opinion's target) and the phrases that
say it change for different reasons, and a held-out set must be checked to share nothing with the others."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Wordings:
    """The words of every construction; TRAINING makes the training examples, HELD_OUT (no wording in common)
    only validation sets, which measure whether a model learned a construction or its training phrases."""

    embedders: tuple[str, ...]  # "<embedder> <clause>." reverses the clause
    interrupted: tuple[str, ...]  # "<lead>, <aside>, that <clause>." reverses it too
    expectations: tuple[str, ...]  # "<expectation> <complement>, <denied|confirmed>"
    denied: tuple[str, ...]
    confirmed: tuple[str, ...]
    questions: tuple[str, ...]  # "<question> <complement>? <no|yes>"
    no: tuple[str, ...]
    yes: tuple[str, ...]
    contrasts: tuple[str, ...]  # {a}: the opinion that does not count, {b}: the one that does
    affirmers: tuple[str, ...]  # negations that affirm: {c} the clause, {s} {v} {x} subject, copula, complement
    limits: tuple[str, ...] = ()  # a negated limit, which intensifies: {s} {v} {x} as above (data.compositions = 8)


TRAINING = Wordings(
    embedders=("I wouldn't say that", "it's not true that", "I don't think that", "I would not claim that",
               "nobody could honestly say that", "it is false that", "I don't believe that", "I never felt that"),
    interrupted=("I wouldn't say", "it isn't true", "I would not claim", "I don't think", "I can't say"),
    expectations=("I expected it to be", "I thought it would be", "everyone said it would be",
                  "the trailer made it look", "I had heard it was", "I assumed it would be"),
    denied=("but it wasn't.", "and it wasn't.", "but it really wasn't.", "but no, it wasn't."),
    confirmed=("and it was.", "and it really was.", "and it certainly was.", "and it truly was."),
    questions=("was it", "is it", "would I call it", "did I find it", "is it really"),
    no=("No.", "Not at all.", "Not really.", "Hardly.", "No, not at all."),
    yes=("Yes.", "Absolutely.", "Definitely.", "Yes, it is.", "Very much so."),
    contrasts=("{a}, but {b}.", "although {a}, {b}.", "at first I thought {a}; now I think {b}.",
               "I used to think {a}, but today {b}.", "others say {a}, but to me {b}.",
               "my friends thought {a}; I thought {b}.", "{b}, even if critics said {a}.",
               "{a}. However, {b}.", "years ago {a}; watching it again, {b}."),
    affirmers=("there's no denying that {c}.", "I can't deny that {c}.", "nobody can deny that {c}.",
               "no one would dispute that {c}.", "there is no doubt that {c}.", "I won't pretend otherwise: {c}.",
               "it is impossible to deny that {c}.", "{s} {v} nothing if not {x}.", "{s} {v} nothing short of {x}.",
               "I have never doubted that {c}."),
    limits=("{s} couldn't have been more {x}.", "{s} could not be more {x}.", "I can't tell you how {x} {s} {v}.",
            "I can't begin to describe how {x} {s} {v}.", "words can't say how {x} {s} {v}.",
            "{s} could not possibly have been more {x}."))

# data.composition_wordings = "extended": the training wordings and as many again (none of HELD_OUT's), to see
# whether more variety of wording is what makes a construction transfer to wordings never seen
EXTENDED = Wordings(
    embedders=TRAINING.embedders + ("I wouldn't agree that", "nobody believes that", "I can't honestly say that",
                                    "it isn't the case that", "don't let anyone tell you that",
                                    "I'm not convinced that"),
    interrupted=TRAINING.interrupted + ("I'm not sure", "nobody would say", "I wouldn't agree", "it's not the case"),
    expectations=TRAINING.expectations + ("the title promised it would be", "my friends said it would be",
                                          "I was hoping it would be", "it looked like it would be"),
    denied=TRAINING.denied + ("but it just wasn't.", "and it never was.", "though it wasn't."),
    confirmed=TRAINING.confirmed + ("and it definitely was.", "and it was, too.", "and boy, was it."),
    questions=TRAINING.questions + ("would you call it", "was it actually", "did it feel"),
    no=TRAINING.no + ("Not in the least.", "Far from it.", "Absolutely not."),
    yes=TRAINING.yes + ("It was.", "Without a doubt.", "Indeed."),
    contrasts=TRAINING.contrasts + ("{a} - and yet {b}.", "they say {a}; I say {b}.",
                                    "on paper {a}, but in the end {b}.", "the first half suggested {a}, but overall {b}.",
                                    "{b}, though my wife said {a}.", "sure, {a}, but {b}."),
    affirmers=TRAINING.affirmers + ("I'm not going to deny that {c}.", "you can't deny that {c}.",
                                    "it's no secret that {c}.", "there's no doubt in my mind that {c}.",
                                    "{s} {v} nothing but {x}."),
    limits=TRAINING.limits)
# data.composition_wordings = "idioms": the training wordings, and "can't ... enough" idioms as affirming negations
# (a negation and a limit that together say "very": the shipped model read them as reversals)
IDIOMS = replace(TRAINING, affirmers=TRAINING.affirmers + (
    "I can't stress enough that {c}.", "I cannot emphasise enough that {c}.", "I can't say it enough: {c}.",
    "I couldn't agree more that {c}.", "I can't repeat it often enough: {c}.",
    "words can't express how strongly I feel that {c}."))
WORDINGS = {"standard": TRAINING, "extended": EXTENDED, "idioms": IDIOMS}

HELD_OUT = Wordings(
    embedders=("I do not feel that", "it would be wrong to say that", "I refuse to believe that",
               "no one can claim that", "it's a myth that", "I doubt that"),
    interrupted=("I do not believe", "it would be wrong to say", "I won't claim", "no one could argue"),
    expectations=("I was told it would be", "the reviews promised it would be", "my brother swore it was",
                  "the poster suggested it would be"),
    denied=("yet it was not.", "but it was not.", "but sadly it wasn't.", "but it was not, in the end."),
    confirmed=("and so it was.", "and indeed it was.", "and it was, in the end.", "and sure enough it was."),
    questions=("do I think it is", "would I say it is", "is it honestly", "did it seem"),
    no=("Nope.", "Certainly not.", "Of course not.", "No way."),
    yes=("Of course.", "Certainly.", "Yes, really.", "Oh yes."),
    contrasts=("{a}; still, {b}.", "while {a}, {b}.", "some reviewers say {a}, but I say {b}.",
               "back then {a}; these days {b}.", "the critics wrote that {a}; in my view {b}."),
    affirmers=("nobody would deny that {c}.", "nobody in their right mind would deny that {c}.", "no doubt about it: {c}.",
               "there's no question that {c}.", "you can't argue with it: {c}.", "{s} {v} nothing less than {x}."),
    limits=("{s} could hardly have been more {x}.", "I cannot overstate how {x} {s} {v}.",
            "there are no words for how {x} {s} {v}.", "{s} simply couldn't be any more {x}."))
