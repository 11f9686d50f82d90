"""Word vectors from IMDb's own text, before any label is seen: the SVD of the positive pointwise mutual
information (PPMI) matrix of word co-occurrences (Levy, Goldberg & Dagan, 2015).

Training reviews plus the 50k unlabelled ones give ~20M tokens; counting co-occurrences and a randomized
truncated SVD take a minute or two on 2 cores, far less than training word2vec, with comparable vectors at this
scale. The classifier starts from these vectors instead of noise, so its few epochs go to sentiment, not to
learning what words mean.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.utils.extmath import randomized_svd

from .data.vocab import PAD_ID, UNK_ID


def cooccurrence_counts(flat_ids: np.ndarray, vocab_size: int, window: int) -> sparse.csr_matrix:
    """Symmetric counts of word pairs at most `window` apart, weighted (window - d + 1) / window as word2vec's
    dynamic window does on average. flat_ids = all documents' ids, each document followed by one -1."""
    counts = sparse.csr_matrix((vocab_size, vocab_size), dtype=np.float64)
    for distance in range(1, window + 1):
        left, right = flat_ids[:-distance], flat_ids[distance:]
        keep = (left > UNK_ID) & (right > UNK_ID)  # neither padding, unknown nor a document boundary
        gap = np.ones_like(left, dtype=bool)
        for step in range(1, distance):  # a pair may not span a boundary (-1) lying between its two words
            gap &= flat_ids[step: len(flat_ids) - distance + step] != -1
        keep &= gap
        rows, cols = left[keep], right[keep]
        weight = np.full(len(rows), (window - distance + 1) / window)
        block = sparse.coo_matrix((weight, (rows, cols)), shape=(vocab_size, vocab_size)).tocsr()
        counts = counts + block + block.T
    return counts


def ppmi(counts: sparse.csr_matrix, context_smoothing: float = 0.75) -> sparse.csr_matrix:
    """max(0, log P(w, c) / (P(w) P_alpha(c))), with context frequencies raised to `context_smoothing`, which
    keeps rare contexts from dominating."""
    counts = counts.tocoo()
    total = counts.sum()
    word = np.asarray(counts.sum(axis=1)).ravel()
    context = np.asarray(counts.sum(axis=0)).ravel() ** context_smoothing
    context_total = context.sum()
    # log P(w, c) - log P(w) - log P_alpha(c); every stored count is positive, so every log is finite
    values = np.log(counts.data / total) - np.log(word[counts.row] / total) - np.log(context[counts.col] / context_total)
    positive = values > 0
    return sparse.csr_matrix((values[positive], (counts.row[positive], counts.col[positive])), shape=counts.shape)


def ppmi_svd_vectors(flat_ids: np.ndarray, vocab_size: int, dim: int, window: int = 5, seed: int = 0,
                     scale: float = 0.05) -> np.ndarray:
    """[vocab_size, dim] float32 vectors; rows for padding and unknown are zero. Entries are rescaled to a
    standard deviation of `scale`, the size of the default uniform initialisation, so the LSTM's gates start out
    of saturation as they would from random embeddings."""
    matrix = ppmi(cooccurrence_counts(flat_ids, vocab_size, window))
    k = min(dim, vocab_size - 1)
    left, singular, _ = randomized_svd(matrix, n_components=k, n_iter=4, random_state=seed)
    vectors = np.zeros((vocab_size, dim), dtype=np.float64)
    vectors[:, :k] = left * np.sqrt(singular)  # symmetric weighting of U and S (eigenvalue weighting p = 0.5)
    vectors[[PAD_ID, UNK_ID]] = 0.0
    used = vectors[2:]
    spread = used.std()
    if spread > 0:
        vectors *= scale / spread
    return vectors.astype(np.float32)
