"""Property-based tests (hypothesis) of text preparation, vocabulary encoding and padding/truncation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_sentiment.data.text import clean, tokenize, word_count
from lstm_sentiment.data.vocab import PAD, PAD_ID, UNK, UNK_ID, Vocabulary, pad_sequences

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
html_ish = st.lists(st.sampled_from(["good", "BAD", "<br />", "<br/>", "<BR>", "&amp;", "&lt;", "&gt;", "br", "r",
                                     "don't", "!", "...", " ", "\t", "\x00", "\x7f", "é", "ß", "İ", "😀", "&#65;",
                                     "&lt;b&gt;", "&amp;lt;br /&amp;gt;"]), max_size=40).map("".join)
id_lists = st.lists(st.lists(st.integers(min_value=2, max_value=500), max_size=40), max_size=12)


@given(st.one_of(texts, html_ish))
def test_cleaning_is_idempotent_and_lower_case(text):
    cleaned = clean(text)
    assert clean(cleaned) == cleaned
    assert cleaned == cleaned.lower()
    assert "<br>" not in cleaned and "<br />" not in cleaned  # line breaks never survive, escaped or not


@given(st.one_of(texts, html_ish))
def test_tokens_are_non_empty_without_spaces_and_stable(text):
    tokens = tokenize(text)
    assert all(token and not any(ch.isspace() for ch in token) for token in tokens)
    assert tokenize(" ".join(tokens)) == tokens  # tokenizing the tokens again changes nothing
    assert word_count(text) >= 0


@given(st.lists(st.lists(st.sampled_from(list("abcdefgh")), max_size=20), max_size=20),
       st.integers(min_value=2, max_value=12))
def test_vocabulary_ids_are_in_range_and_round_trip(documents, num_words):
    vocab = Vocabulary.build(documents, num_words)
    assert vocab.tokens[:2] == [PAD, UNK] and vocab.size <= num_words
    assert len(set(vocab.tokens)) == vocab.size
    for tokens in documents:
        ids = vocab.encode(tokens)
        assert len(ids) == len(tokens)
        assert all(1 <= i < vocab.size for i in ids)  # never the padding id
        assert [vocab.tokens[i] if i != UNK_ID else t for i, t in zip(ids, tokens)] == tokens


@settings(max_examples=200)
@given(id_lists, st.integers(min_value=1, max_value=50), st.sampled_from(["pre", "post"]),
       st.sampled_from(["pre", "post", "middle"]))
def test_padding_keeps_the_right_tokens_on_the_right_side(sequences, maxlen, padding, truncating):
    ids, lengths = pad_sequences(sequences, maxlen, padding, truncating)
    assert ids.shape == (len(sequences), maxlen) and ids.dtype == np.int64
    for row, sequence in enumerate(sequences):
        n = min(len(sequence), maxlen)
        assert lengths[row] == n
        head = maxlen // 4 if truncating == "middle" and len(sequence) > maxlen else 0
        kept = {"pre": sequence[-maxlen:], "post": sequence[:maxlen],
                "middle": sequence[:head] + sequence[len(sequence) - (n - head):]}[truncating]
        valid = ids[row, maxlen - n:] if padding == "pre" else ids[row, :n]
        pads = ids[row, : maxlen - n] if padding == "pre" else ids[row, n:]
        assert valid.tolist() == list(kept)
        assert (pads == PAD_ID).all()
