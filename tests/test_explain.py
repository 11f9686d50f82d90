"""explain: the numbers mean what they say, and the HTML/PNG/JSON outputs are complete and well formed."""

from __future__ import annotations

import copy
import dataclasses
import json
from html.parser import HTMLParser

import pytest
import torch

from conftest import TINY_CONFIG, train_tiny_run
from lstm_sentiment.cli import main
from lstm_sentiment.explain import explain, integrated_gradients, occlusion, visible_tokens
from lstm_sentiment.explain_view import contribution_spans, explanation_html
from lstm_sentiment.predict import load_model

JSON_KEYS = {"tokens", "forget", "input", "output", "cell_norm", "running_probability", "contributions", "label",
             "probability"}
REVIEW = "The plot was dull and the acting awful, but the ending was wonderful and I loved it."


@pytest.fixture(scope="module", params=["unidirectional", "bidirectional", "ensemble"])
def run_dir(request, tmp_path_factory, small_archive):
    bidirectional = str(request.param != "unidirectional").lower()
    members = 2 if request.param == "ensemble" else 1
    return train_tiny_run(tmp_path_factory.mktemp("explain"), small_archive, 4, TINY_CONFIG.replace(
        "[model]", f"[model]\nbidirectional = {bidirectional}\nmembers = {members}"))


@pytest.fixture(scope="module")
def predictor(run_dir):
    return load_model(run_dir)


def test_gates_are_probabilities_and_lists_align(predictor):
    result = explain(predictor, REVIEW)
    n = len(result.tokens)
    for key in ("forget", "input", "output", "cell_norm", "running_probability", "contributions", "unknown"):
        assert len(getattr(result, key)) == n, key
    for key in ("forget", "input", "output", "running_probability"):
        assert all(0.0 <= v <= 1.0 for v in getattr(result, key)), key
    assert all(v >= 0 for v in result.cell_norm)


def test_running_probability_ends_at_the_prediction(predictor):
    result = explain(predictor, REVIEW)
    assert result.running_probability[-1] == pytest.approx(predictor.predict(REVIEW)[0].probability, abs=1e-5)
    assert result.probability == pytest.approx(predictor.predict(REVIEW)[0].probability, abs=1e-5)
    assert result.label == predictor.predict(REVIEW)[0].label


