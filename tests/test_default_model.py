"""The model shipped inside the package: small, loadable without training, right on obvious reviews."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from safetensors import safe_open

from lstm_sentiment.cli import main
from lstm_sentiment.config import FORMAT_VERSION
from lstm_sentiment.predict import default_model_dir, load_model

pytestmark = pytest.mark.skipif(default_model_dir() is None, reason="this checkout ships no default model")

OBVIOUS = {
    "What a wonderful film: moving, funny and beautifully acted. I loved every minute of it.": "positive",
    "One of the best movies I have ever seen. A masterpiece, highly recommended!": "positive",
    "A brilliant, touching story with a superb cast. Go and see it.": "positive",
    "Terrible. A boring, stupid plot, awful acting and a waste of two hours.": "negative",
    "The worst movie I have seen in years; dull, badly written and painfully long.": "negative",
    "I want my money back. Poorly directed, the script is garbage and the jokes fall flat.": "negative",
}


def test_shipped_files_are_small_safetensors_and_json():
    folder = default_model_dir()
    names = {p.name for p in folder.iterdir() if p.is_file()}
    assert {"model.safetensors", "config.json", "vocab.json"} <= names
    assert not any(n.endswith((".pt", ".pkl", ".pickle", ".bin")) for n in names)
    assert sum((folder / n).stat().st_size for n in names) <= 25 * 1000 * 1000  # issue 22's limit
    config = json.loads((folder / "config.json").read_text())
    assert config["train"]["seed"] == 0 and config["weights_dtype"] == "float16"
    with safe_open(folder / "model.safetensors", "pt") as weights:
        names = weights.keys()  # safe_open is not iterable itself
        assert all(str(weights.get_tensor(k).dtype) == "torch.float16" for k in names)


def test_default_model_classifies_obvious_reviews():
    predictions = load_model().predict(list(OBVIOUS))
    assert [p.label for p in predictions] == list(OBVIOUS.values())
    assert all(abs(p.probability - 0.5) > 0.3 for p in predictions)  # confidently, not by a hair


def test_predict_without_model_uses_the_shipped_one(capsys):
    assert main(["predict", "--json", "What a wonderful film"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["label"] == "positive" and line["probability"] > 0.5


def test_the_shipped_model_records_its_data_and_both_test_sets():
    metrics = json.loads((default_model_dir() / "metrics.json").read_text())
    assert {source["kind"] for source in metrics["data_sources"]} == {"imdb", "sst"} and metrics["phrases"] is True
    assert metrics["split"] == "test" and metrics["accuracy"] == metrics["test_sets"]["imdb"]
    assert 0.5 < metrics["test_sets"]["sst2"] <= 1 and 0 <= metrics["check"]["mft_pass_rate"] <= 1
    config = json.loads((default_model_dir() / "config.json").read_text())
    # written at format 17; later formats read it with the keys added since at their defaults
    assert config["format_version"] == 17 <= FORMAT_VERSION and config["data"]["treebank_labels"] == "graded"
    assert config["data"]["negations"] == metrics["negations"] == 3
    # the seven constructions and the negated limit, balanced
    assert config["data"]["compositions"] == metrics["compositions"] == 8 and config["data"]["balance_compositions"]
    assert config["data"]["negation_strength"] == metrics["negation_strength"] == 1.0
    # the treebank's one-word labelled phrases joined the vocabulary beyond the 5,000 most frequent words
    assert config["data"]["labelled_words"] is metrics["labelled_words"] is True
    assert config["vocab_size"] > config["data"]["num_words"] == 5000
    # first-person verb opinions ("I didn't cherish it") in four constructions per verb and object
    assert config["data"]["verb_opinions"] == metrics["verb_opinions"] == 4
    # VADER's clear words the trees lack, a member that leaves sentences with a negator (whole) and contrasted
    # clauses to the LSTM, sentences mixed apart from reviews, and those it reads nothing of mixed apart again
    assert config["data"]["lexicon_words"] == metrics["lexicon_words"] == "vader"
    assert config["ngram"]["negation_scope"] == "sentence" and config["ngram"]["sentence_mix_words"] == 60
    assert config["ngram"]["unread_mix"] == "balanced"
    # the set phrases of idioms.json, each said of eight subjects
    assert config["data"]["idioms"] == metrics["idioms"] == 8


def test_the_shipped_model_carries_its_ngram_member_as_json_and_safetensors():
    names = {p.name for p in default_model_dir().iterdir()}
    assert {"ngram.json", "ngram.safetensors"} <= names
    member = load_model().ngram
    assert member is not None and member.negation_scope == "sentence" and member.sentence_mix["words"] == 60
    assert member.unread_mix is not None and member.unread_mix["ngram"] == 0.0
    # "Not bad at all." is a sentence the member reads nothing of: its unread mix decides it
    scores = member.scores([["not", "bad", "at", "all", "."]])
    assert scores.unread.tolist() == [True]


# issue 22's sentences, all six of which this model gets right (a regression guard; "Not boring for a second."
# is the narrowest, 0.75, and "I can't praise it enough." 0.76; "praise" is not among data.verb_opinions' verbs)
NEGATIONS = {"Not bad at all.": "positive", "I can't praise it enough.": "positive", "Not boring for a second.": "positive",
             "I expected the sequel to be awful, but it wasn't.": "positive",
             "This was not good at all.": "negative", "The lead isn't charming.": "negative"}


def test_the_shipped_model_reads_these_negations_the_right_way():
    assert [p.label for p in load_model().predict(list(NEGATIONS))] == list(NEGATIONS.values())


def test_rare_opinion_words_have_their_own_embedding():
    """Words the treebank labels on their own but IMDb uses too rarely for the 5,000 most frequent."""
    tokens = json.loads((default_model_dir() / "vocab.json").read_text())["tokens"]
    assert "loathe" in tokens[5000:]
    # data.verb_opinions' verbs are in it too ("cherish" is now frequent enough to rank among the 5,000)
    assert {"abhorred", "prized", "cherish"} <= set(tokens)
    assert {"despise", "adore"} <= set(tokens)  # VADER's words (data.lexicon_words), no training tree's


def test_scoring_imports_neither_scikit_learn_nor_scipy():
    """They serve training only (word vectors, metrics, the member's fit) and cost about 1 s of `predict`'s cold
    start (issue 22's target: 3 s), so the modules scoring needs must not pull them in."""
    code = ("import sys, lstm_sentiment.predict, lstm_sentiment.explain, lstm_sentiment.ngram; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
