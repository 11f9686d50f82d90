"""Text preparation: strip HTML line breaks, lower-case, split into words and punctuation."""

from __future__ import annotations

import html
import re

TOKENIZER_VERSION = 2  # 2: cleaning repeats until nothing changes (double-escaped HTML such as "&amp;lt;br&amp;gt;")
_BREAKS = re.compile(r"<br\s*/?>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Words keep inner apostrophes ("don't", "isn't") so negations survive as single tokens;
# every other non-space symbol ("!", "?", "...") is a token of its own.
_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def clean(text: str) -> str:
    """Remove HTML line breaks and entities and control characters; lower-case. Idempotent: escaped markup
    ("&lt;br /&gt;", "&amp;amp;") is unescaped and cleaned again until nothing changes."""
    for _ in range(8):  # each round removes one level of escaping; real text needs one or two
        cleaned = _clean_once(text)
        if cleaned == text or ("&" not in cleaned and "<" not in cleaned):
            return cleaned
        text = cleaned
    return text


def _clean_once(text: str) -> str:
    text = _BREAKS.sub(" ", text)
    text = html.unescape(text) if "&" in text else text
    text = _CONTROL.sub(" ", text)
    return text.lower()


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(clean(text))


def word_count(text: str) -> int:
    """Review length in words, as reported by `data stats` and the by-length evaluation."""
    return len(_BREAKS.sub(" ", text).split())