def test_running_probability_is_the_prediction_for_each_prefix(predictor):
    result = explain(predictor, REVIEW)
    for k in (0, 3, len(result.tokens) // 2):
        prefix = " ".join(result.tokens[: k + 1])
        assert result.running_probability[k] == pytest.approx(predictor.predict(prefix)[0].probability, abs=1e-5)


def test_integrated_gradients_add_up_to_the_logit_difference(predictor):
    tokens, _ = visible_tokens(predictor, REVIEW)
    ids = torch.tensor([predictor.vocab.encode(tokens)])
    attributions, difference = integrated_gradients(predictor, ids, steps=64)
    assert sum(attributions) == pytest.approx(difference, rel=0.05, abs=0.02)


def test_occlusion_is_the_effect_of_hiding_each_token(predictor):
    tokens, _ = visible_tokens(predictor, REVIEW)
    ids = torch.tensor([predictor.vocab.encode(tokens)])
    values = occlusion(predictor, ids)
    hidden = ids.clone()
    hidden[0, 2] = 1  # <unk>
    lengths = torch.tensor([ids.shape[1]])
    with torch.no_grad():
        expected = predictor.model(ids, lengths, "right") - predictor.model(hidden, lengths, "right")
    assert values[2] == pytest.approx(float(expected), abs=1e-5)


def test_unknown_words_and_truncation_are_reported(predictor):
    long_review = " ".join(["fine"] * 50) + " zzzunseenword " + " ".join(["good"] * 10)
    result = explain(predictor, long_review)
    maxlen = predictor.config.data.maxlen
    assert len(result.tokens) == maxlen and result.truncated_tokens == 61 - maxlen
    assert result.truncated_side == "start" and result.tokens[-1] == "good"  # "pre" truncation keeps the end
    assert result.unknown[result.tokens.index("zzzunseenword")]


def test_middle_truncation_is_explained_as_a_cut_in_the_middle(predictor):
    middle = copy.copy(predictor)
    middle.config = dataclasses.replace(predictor.config,
                                        data=dataclasses.replace(predictor.config.data, truncating="middle"))
    maxlen = middle.config.data.scoring_maxlen
    long_review = "good " + " ".join(["fine"] * (2 * maxlen)) + " bad"
    result = explain(middle, long_review)
    assert result.truncated_side == "middle" and len(result.tokens) == maxlen
    assert result.tokens[0] == "good" and result.tokens[-1] == "bad"  # both ends kept
    assert "tokens in the middle" in explanation_html(result)
    assert result.probability == pytest.approx(float(middle.probabilities([long_review])[0]), abs=1e-5)


def test_aliased_words_are_reported_and_read_as_their_token(predictor):
    aliased = copy.copy(predictor)
    known = predictor.vocab.tokens[5]
    aliased.vocab = predictor.vocab.with_aliases({"zzzalias": known})
    result = explain(aliased, "the zzzalias plot")
    assert result.read_as == {"zzzalias": known} and not any(result.unknown)
    assert result.probability == pytest.approx(explain(predictor, f"the {known} plot").probability, abs=1e-6)
    assert f"(read as {known})" in contribution_spans(result)
    assert explain(predictor, "the zzzalias plot").read_as == {}


def test_explanations_and_predictions_read_eval_maxlen_tokens(predictor):
    long_review = " ".join(["dull"] * 40) + " " + " ".join(["wonderful"] * 20)
    reading = copy.copy(predictor)
    reading.config = dataclasses.replace(predictor.config,
                                         data=dataclasses.replace(predictor.config.data, eval_maxlen=45))
    result = explain(reading, long_review)
    assert len(result.tokens) == 45 and result.truncated_tokens == 15 and result.tokens[0] == "dull"
    _ids, lengths = reading.encode([long_review])
    assert int(lengths[0]) == 45
    last_45 = " ".join(["dull"] * 25) + " " + " ".join(["wonderful"] * 20)  # what "pre" truncation keeps
    assert reading.probabilities([long_review])[0] == pytest.approx(reading.probabilities([last_45])[0], abs=1e-6)
    assert predictor.encode([long_review])[1][0] == predictor.config.data.maxlen == 30  # training's cut otherwise


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.open = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "rect", "circle", "line", "polyline", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in ("rect", "circle", "line", "polyline"):
            return
        assert self.open and self.open[-1] == tag, f"unbalanced </{tag}>"
        self.open.pop()


def test_cli_writes_a_self_contained_html_page_a_png_and_json(run_dir, tmp_path, capsys):
    page = tmp_path / "e.html"
    assert main(["explain", REVIEW + " zzzunseenword", "--model", str(run_dir), "--out", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    tags = {tag for tag, _ in parser.tags}
    assert {"svg", "polyline", "rect", "span"} <= tags and "script" not in tags
    assert not parser.open
    sources = [value for _, attrs in parser.tags for key, value in attrs.items() if key in ("src", "href")]
    assert sources == []  # no network requests
    assert "zzzunseenword" in text and "unknown word" in text
    figure = tmp_path / "e.png"
    assert main(["explain", REVIEW, "--model", str(run_dir), "--out", str(figure)]) == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert main(["explain", REVIEW, "--model", str(run_dir), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert JSON_KEYS <= set(payload)
    assert payload["label"] in ("positive", "negative")


def test_cli_rejects_bad_input(tmp_path, capsys):
    assert main(["explain", "   "]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["explain", "good film", "--out", str(tmp_path / "e.txt")]) == 2
    assert ".html or .png" in capsys.readouterr().err
    assert main(["explain", "!!!"]) == 0  # punctuation is a token: explained, not an error


def test_explain_uses_the_shipped_model_by_default(capsys):
    assert main(["explain", "What a wonderful film, I loved every minute", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["label"] == "positive"
    strongest = max(zip(payload["contributions"], payload["tokens"]))[1]
    assert strongest in ("wonderful", "loved")
