"""The n-gram member (ngram.py, ngram_fit.py): its features, fit and mix, files without pickle, and every command
that uses a model working with it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from conftest import TINY_CONFIG, copy_model_dir, train_tiny_run
from lstm_sentiment.cli import main
from lstm_sentiment.config import Config, NgramConfig
from lstm_sentiment.config_io import layered_config
from lstm_sentiment.errors import UserError
from lstm_sentiment.explain import explain
from lstm_sentiment.model_dir import load_model_files, pack_model
from lstm_sentiment.ngram import NGRAM_FILE, NGRAM_WEIGHTS, NgramMember, features, mark_negation_scope, ngrams
from lstm_sentiment.ngram_fit import construction_mix_set, example_weights, fit_mix, fit_ngram_weights
from lstm_sentiment.predict import load_model
from test_composition import ASIDE, SUPERB
from test_negation import DREADFUL, write_treebank

CPU = torch.device("cpu")
NGRAM_CONFIG = TINY_CONFIG + "\n[ngram]\norder = 3\nmin_count = 1\n"
REVIEWS = ["great wonderful film", "awful boring plot and dull", "the movie was not awful", "loved it"]


@pytest.fixture(scope="module")
def ngram_run(tmp_path_factory, small_archive):
    return train_tiny_run(tmp_path_factory.mktemp("ngram"), small_archive, 2, NGRAM_CONFIG)


def test_ngrams_lists_every_gram_up_to_the_order():
    assert ngrams(["not", "bad", "at", "all"], 3) == ["not", "bad", "at", "all", "not bad", "bad at", "at all",
                                                     "not bad at", "bad at all"]
    assert ngrams(["one"], 3) == ["one"] and ngrams([], 2) == []


def test_negation_scope_runs_from_the_negator_to_the_next_punctuation_or_but():
    tokens = ["not", "bad", "at", "all", ".", "it", "isn't", "good", "but", "fun"]
    assert mark_negation_scope(tokens) == ["not", "¬bad", "¬at", "¬all", ".", "it", "isn't", "¬good", "but", "fun"]
    assert features(["never", "dull"], 2, "mark") == ["never", "¬dull", "never ¬dull"]
    assert features(["never", "dull"], 2, "keep") == ["never", "dull", "never dull"]
    # "drop": nothing of the negated phrase, and no n-gram across the gap it leaves
    assert features(["a", "film", "not", "bad", ",", "fun"], 2, "drop") == ["a", "film", "a film", ",", "fun", ", fun"]


def test_clause_scope_reads_only_what_decides_each_sentence():
    from lstm_sentiment.data.text import tokenize

    def read(text: str) -> list[str]:
        return features(tokenize(text), 1, "clause")

    # the negation's scope runs past the aside's commas to the end of its sentence, and no further
    assert read("I wouldn't say, in Tokyo, that it was great. The music is lovely!") == \
        ["i", "the", "music", "is", "lovely", "!"]
    # the clause after the last contrast decides; before it nothing is read
    assert read("I expected a poor drama, but it was terrific.") == ["it", "was", "terrific", "."]
    assert read("Dull, however it grows, but not bad.") == []
    # sentences without an operator are read whole, and n-grams never span a dropped stretch
    assert features(tokenize("Fine acting but weak plot"), 2, "clause") == ["weak", "plot", "weak plot"]
    assert features(["good", "fun"], 2, "clause") == features(["good", "fun"], 2, "drop")
    # fitted with it, a contrasted clause teaches the member nothing: only what follows "but" gets a weight
    texts = [tokenize("dull, but great"), tokenize("great, but dull")] * 5
    grams, weights, _ = fit_ngram_weights(texts, [1, 0] * 5, np.ones(10),
                                          NgramConfig(order=1, min_count=1, negation_scope="clause"))
    weight = dict(zip(grams, weights))
    assert weight["great"] > 0 > weight["dull"] and "," not in weight


def test_sentence_scope_leaves_out_the_whole_sentence_with_a_negator():
    from lstm_sentiment.data.text import tokenize

    # "clause" still reads the subject before the negator, whose weight says what reviews say about plots
    assert features(tokenize("The plot wasn't dull."), 1, "clause") == ["the", "plot"]
    assert features(tokenize("The plot wasn't dull."), 1, "sentence") == []
    text = tokenize("The plot is great. The music isn't dull!")
    assert features(text, 2, "sentence") == ["the", "plot", "is", "great", ".", "the plot", "plot is", "is great",
                                             "great ."]
    # a contrast decides as with "clause": the clause after it is read unless it holds a negator itself
    assert features(tokenize("The music isn't dull, but the end was weak."), 1, "sentence") == \
        ["the", "end", "was", "weak", "."]
    assert features(tokenize("Dull at first, but the end is not bad."), 1, "sentence") == []
    assert NgramConfig(negation_scope="sentence").negation_scope == "sentence"


def test_a_negated_word_learns_its_own_weight():
    texts = [["a", "bad", "film"], ["not", "bad", "at", "all"], ["a", "good", "film"], ["not", "good", "at", "all"]]
    grams, weights, _ = fit_ngram_weights(texts * 5, [0, 1, 1, 0] * 5, np.ones(20),
                                          NgramConfig(order=1, min_count=1, c=10.0, negation_scope="mark"))
    weight = dict(zip(grams, weights))
    assert weight["bad"] < 0 < weight["¬bad"] and weight["good"] > 0 > weight["¬good"]


def test_the_fit_gives_sentiment_words_their_sign_and_prunes_the_smallest():
    texts = [["good", "film"], ["great", "film"], ["bad", "film"], ["awful", "film"]] * 5
    labels = [1, 1, 0, 0] * 5
    grams, weights, _ = fit_ngram_weights(texts, labels, np.ones(len(texts)), NgramConfig(order=2, min_count=1))
    weight = dict(zip(grams, weights))
    assert weight["good"] > 0 and weight["great"] > 0 and weight["bad"] < 0 and weight["awful"] < 0
    assert abs(weight["film"]) < 1e-6  # in every text: no evidence either way
    kept, _, _ = fit_ngram_weights(texts, labels, np.ones(len(texts)), NgramConfig(order=2, min_count=1,
                                                                                     max_features=2))
    assert len(kept) == 2 and "film" not in kept


def test_graded_targets_weigh_by_their_distance_from_neutral():
    assert example_weights([1, 0, 1], [1.0, 0.5, 0.75]).tolist() == [1.0, 0.0, 0.5]
    assert example_weights([1, 0], []).tolist() == [1.0, 1.0]


def test_the_mix_leans_on_the_member_that_knows():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2000)
    informative = (2 * labels - 1) * 1.0 + rng.normal(0, 1, 2000)  # overlapping classes: a finite best mix
    mix = fit_mix(rng.normal(0, 1, 2000), informative, labels.tolist())
    assert mix["ngram"] > 10 * abs(mix["lstm"]) and mix["ngram"] == pytest.approx(2.0, rel=0.2)


def test_weighted_examples_pull_the_mix_towards_the_member_right_on_them():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 4000)
    sign = 2 * labels - 1
    # first half (validation): the member knows; second half (constructions): the member reads them backwards
    lstm = sign * 0.5 + rng.normal(0, 1, 4000)
    ngram = np.concatenate([sign[:2000] * 1.5, -sign[2000:] * 1.5]) + rng.normal(0, 1, 4000)
    alone = fit_mix(lstm[:2000], ngram[:2000], labels[:2000].tolist())
    weights = np.concatenate([np.ones(2000), np.full(2000, 1.0)])
    both = fit_mix(lstm, ngram, labels.tolist(), weights)
    assert alone["ngram"] > 1.0 and both["ngram"] < 0.5 * alone["ngram"] and both["lstm"] > alone["lstm"]


def test_construction_mix_set_comes_from_the_dev_trees_only_when_asked(ngram_run, small_archive, tmp_path):
    model, config, vocab = load_model_files(ngram_run)
    assert construction_mix_set(config, small_archive, model, vocab, CPU) is None  # no treebank
    treebank = write_treebank(tmp_path / "sst.zip", train=[DREADFUL], dev=[DREADFUL, SUPERB, ASIDE], test=[SUPERB])
    assert construction_mix_set(config, treebank, model, vocab, CPU) is None  # mix_constructions = 0
    config.ngram.mix_constructions = 2.0
    found = construction_mix_set(config, treebank, model, vocab, CPU)
    assert found.weight == 2.0 and len(found.labels) == len(found.tokenized) == len(found.lstm_logits) > 12
    assert any("it wasn't" in " ".join(tokens) for tokens in found.tokenized)
    with pytest.raises(UserError, match="mix_constructions"):
        layered_config(values={"ngram.mix_constructions": -1})


def test_a_run_with_an_ngram_member_saves_json_and_safetensors_and_reports_each_member(ngram_run):
    assert (ngram_run / NGRAM_FILE).is_file() and (ngram_run / NGRAM_WEIGHTS).is_file()
    assert not list(ngram_run.glob("*.pkl")) and not list(ngram_run.glob("*.pickle"))
    record = json.loads((ngram_run / NGRAM_FILE).read_text())
    assert record["order"] == 3 and set(record["mix"]) == {"lstm", "ngram", "bias"}
    assert len(record["ngrams"]) == len(load_file(ngram_run / NGRAM_WEIGHTS)["weights"])
    metrics = json.loads((ngram_run / "metrics.json").read_text())
    members = metrics["members"]
    assert set(members) == {"lstm", "ngram", "ngram_fit", "mix"} and members["mix"] == record["mix"]
    assert set(members["ngram_fit"]["validation_accuracy"]) == {"lstm", "ngram", "combined"}
    assert 0.5 <= metrics["accuracy"] <= 1.0


def test_predictions_mix_both_logits_and_loading_round_trips(ngram_run):
    predictor = load_model(ngram_run)
    member = NgramMember.load(ngram_run)
    ids, lengths = predictor.encode(REVIEWS)
    lstm = predictor.logits_of(ids, lengths)
    from lstm_sentiment.data.text import tokenize

    expected = 1 / (1 + np.exp(-member.combine(lstm, member.logits([tokenize(t) for t in REVIEWS]))))
    np.testing.assert_allclose(predictor.probabilities(REVIEWS), expected, rtol=1e-12)
    assert predictor.probabilities(REVIEWS).tolist() != (1 / (1 + np.exp(-lstm))).tolist()


def test_evaluate_explain_and_file_scoring_use_the_combined_model(ngram_run, tmp_path, small_archive, capsys):
    predictor = load_model(ngram_run)
    explanation = explain(predictor, REVIEWS[1])
    assert explanation.probability == pytest.approx(predictor.probabilities([REVIEWS[1]])[0])
    assert explanation.ngram_contributions and {"ngram", "contribution"} == set(explanation.ngram_contributions[0])
    assert 0 <= explanation.lstm_probability <= 1
    source = tmp_path / "reviews.txt"
    source.write_text("\n".join(REVIEWS) + "\n")
    out = tmp_path / "scored.csv"
    assert main(["predict", "--model", str(ngram_run), "--file", str(source), "--out", str(out)]) == 0
    scored = [line.split(",")[-1] for line in out.read_text().splitlines()[1:]]
    np.testing.assert_allclose([float(p) for p in scored], predictor.probabilities(REVIEWS), atol=1e-6)
    capsys.readouterr()
    assert main(["evaluate", "--model", str(ngram_run), "--data", str(small_archive), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["accuracy"] == pytest.approx(json.loads((ngram_run / "metrics.json").read_text())["accuracy"])


def test_onnx_export_keeps_the_member_in_python(ngram_run, tmp_path):
    pytest.importorskip("onnxruntime")
    assert main(["export", "--model", str(ngram_run), "--onnx", str(ngram_run / "model.onnx")]) == 0
    np.testing.assert_allclose(load_model(ngram_run, backend="onnx").probabilities(REVIEWS),
                               load_model(ngram_run).probabilities(REVIEWS), atol=1e-4)


def test_packing_keeps_the_member_in_float32(ngram_run, tmp_path):
    pack_model(ngram_run, tmp_path / "packed")
    assert load_file(tmp_path / "packed" / NGRAM_WEIGHTS)["weights"].dtype.is_floating_point
    np.testing.assert_allclose(NgramMember.load(tmp_path / "packed").weights, NgramMember.load(ngram_run).weights)


@pytest.mark.parametrize("damage, message", [
    ("drop_weights", "missing"),
    ("edit_weights", "checksum"),
    ("other_ngrams", "other n-grams"),
    ("bad_mix", "field 'mix'"),
    ("bad_order", "field 'order'"),
    ("bad_scope", "field 'negation_scope'"),
])
def test_damaged_member_files_are_refused_by_name(ngram_run, tmp_path, damage, message):
    copy = copy_model_dir(ngram_run, tmp_path / "copy")
    record = json.loads((copy / NGRAM_FILE).read_text())
    if damage == "drop_weights":
        (copy / NGRAM_WEIGHTS).unlink()
    elif damage == "edit_weights":
        tensors = load_file(copy / NGRAM_WEIGHTS)
        tensors["weights"][0] += 1.0
        metadata = __import__("safetensors").safe_open(str(copy / NGRAM_WEIGHTS), "pt").metadata()
        save_file(tensors, str(copy / NGRAM_WEIGHTS), metadata=metadata)
    elif damage == "other_ngrams":
        record["ngrams"][0] = record["ngrams"][0] + "x"
    elif damage == "bad_mix":
        record["mix"] = {"lstm": 1.0}
    elif damage == "bad_order":
        record["order"] = "3"
    elif damage == "bad_scope":
        del record["negation_scope"]
    (copy / NGRAM_FILE).write_text(json.dumps(record))
    with pytest.raises(UserError, match=message):
        load_model(copy)


def test_the_member_needs_a_validation_split_and_sane_settings():
    with pytest.raises(UserError, match="validation_split"):
        layered_config(values={"ngram.order": 3, "data.validation_split": 0.0})
    with pytest.raises(UserError, match="ngram.order"):
        layered_config(values={"ngram.order": 9})
    assert Config().ngram.order == 0  # off unless a preset or the user asks


def test_a_run_that_reports_validation_does_not_refit_the_member_on_it(tmp_path, small_archive):
    run = train_tiny_run(tmp_path, small_archive, 1, NGRAM_CONFIG, "--no-test")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["split"] == "validation" and metrics["members"]["ngram_fit"]["refit"] is False
    assert json.loads((run / NGRAM_FILE).read_text())["fitted"]["refit"] is False


def test_serve_answers_with_the_mixed_model_and_names_both_weight_files(ngram_run):
    from fastapi.testclient import TestClient

    from lstm_sentiment.model_dir import weights_version
    from lstm_sentiment.serve.app import build_app
    from lstm_sentiment.serve.service import ModelService
    from lstm_sentiment.serve.settings import ServeSettings

    service = ModelService.load(ServeSettings(device="cpu", model=str(ngram_run)))
    with TestClient(build_app(service)) as client:
        predicted = client.post("/predict", json={"texts": REVIEWS}).json()
        explained = client.post("/explain", json={"text": REVIEWS[1]}).json()
        page = client.post("/explain/html", json={"text": REVIEWS[1]}).text
        version = client.get("/model").json()["version"]
    np.testing.assert_allclose([row["probability"] for row in predicted["predictions"]],
                               load_model(ngram_run).probabilities(REVIEWS), atol=1e-9)
    assert explained["ngram_contributions"] and "The n-gram member" in page
    assert version == weights_version(ngram_run, members=True) != weights_version(ngram_run)
