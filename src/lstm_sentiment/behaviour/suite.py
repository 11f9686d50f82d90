"""The behavioural test suite, generated deterministically from templates and lexicons (suite.json, lexicon.json).

In the style of CheckList (Ribeiro et al., ACL 2020): MFT cases have a fixed expected label, INV cases are pairs
whose label must not change, DIR cases are pairs whose probability must move one way. Every draw comes from a
random generator seeded by the suite's seed, the test's name and the template's position, so the same package
always generates the same cases.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from importlib import resources

from ..errors import UserError

KINDS = ("MFT", "INV", "DIR")
_PLACEHOLDER = re.compile(r"\{([a-z_]+?)(\d?)\}")
_ARTICLE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")
_TRIES_PER_CASE = 20


@dataclass(frozen=True)
class Case:
    text: str
    label: int | None = None  # MFT: 1 positive, 0 negative
    perturbed: str | None = None  # INV and DIR: the changed text
    direction: str | None = None  # DIR: "up" (P(positive) must not fall) or "down"


@dataclass
class BehaviourTest:
    name: str
    capability: str
    kind: str
    cases: list[Case] = field(default_factory=list)


@dataclass
class Template:
    """One filled template: its text and the lexicon values chosen, so that INV tests can vary one of them."""

    source: str
    bindings: dict[str, str]
    text: str


def _resource(name: str) -> dict:
    return json.loads((resources.files("lstm_sentiment") / "behaviour" / name).read_text(encoding="utf-8"))


def fill(template: str, lexicon: dict[str, list[str]], rng: random.Random, bindings: dict[str, str]) -> str:
    """Replace each {key} (or {key2}: another value of the same list) with a lexicon value; values may hold
    placeholders of their own. Keys already in `bindings` keep their value. The text starts with a capital."""
    text = fill_value(template, lexicon, rng, bindings)
    return text[:1].upper() + text[1:]


def fill_value(template: str, lexicon: dict[str, list[str]], rng: random.Random, bindings: dict[str, str]) -> str:
    def choose(match: re.Match) -> str:
        key, index = match.group(1), match.group(2)
        slot = key + index
        if slot not in bindings:
            if key not in lexicon:
                raise UserError(f"behaviour suite: unknown placeholder {{{slot}}} in {template!r}")
            taken = {value for name, value in bindings.items() if name.rstrip("0123456789") == key}
            choices = [value for value in lexicon[key] if value not in taken] or lexicon[key]
            bindings[slot] = fill_value(rng.choice(choices), lexicon, rng, bindings)
        return bindings[slot]

    return _ARTICLE.sub(lambda m: m.group(1) + "n ", _PLACEHOLDER.sub(choose, template))


def expand(template: str, lexicon: dict[str, list[str]], rng: random.Random, count: int) -> list[Template]:
    """Up to `count` distinct fillings of one template."""
    found: dict[str, Template] = {}
    for _ in range(count * _TRIES_PER_CASE):
        if len(found) >= count:
            break
        bindings: dict[str, str] = {}
        text = fill(template, lexicon, rng, bindings)
        found.setdefault(text, Template(template, bindings, text))
    return list(found.values())


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random("|".join(map(str, (seed, *parts))))  # str seeds hash with SHA-512: stable everywhere


def build_suite(suite: dict | None = None, lexicon: dict | None = None) -> list[BehaviourTest]:
    """Every test of the suite with its generated cases (the packaged suite unless one is given)."""
    from .perturb import perturbed_pairs

    suite = suite or _resource("suite.json")
    lexicon = lexicon or _resource("lexicon.json")
    lexicon = {key: values for key, values in lexicon.items() if isinstance(values, list)}
    seed, count = suite["seed"], suite["cases_per_template"]
    reviews = [filled for index, template in enumerate(suite["reviews"])
               for filled in expand(template, lexicon, _rng(seed, "reviews", index), count)]
    tests = []
    for spec in suite["tests"]:
        if spec["type"] not in KINDS:
            raise UserError(f"behaviour suite: test {spec['name']!r} has unknown type {spec['type']!r}")
        test = BehaviourTest(spec["name"], spec["capability"], spec["type"])
        if spec["type"] == "INV":
            rng = _rng(seed, spec["name"])
            test.cases = [Case(text, perturbed=changed)
                          for text, changed in perturbed_pairs(reviews, spec["perturbation"], lexicon, rng)]
        for index, template in enumerate(spec.get("templates", [])):
            rng = _rng(seed, spec["name"], index)
            for filled in expand(template["text"], lexicon, rng, count):
                if spec["type"] == "MFT":
                    test.cases.append(Case(filled.text, label=int(template["label"] == "positive")))
                else:
                    perturbed = fill(template["perturbed"], lexicon, rng, dict(filled.bindings))
                    test.cases.append(Case(filled.text, perturbed=perturbed, direction=template["direction"]))
        tests.append(test)
    return tests


def dir_tolerance() -> float:
    return float(_resource("suite.json")["dir_tolerance"])
