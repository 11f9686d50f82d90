"""`data stats`: counts per split and label, review lengths in words, vocabulary size."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .sources import Corpus, Reviews
from .text import tokenize, word_count


def length_summary(reviews: Reviews) -> dict:
    words = np.array([word_count(t) for t in reviews.texts]) if len(reviews) else np.zeros(1)
    return {"mean": round(float(words.mean()), 1), "median": float(np.median(words)),
            "p90": round(float(np.percentile(words, 90)), 1), "max": int(words.max())}


def corpus_stats(corpus: Corpus) -> dict:
    splits = {}
    for name in ("train", "validation", "test", "unsup"):
        if name == "validation" and corpus.validation is None:
            continue  # carved out of train when a run starts; only the treebank brings its own
        reviews: Reviews = getattr(corpus, name)
        if name == "test" and not corpus.has_test_split:
            continue
        labels = Counter(reviews.labels)
        entry = {"total": len(reviews)}
        if name != "unsup":
            entry.update({"positive": labels.get(1, 0), "negative": labels.get(0, 0)})
        if len(reviews):
            entry["length_words"] = length_summary(reviews)
        splits[name] = entry
    vocabulary = set()
    for text in corpus.train.texts:
        vocabulary.update(tokenize(text))
    return {"source": corpus.source, "splits": splits, "vocabulary_size": len(vocabulary),
            "skipped_rows": corpus.skipped_rows}


def format_stats(stats: dict) -> str:
    header = (f"{'split':<11}{'total':>9}{'positive':>10}{'negative':>10}"
              f"{'mean':>8}{'median':>8}{'p90':>8}{'max':>8}   (length in words)")
    lines = [f"source: {stats['source']}", header]
    for name, entry in stats["splits"].items():
        length = entry.get("length_words", {})
        lines.append(f"{name:<11}{entry['total']:>9,}{entry.get('positive', '-'):>10}{entry.get('negative', '-'):>10}"
                     f"{length.get('mean', '-'):>8}{length.get('median', '-'):>8}{length.get('p90', '-'):>8}"
                     f"{length.get('max', '-'):>8}")
    lines.append(f"vocabulary size (distinct training tokens): {stats['vocabulary_size']:,}")
    if stats["skipped_rows"]:
        lines.append(f"skipped bad rows: {stats['skipped_rows']}")
    return "\n".join(lines)


def token_lengths(reviews: Reviews) -> np.ndarray:
    """Tokens per review as the model counts them (maxlen applies to these)."""
    return np.array([len(tokenize(t)) for t in reviews.texts], dtype=np.int64)


def frequent_words(reviews: Reviews, label: int, k: int = 15) -> list[tuple[str, int]]:
    """The k most frequent words in reviews of one label, English stop words and punctuation left out."""
    counts: Counter[str] = Counter()
    for text, value in zip(reviews.texts, reviews.labels):
        if value == label:
            counts.update(t for t in tokenize(text) if t.isalpha() and t not in ENGLISH_STOP_WORDS and len(t) > 1)
    return counts.most_common(k)


def plot_stats(corpus: Corpus, maxlen: int, path) -> dict:
    """Class balance per split, token-length histogram with maxlen marked, frequent words per class; returns the
    share of training reviews that maxlen truncates."""
    from ..plots import plot_data_overview

    lengths = token_lengths(corpus.train)
    truncated = float((lengths > maxlen).mean()) if len(lengths) else 0.0
    balance = {name: Counter(getattr(corpus, name).labels) for name in ("train", "test")
               if name == "train" or corpus.has_test_split}
    words = {label: frequent_words(corpus.train, label) for label in (1, 0)}
    plot_data_overview(balance, lengths, maxlen, truncated, words, path, corpus.source)
    return {"maxlen": maxlen, "truncated_share": truncated}
