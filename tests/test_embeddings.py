"""Word vectors from co-occurrences (PPMI + SVD): words of the same contexts get similar vectors."""

from __future__ import annotations

import numpy as np

from lstm_sentiment.data.prepare import flatten_documents
from lstm_sentiment.data.vocab import Vocabulary
from lstm_sentiment.embeddings import cooccurrence_counts, ppmi_svd_vectors


def test_counts_respect_window_and_document_boundaries():
    flat = np.array([2, 3, 4, -1, 5, 2, -1])
    counts = cooccurrence_counts(flat, vocab_size=6, window=2).toarray()
    assert counts[2, 3] == counts[3, 2] == 1.0  # neighbours, full weight
    assert counts[2, 4] == 0.5  # two apart: weight (2 - 2 + 1) / 2
    assert counts[4, 5] == 0 and counts[3, 5] == 0  # never across a document boundary
    assert counts[5, 2] == 1.0 and counts[:2].sum() == 0  # padding and unknown never counted


def test_vectors_group_words_by_topic_and_are_small():
    rng = np.random.default_rng(0)
    documents = [np.append(rng.integers(2 + 50 * (d % 2), 52 + 50 * (d % 2), size=40), -1) for d in range(600)]
    vectors = ppmi_svd_vectors(np.concatenate(documents), vocab_size=102, dim=16)
    assert vectors.shape == (102, 16) and vectors.dtype == np.float32
    assert not vectors[:2].any() and abs(vectors[2:].std() - 0.05) < 1e-3
    unit = vectors[2:] / np.linalg.norm(vectors[2:], axis=1, keepdims=True)
    same, across = (unit[:50] @ unit[:50].T).mean(), (unit[:50] @ unit[50:].T).mean()
    assert same > 0.5 and abs(across) < 0.1


def test_flatten_documents_marks_boundaries_with_minus_one():
    vocab = Vocabulary(["<pad>", "<unk>", "good", "film"])
    flat = flatten_documents([["good", "film"], ["odd"]], vocab)
    assert flat.tolist() == [2, 3, -1, 1, -1]
