"""The Stanford Sentiment Treebank (Socher et al. 2013) read as binary sentiment data, like SST-2.

Every node of a tree (every phrase, down to single words) carries a label 0-4; 0-1 count as negative, 3-4 as
positive, and 2 (neutral) is dropped. Sentences of train/dev/test become the train/validation/test splits (the
official split, never re-drawn); `phrases=True` adds every labelled phrase of the training trees as an extra
training example: phrase labels are what teach a model that "not bad" is not "bad".
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .composition import composed_examples
from .idioms import idiom_examples
from .lexicon import lexicon_examples
from .negation import negated_examples
from .verb_opinions import training_examples as verb_examples
from .wordings import WORDINGS

SPLIT_FILES = {"train": "train.txt", "validation": "dev.txt", "test": "test.txt"}
_TOKEN = re.compile(r"\(|\)|[^\s()]+")
# PTB escapes and split clitics, put back so treebank text reads like a user's ("does n't" -> "doesn't")
_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}", "``": '"', "''": '"'}
_CLITIC = re.compile(r"^(?:n't|'s|'re|'ve|'ll|'d|'m)$", re.IGNORECASE)


@dataclass(frozen=True)
class TreebankOptions:
    """What a treebank source adds to its training sentences (other sources ignore these; see DataConfig)."""
    phrases: bool = False  # every labelled phrase of the training trees
    graded: bool = False  # five-point labels as soft targets, neutral examples kept
    negations: int = 0  # negated variants per clear copula phrase (negation.py)
    compositions: int = 0  # composed examples per clear opinion (composition.py)
    balance_compositions: bool = False  # as many positive as negative targets per construction
    negation_strength: float = 0.5  # distance from neutral a negated opinion keeps, mirrored (negation.py)
    composition_wordings: str = "standard"  # wordings.WORDINGS
    verb_opinions: int = 0  # constructions per verb and object (verb_opinions.py)
    verb_lexicon: str = "standard"  # verb_opinions.LEXICONS
    lexicon_words: str = "none"  # "vader", "vader-calibrated" (lexicon.py): an opinion lexicon's words the trees lack
    idioms: int = 0  # subjects each set phrase of idioms.json is said about

    @classmethod
    def of(cls, config) -> TreebankOptions:
        """From a DataConfig."""
        return cls(config.phrases, config.treebank_labels == "graded", config.negations, config.compositions,
                   config.balance_compositions, config.negation_strength, config.composition_wordings,
                   config.verb_opinions, config.verb_lexicon, config.lexicon_words, config.idioms)


SENTENCES_ONLY = TreebankOptions()  # the treebank as SST-2: its sentences, nothing added


@dataclass(frozen=True)
class Phrase:
    text: str
    label: int  # 0-4, as in the treebank
    is_root: bool


def binary_label(label: int) -> int | None:
    """SST-2's rule: 0-1 negative (0), 3-4 positive (1), neutral 2 dropped (None)."""
    return 0 if label <= 1 else 1 if label >= 3 else None


def detokenize(words: list[str]) -> str:
    """Join treebank tokens into plain text: brackets unescaped, clitics re-attached."""
    pieces: list[str] = []
    for word in words:
        word = _BRACKETS.get(word, word).replace("\\/", "/")
        if pieces and _CLITIC.match(word):
            pieces[-1] += word
        else:
            pieces.append(word)
    return " ".join(pieces)


def parse_tree(line: str, where: str) -> list[Phrase]:
    """Every labelled node of one bracketed tree, the root first."""
    tokens = _TOKEN.findall(line)
    phrases: list[Phrase] = []
    position = 0

    def node(depth: int) -> list[str]:
        nonlocal position
        if depth > 200:
            raise UserError(f"{where}: tree nested deeper than 200 levels")
        if position + 1 >= len(tokens) or tokens[position] != "(" or not tokens[position + 1].isdigit():
            raise UserError(f"{where}: malformed tree near token {position + 1} (expected '(LABEL ...')")
        label = int(tokens[position + 1])
        if not 0 <= label <= 4:
            raise UserError(f"{where}: label {label} outside 0-4")
        position += 2
        slot = len(phrases)
        phrases.append(Phrase("", label, depth == 0))
        words: list[str] = []
        while position < len(tokens) and tokens[position] != ")":
            if tokens[position] == "(":
                words += node(depth + 1)
            else:
                words.append(tokens[position])
                position += 1
        if position >= len(tokens):
            raise UserError(f"{where}: unbalanced brackets (a '(' is never closed)")
        position += 1
        if not words:
            raise UserError(f"{where}: a node without words")
        phrases[slot] = Phrase(detokenize(words), label, depth == 0)
        return words

    node(0)
    if position != len(tokens):
        raise UserError(f"{where}: text after the end of the tree")
    return phrases


