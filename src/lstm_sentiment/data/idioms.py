"""Set phrases whose sentiment their words do not compose to ("I can't fault it", "it fell flat"), from a lexicon
of idioms in the package (idioms.json), each said about several subjects of the training trees.

Why: the constructions of composition.py and verb_opinions.py teach operators ("n't" reverses, "but" decides),
and a model that has learned them reads "I can't fault the acting." as a reversal of a fault, i.e. negative.
English fixes the side of such phrases by convention, not composition, and neither IMDb's document labels nor
the treebank hold enough of them to learn from (`check`'s idioms test: "You can't go wrong with ..." is in 16
IMDb training reviews and one treebank sentence). Like an opinion lexicon's words (lexicon.py), they are taught
as labelled examples. The lexicon holds none of `check`'s idiom wordings, so the suite measures transfer from
these to those; a second list, held out, scores models on idioms never trained on. Subjects come from the
trees given (training trees in training, dev trees for validation sets); tests never read any.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from ..ngram import is_negator
from .composition import _sentence, opinions
from .text import tokenize

if TYPE_CHECKING:
    from .treebank import Phrase

# always among the subjects, before the trees' own: what reviews call the film itself
PLAIN_SUBJECTS = ("it", "this film", "this movie")
SINGULAR = {"is", "was"}  # an opinion whose copula is one of these has a subject that reads with "is"


@cache
def lexicon() -> dict[str, list[dict]]:
    """{'training': [{'text', 'label'}, ...], 'held_out': [...], 'held_out_more': [...]} from idioms.json."""
    raw = resources.files(__package__).joinpath("idioms.json").read_text(encoding="utf-8")
    return json.loads(raw)


def subjects(trees: list[list[Phrase]]) -> list[str]:
    """PLAIN_SUBJECTS, then the singular noun-phrase subjects of the trees' clear opinions ("the acting")."""
    found = {opinion.subject for tree in trees for opinion in opinions(tree) if opinion.copula in SINGULAR}
    return list(PLAIN_SUBJECTS) + sorted(found - set(PLAIN_SUBJECTS))


def said_of(template: str, subject: str) -> str:
    """The idiom about a subject: "{s} fell flat." -> "The acting fell flat."."""
    return _sentence(template.format(s=subject, o=subject))


def idiom_examples(trees: list[list[Phrase]], per_idiom: int, which: str = "training"
                   ) -> Iterator[tuple[str, float]]:
    """(text, label / 4) for every idiom of the list `which`, each about per_idiom subjects: the first plain one
    in turn, the rest of the trees' chosen by a hash of the idiom (deterministic)."""
    for _, text, target in _said_idioms(trees, per_idiom, which):
        yield text, target


def _said_idioms(trees: list[list[Phrase]], per_idiom: int, which: str) -> Iterator[tuple[dict, str, float]]:
    """(idiom, text, label / 4): idiom_examples with the idiom each text says."""
    found = subjects(trees)
    plain, others = found[:len(PLAIN_SUBJECTS)], found[len(PLAIN_SUBJECTS):]
    for index, idiom in enumerate(lexicon()[which]):
        chosen = [plain[index % len(plain)]]
        start = zlib.crc32(idiom["text"].encode())
        chosen += [others[(start + step * 7919) % len(others)] for step in range(per_idiom - 1)] if others else []
        for subject in dict.fromkeys(chosen):
            yield idiom, said_of(idiom["text"], subject), idiom["label"] / 4


def idiom_sets(trees: list[list[Phrase]], per_idiom: int = 4) -> dict[str, list[tuple[str, int]]]:
    """Validation sets from (dev) trees: the training idioms about the trees' subjects ('idioms'), the held-out
    idioms ('idioms, held out') and the second, larger held-out list, split by whether the idiom holds a negator
    (`check`'s idioms all do); (text, 0/1)."""
    sets = {name: [(text, int(target > 0.5)) for text, target in idiom_examples(trees, per_idiom, which)]
            for name, which in (("idioms", "training"), ("idioms, held out", "held_out"))}
    more = [(has_negator(idiom["text"]), (text, int(target > 0.5)))
            for idiom, text, target in _said_idioms(trees, per_idiom, "held_out_more")]
    sets["idioms, held out (more)"] = [example for _, example in more]
    sets["idioms, held out (more), with a negator"] = [example for negated, example in more if negated]
    sets["idioms, held out (more), without"] = [example for negated, example in more if not negated]
    return sets


def has_negator(template: str) -> bool:
    """Whether an idiom's wording holds a negator as the n-gram member reads one ("n't", "no", "nothing", ...): the
    set phrases a model that reverses every negation reads backwards, and that a `sentence`-scope member leaves to
    the LSTM."""
    return any(is_negator(word) for word in tokenize(template.format(s="it", o="it")))
