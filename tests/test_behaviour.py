"""The behavioural suite: deterministic generation, the three test types, scoring and the `check` command."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys

import pytest

from conftest import train_tiny_run
from lstm_sentiment.behaviour.perturb import contraction, punctuation, typo, url, vary
from lstm_sentiment.behaviour.run import TARGETS, run_suite, unknown_common_words
from lstm_sentiment.behaviour.suite import Template, build_suite, expand, fill
from lstm_sentiment.cli import main
from lstm_sentiment.data.vocab import PAD, UNK, Vocabulary

FINGERPRINT = """
import hashlib
from lstm_sentiment.behaviour.suite import build_suite
print(hashlib.sha256(repr(build_suite()).encode()).hexdigest())
"""
REQUIRED = {"Vocabulary", "Negation", "Contrast", "Temporal", "Opinion holder", "Questions", "Robustness",
            "Names and places"}


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, small_archive):
    return train_tiny_run(tmp_path_factory.mktemp("trained"), small_archive, 2)


@pytest.fixture(scope="module")
def suite():
    return build_suite()


def test_the_same_cases_are_generated_in_every_process(suite):
    here = hashlib.sha256(repr(suite).encode()).hexdigest()
    for hash_seed in ("0", "12345"):
        child = subprocess.run([sys.executable, "-c", FINGERPRINT], check=True, capture_output=True, text=True,
                               env={**os.environ, "PYTHONHASHSEED": hash_seed})
        assert child.stdout.strip() == here


def test_the_suite_covers_every_capability_with_all_three_types(suite):
    assert {test.capability for test in suite} >= REQUIRED
    assert {test.kind for test in suite} == {"MFT", "INV", "DIR"}
    negation = [test.name for test in suite if test.capability == "Negation"]
    assert len(negation) >= 6  # of positive, of negative, at the end, neutral clause, double, idioms
    for test in suite:
        assert len(test.cases) >= 40, test.name
        assert len({(case.text, case.perturbed) for case in test.cases}) == len(test.cases), test.name
        for case in test.cases:
            assert "{" not in case.text and "{" not in (case.perturbed or ""), case
            assert case.text[0].isupper()
            if test.kind == "MFT":
                assert case.label in (0, 1) and case.perturbed is None
            else:
                assert case.perturbed and case.perturbed != case.text
            assert (case.direction in ("up", "down")) == (test.kind == "DIR")


def test_templates_fill_consistently():
    lexicon = {"adj": ["good", "excellent"], "noun": ["plot", "ending"], "clause": ["with {noun}"]}
    bindings = {}
    text = fill("a {adj} {noun}, {adj} {clause} and {noun2}", lexicon, random.Random(0), bindings)
    assert bindings["noun"] != bindings["noun2"]  # {noun2}: another value of the same list
    assert text.count(bindings["adj"]) == 2 and text.startswith("A")
    assert "an excellent" in fill("a {adj}", {"adj": ["excellent"]}, random.Random(0), {}).lower()
    assert len(expand("{adj} {noun}", lexicon, random.Random(0), 10)) == 4  # every distinct filling, no more


def test_perturbations_keep_the_meaning():
    rng = random.Random(3)
    text = "The plot was not good. It is long."
    swapped = typo(text, rng)
    assert sorted(swapped) == sorted(text) and swapped != text and len(swapped) == len(text)
    assert contraction(text, random.Random(0)) in ("The plot wasn't good. It is long.", "The plot was not good. It's long.")
    assert punctuation(text, random.Random(0)) != text
    assert url(text, rng).startswith(text + " ") and "https://" in url(text, rng)
    review = Template("{name} liked it in {city}", {"name": "Maria", "city": "Lima"}, "Maria liked it in Lima")
    changed = vary(review, "name", {"name": ["Maria", "Wei"], "city": ["Lima", "Oslo"]}, random.Random(0))
    assert changed == "Wei liked it in Lima"


def test_scoring_counts_each_type_of_failure(suite):
    def always_positive(texts):
        return [0.9] * len(texts)

    results = run_suite(always_positive, suite)
    by_name = {row["name"]: row for row in results["tests"]}
    negated_positive = by_name["Negated positive"]  # every case expects negative: all fail
    assert negated_positive["failure_rate"] == 1.0 and len(negated_positive["examples"]) == 2
    assert negated_positive["examples"][0]["expected"] == "negative"
    assert by_name["Negated negative"]["failure_rate"] == 0.0
    assert all(row["failures"] == 0 for row in results["tests"] if row["type"] in ("INV", "DIR"))
    summary = results["summary"]
    assert summary["inv_failure_rate_max"] == 0.0 and summary["negation_failure_rate_max"] == 1.0
    assert 0.3 < summary["mft_pass_rate"] < 0.7 and summary["targets_met"] is False
    assert set(TARGETS) <= set(summary)


def test_a_perturbation_that_flips_the_label_fails_an_inv_test(suite):
    results = run_suite(lambda texts: [0.1 if "https://" in text else 0.9 for text in texts], suite)
    url_test = next(row for row in results["tests"] if row["name"] == "An irrelevant URL added")
    assert url_test["failure_rate"] == 1.0
    example = url_test["examples"][0]
    assert example["probability"] == 0.9 and example["perturbed_probability"] == 0.1


def test_failures_name_the_words_the_model_does_not_know(suite):
    vocab = Vocabulary([PAD, UNK, "i", "didn't", "the", "plot", "."], aliases={"film": "plot"})
    assert vocab.unknown_words("I didn't detest the film, Juan. Detest!") == ["detest", ",", "juan", "!"]
    common = unknown_common_words(vocab.unknown_words)
    # names and numbers are meant to be unknown: words with a digit, or written only capitalised ("Juan", and
    # so "Seen" too); a capitalised word also written in lower case is not a name
    assert common("I didn't detest the film, Juan. Detest! Seen 4 times in 1989.") == [
        "detest", ",", "!", "times", "in"]

    results = run_suite(lambda texts: [0.9] * len(texts), suite, examples=5,
                        unknown_words=lambda text: ["despise"] if "despise" in text else [])
    negated_positive = next(row for row in results["tests"] if row["name"] == "Negated positive")
    assert len(negated_positive["examples"]) == 5
    with_word = [case for test in suite if test.name == "Negated positive" for case in test.cases
                 if "despise" in case.text]
    assert negated_positive["failures_with_unknown_words"] == len(with_word)  # every case fails here
    assert all(example["unknown_words"] in ([], ["despise"]) for example in negated_positive["examples"])
    summary = results["summary"]
    assert summary["mft_failures_with_unknown_words"] == sum(
        row["failures_with_unknown_words"] for row in results["tests"] if row["type"] == "MFT")
    assert "failures_with_unknown_words" not in run_suite(lambda texts: [0.9] * len(texts), suite)["tests"][0]
    with pytest.raises(ValueError, match="examples"):
        run_suite(lambda texts: [0.9] * len(texts), suite, examples=-1)


def test_dir_tests_fail_only_beyond_the_tolerance(suite):
    intensified = ("very ", "really ", "incredibly ", "extremely ", "truly ", "absolutely ", "remarkably ", "so ")

    def score(texts):  # intensified texts a little less positive (within 0.1), or much less
        return [0.85 if any(word in text for word in intensified) else 0.9 for text in texts]

    rows = {row["name"]: row for row in run_suite(score, suite)["tests"]}
    assert rows["Intensifiers make it more confident"]["failures"] == 0
    rows = {row["name"]: row for row in run_suite(
        lambda texts: [0.5 if any(word in text for word in intensified) else 0.9 for text in texts], suite)["tests"]}
    assert rows["Intensifiers make it more confident"]["failure_rate"] == 0.5  # the positive half must not fall


def test_check_command_json_html_and_strict(trained_run, tmp_path, capsys):
    out = tmp_path / "check.html"
    assert main(["check", "--model", str(trained_run), "--json", "--out", str(out)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["model"] == str(trained_run)
    assert {"tests", "summary"} <= set(results)
    assert {"name", "capability", "type", "cases", "failures", "failure_rate", "examples"} <= set(results["tests"][0])
    assert "Negated positive" in out.read_text()
    assert all("unknown_words" in example for row in results["tests"] for example in row["examples"])
    assert main(["check", "--model", str(trained_run), "--examples", "0", "--json"]) == 0
    assert all(not row["examples"] for row in json.loads(capsys.readouterr().out)["tests"])
    assert main(["check", "--model", str(trained_run), "--examples", "-1"]) == 2
    assert "--examples" in capsys.readouterr().err
    assert main(["check", "--model", str(trained_run), "--strict"]) == 1  # a tiny model misses the targets
    assert "worst negation test" in capsys.readouterr().out
