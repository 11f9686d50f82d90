"""Vocabulary aliases (data/aliases.py, data.word_aliases): family aliases by stem, neighbour aliases by word
vectors, their thresholds, how the vocabulary encodes, saves and refuses them, and training data using them."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from lstm_sentiment.config import DataConfig
from lstm_sentiment.data.aliases import NEIGHBOUR_MIN_COUNT, STEM_MIN_COUNT, build_aliases, stem_aliases
from lstm_sentiment.data.prepare import prepare
from lstm_sentiment.data.sources import Reviews
from lstm_sentiment.data.vocab import UNK_ID, Vocabulary
from lstm_sentiment.errors import UserError


def _vocab(*words: str) -> Vocabulary:
    return Vocabulary(["<pad>", "<unk>", *words])


def test_a_family_alias_shares_the_stem_and_the_longest_prefix():
    vocab = _vocab("admirable", "admire", "dislike", "film")
    counts = Counter({"admired": 5, "disliked": 3, "dislikes": STEM_MIN_COUNT, "films": 9, "admire": 4,
                      "disliking": STEM_MIN_COUNT - 1, "zebra": 7})
    aliases = stem_aliases(counts, vocab)
    # "admired" shares the stem "admir" with both; "admire" shares more of its spelling than "admirable"
    assert aliases == {"admired": "admire", "disliked": "dislike", "dislikes": "dislike", "films": "film"}


def _corpus_with_synonym(times: int) -> list[list[str]]:
    """"despise" is used exactly as "hate" is, "adore" as "love": their contexts are the only evidence."""
    documents = []
    for i in range(times):
        documents.append(["i", "hate", "this", "awful", "dull", "movie", str(i % 7)])
        documents.append(["i", "despise", "this", "awful", "dull", "movie", str(i % 5)])
        documents.append(["we", "love", "that", "great", "fun", "show", str(i % 3)])
        documents.append(["we", "adore", "that", "great", "fun", "show", str(i % 4)])
    return documents


def test_a_neighbour_alias_is_the_word_used_in_the_same_contexts():
    documents = _corpus_with_synonym(NEIGHBOUR_MIN_COUNT)
    vocab = _vocab("i", "hate", "this", "awful", "dull", "movie", "we", "love", "that", "great", "fun", "show")
    aliases = build_aliases(documents, vocab, "neighbours")
    assert aliases["despise"] == "hate" and aliases["adore"] == "love"
    assert build_aliases(documents, vocab, "stems").get("despise") is None  # no family member in the vocabulary
    assert build_aliases(documents, vocab, "none") == {}
    # seen too rarely for a vector to mean anything: left unknown
    rare = build_aliases(_corpus_with_synonym(NEIGHBOUR_MIN_COUNT - 1), vocab, "neighbours")
    assert "despise" not in rare and "adore" not in rare


def test_aliases_encode_as_their_token_and_add_no_id(tmp_path):
    vocab = _vocab("dislike", "film").with_aliases({"disliked": "dislike"})
    assert vocab.size == 4 and vocab.encode(["disliked", "film", "zebra"]) == [2, 3, UNK_ID]
    assert "disliked" not in vocab.index  # a token's index holds tokens only
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(tmp_path / "vocab.json")
    assert loaded.aliases == {"disliked": "dislike"} and loaded.encode(["disliked"]) == [2]
    assert json.loads((tmp_path / "vocab.json").read_text())["format_version"] == 2


def test_a_vocabulary_without_aliases_is_written_as_before(tmp_path):
    _vocab("film").save(tmp_path / "vocab.json")
    assert json.loads((tmp_path / "vocab.json").read_text()) == {
        "format_version": 1, "tokenizer_version": json.loads((tmp_path / "vocab.json").read_text())["tokenizer_version"],
        "tokens": ["<pad>", "<unk>", "film"]}


@pytest.mark.parametrize("aliases", [{"film": "film"}, {"films": "movie"}, {"films": "<unk>"}, {"films": 3},
                                     ["films"]])
def test_a_wrong_alias_is_refused_naming_the_file(tmp_path, aliases):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"format_version": 2, "tokens": ["<pad>", "<unk>", "film"], "aliases": aliases}))
    with pytest.raises(UserError, match="vocab.json"):
        Vocabulary.load(path)


def test_training_data_reads_aliases_and_the_option_is_checked():
    train = Reviews(["the film was bad", "the film was good", "films films", "the film was"], [0, 1, 1, 0])
    splits = {"train": train, "validation": train, "test": train}
    vocab, encoded, _ = prepare(splits, DataConfig(num_words=5, word_aliases="stems"))
    assert vocab.tokens == ["<pad>", "<unk>", "film", "the", "was"] and vocab.aliases == {"films": "film"}
    assert encoded["train"].ids[2, -2:].tolist() == [2, 2]  # "films films" reads as "film film"
    assert "bad" not in vocab.aliases  # seen once: no alias (and no family member either)
    plain, _, _ = prepare(splits, DataConfig(num_words=5))
    assert plain.aliases == {}
    with pytest.raises(UserError, match="data.word_aliases"):
        DataConfig(word_aliases="lemmas").validate()