def read_trees(lines: Iterator[str], where: str) -> Iterator[list[Phrase]]:
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield parse_tree(line, f"{where}:{number}")


def is_treebank(path: Path) -> bool:
    """A treebank zip (trees/train.txt inside) or a folder holding train.txt, dev.txt and test.txt (or trees/)."""
    if path.is_dir():
        root = path / "trees" if (path / "trees").is_dir() else path
        return all((root / name).is_file() for name in SPLIT_FILES.values())
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("trees/train.txt") or name == "train.txt" for name in archive.namelist())
    return False


def split_texts(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Split name -> (where, lines) for a zip or a folder."""
    found = {}
    if path.is_dir():
        root = path / "trees" if (path / "trees").is_dir() else path
        for split, name in SPLIT_FILES.items():
            file = root / name
            found[split] = (str(file), _decode(file.read_bytes(), str(file)).splitlines())
        return found
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            for split, name in SPLIT_FILES.items():
                member = next((n for n in names if n == name or n.endswith("/" + name)), None)
                if member is None:
                    raise UserError(f"{path}: no {name} in the archive (expected trees/train.txt, dev.txt, test.txt)")
                info = archive.getinfo(member)
                if info.file_size > 64 << 20:
                    raise UserError(f"{path}:{member}: {info.file_size:,} bytes, larger than any treebank split")
                where = f"{path}:{member}"
                found[split] = (where, _decode(archive.read(member), where).splitlines())
    except zipfile.BadZipFile as exc:
        raise UserError(f"{path}: not a readable zip archive ({exc})") from None
    return found


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None


def binary_examples(trees: list[list[Phrase]], options: TreebankOptions = SENTENCES_ONLY
                    ) -> list[tuple[str, int, float | None]]:
    """(text, 0/1, target) for every non-neutral sentence; with options.phrases, then every non-neutral phrase not
    seen before. options.graded: neutral examples are kept too and every target is label/4 (0, 0.25, 0.5, 0.75,
    1), so that "not bad" (often labelled neutral) teaches "not negative" instead of being dropped; target None
    otherwise. Negated, composed, verb, lexicon and idiom examples come after the rest, each text once."""
    examples, seen = [], set()

    def keep(phrase: Phrase) -> None:
        label = binary_label(phrase.label)
        if options.graded:
            examples.append((phrase.text, int(phrase.label >= 2), phrase.label / 4))
        elif label is not None:
            examples.append((phrase.text, label, None))

    def add(text: str, target: float) -> None:
        if text not in seen:
            seen.add(text)
            examples.append((text, int(target > 0.5), target if options.graded else None))

    for tree in trees:
        seen.add(tree[0].text)
        keep(tree[0])
    if options.phrases:
        for tree in trees:
            for phrase in tree[1:]:
                if phrase.text not in seen:
                    seen.add(phrase.text)
                    keep(phrase)
    for tree in trees if options.negations else []:
        for text, target in negated_examples(tree, options.negations, options.negation_strength):
            add(text, target)
    if options.compositions:
        for text, target, _ in composed_examples(trees, options.compositions, options.balance_compositions,
                                                 options.negation_strength, WORDINGS[options.composition_wordings]):
            add(text, target)
    if options.verb_opinions:
        for text, target, _ in verb_examples(trees, options.verb_opinions, options.negation_strength,
                                                options.verb_lexicon):
            add(text, target)
    if options.lexicon_words != "none":
        alone = {text.lower(): float(label) if target is None else target for text, label, target in examples
                 if " " not in text}
        for text, target in lexicon_examples(options.lexicon_words, seen, alone):
            add(text, target)
    if options.idioms:
        for text, target in idiom_examples(trees, options.idioms):
            add(text, target)
    return examples
