"""Run the behavioural suite against any scorer (texts -> P(positive)) and summarise the failures."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from .suite import BehaviourTest, Case, build_suite, dir_tolerance

Scorer = Callable[[list[str]], Sequence[float]]
UnknownWords = Callable[[str], list[str]]
NEGATION = "Negation"
# the targets of issue 22 for a shipped model
TARGETS = {"negation_failure_rate_max": 0.20, "mft_failure_rate_mean": 0.10, "inv_failure_rate_max": 0.05}


def case_fails(case: Case, kind: str, before: float, after: float | None, tolerance: float) -> bool:
    if kind == "MFT":
        return (before >= 0.5) != bool(case.label)
    if kind == "INV":
        return (before >= 0.5) != (after >= 0.5)
    if case.direction == "up":  # DIR: P(positive) must not fall by more than the tolerance
        return after < before - tolerance
    return after > before + tolerance


def _margin(case: Case, kind: str, before: float, after: float | None) -> float:
    """How badly a failing case fails, to show the clearest failures first."""
    if kind == "MFT":
        return abs(before - 0.5)
    return abs((after or 0.0) - before)


def run_suite(score: Scorer, tests: list[BehaviourTest] | None = None, examples: int = 2,
              unknown_words: UnknownWords | None = None) -> dict:
    """The `check --json` object: one entry per test, and a summary against the targets. With unknown_words
    (text -> the words the model reads as <unk>), each test also counts its failures that hold such a word, and
    each example names them: a failure on "I didn't detest it" may be the word, not the negation."""
    tests = tests if tests is not None else build_suite()
    if examples < 0:
        raise ValueError("examples must be >= 0")
    tolerance = dir_tolerance()
    texts = sorted({text for test in tests for case in test.cases for text in (case.text, case.perturbed) if text})
    probabilities = dict(zip(texts, np.asarray(score(texts), dtype=float).tolist()))
    rows = []
    for test in tests:
        failures = []
        for case in test.cases:
            before = probabilities[case.text]
            after = probabilities[case.perturbed] if case.perturbed else None
            if case_fails(case, test.kind, before, after, tolerance):
                failures.append((_margin(case, test.kind, before, after), case, before, after))
        failures.sort(key=lambda failure: -failure[0])
        row = {
            "name": test.name, "capability": test.capability, "type": test.kind, "cases": len(test.cases),
            "failures": len(failures), "failure_rate": len(failures) / len(test.cases) if test.cases else 0.0,
            "examples": [_example(case, before, after, unknown_words)
                         for _, case, before, after in failures[:examples]],
        }
        if unknown_words is not None:
            row["failures_with_unknown_words"] = sum(bool(_unknown_in(case, unknown_words))
                                                     for _, case, _, _ in failures)
        rows.append(row)
    return {"tests": rows, "summary": summarise(rows)}


def unknown_common_words(unknown_words: UnknownWords) -> UnknownWords:
    """unknown_words without numbers and names: tokens with a digit, or written only capitalised in the text
    ("Juan", "Nairobi"). Why: the suite's names, places and years are meant to be unknown (the INV tests swap
    them); an unknown opinion word ("detest") is what a failure may come from."""
    def common(text: str) -> list[str]:
        capitalised = {word.lower() for word in re.findall(r"\b[A-Z][a-z]+\b", text)}
        lowered = {word for word in re.findall(r"\b[a-z]+\b", text)}
        return [word for word in unknown_words(text)
                if not any(char.isdigit() for char in word) and (word not in capitalised or word in lowered)]
    return common


def _unknown_in(case: Case, unknown_words: UnknownWords) -> list[str]:
    """Unknown words of a case; of an INV or DIR pair, those of the changed text the original lacks too."""
    words = unknown_words(case.text)
    if case.perturbed is not None:
        words += [word for word in unknown_words(case.perturbed) if word not in words]
    return words


def _example(case: Case, before: float, after: float | None, unknown_words: UnknownWords | None = None) -> dict:
    example = {"text": case.text, "probability": round(before, 4)}
    if unknown_words is not None:
        example["unknown_words"] = _unknown_in(case, unknown_words)
    if case.label is not None:
        example["expected"] = "positive" if case.label else "negative"
    if case.perturbed is not None:
        example.update(perturbed=case.perturbed, perturbed_probability=round(after, 4))
    if case.direction is not None:
        example["direction"] = case.direction
    return example


def summarise(rows: list[dict]) -> dict:
    def rates(kind: str, capability: str | None = None) -> list[float]:
        return [row["failure_rate"] for row in rows
                if row["type"] == kind and (capability is None or row["capability"] == capability)]

    mft = [row for row in rows if row["type"] == "MFT"]
    mft_cases = sum(row["cases"] for row in mft)
    summary = {
        "tests": len(rows),
        "cases": sum(row["cases"] for row in rows),
        "mft_cases": mft_cases,
        # the share of fixed-label cases answered right (the "pass" column)
        "mft_pass_rate": 1 - sum(row["failures"] for row in mft) / mft_cases if mft_cases else None,
        "mft_failure_rate_mean": float(np.mean(rates("MFT"))) if mft else None,
        "negation_failure_rate_max": max(rates("MFT", NEGATION), default=None),
        "inv_failure_rate_max": max(rates("INV"), default=None),
        "dir_failure_rate_max": max(rates("DIR"), default=None),
    }
    if mft and all("failures_with_unknown_words" in row for row in mft):
        summary["mft_failures_with_unknown_words"] = sum(row["failures_with_unknown_words"] for row in mft)
    summary["targets_met"] = all(summary[key] is not None and summary[key] <= limit for key, limit in TARGETS.items())
    return summary


def format_results(results: dict) -> str:
    """The failure-rate table with up to two failing examples per test."""
    lines = [f"{'capability':<17} {'test':<45} {'type':<4} {'cases':>5} {'failed':>7}"]
    for row in results["tests"]:
        unknown = row.get("failures_with_unknown_words")
        lines.append(f"{row['capability']:<17} {row['name']:<45} {row['type']:<4} {row['cases']:>5} "
                     f"{100 * row['failure_rate']:>6.1f}%"
                     + (f"  ({unknown} of {row['failures']} with a word the model does not know)" if unknown else ""))
        for example in row["examples"]:
            lines.append("    e.g. " + describe(example))
    summary = results["summary"]
    if summary.get("mft_failures_with_unknown_words"):
        lines.append(f"\n{summary['mft_failures_with_unknown_words']} failing fixed-label cases hold a word the model "
                     "reads as <unk> (shown in brackets)")
    lines.append(
        f"\n{summary['cases']} cases in {summary['tests']} tests; fixed-label cases passed "
        f"{100 * summary['mft_pass_rate']:.1f}%; mean MFT failure {100 * summary['mft_failure_rate_mean']:.1f}% "
        f"(target <= 10%), worst negation test {100 * summary['negation_failure_rate_max']:.1f}% (<= 20%), "
        f"worst INV test {100 * summary['inv_failure_rate_max']:.1f}% (<= 5%)")
    return "\n".join(lines)


def describe(example: dict) -> str:
    unknown = example.get("unknown_words")
    note = f" [unknown: {', '.join(unknown)}]" if unknown else ""
    if "expected" in example:
        return (f"{example['text']!r}: P(positive) {example['probability']:.2f}, expected {example['expected']}"
                + note)
    arrow = {"up": " (should not fall)", "down": " (should not rise)"}.get(example.get("direction"), "")
    return (f"{example['text']!r} {example['probability']:.2f} -> {example['perturbed']!r} "
            f"{example['perturbed_probability']:.2f}{arrow}{note}")
