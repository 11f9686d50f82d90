"""The behavioural results as HTML: a section for `report`, or a page of its own for `check --out`."""

from __future__ import annotations

import html

from .run import describe


def results_section(results: dict) -> str:
    """A failure-rate table (a bar per test) with the failing examples under each test."""
    rows = []
    for row in results["tests"]:
        rate = 100 * row["failure_rate"]
        colour = "#c0392b" if rate > 20 else "#e67e22" if rate > 5 else "#27ae60"
        examples = "".join(f"<div class='example'>{html.escape(describe(example))}</div>" for example in row["examples"])
        unknown = row.get("failures_with_unknown_words")
        if unknown:
            examples += (f"<div class='example'>{unknown} of {row['failures']} failures hold a word the model "
                         "does not know</div>")
        rows.append(f"<tr><td>{html.escape(row['capability'])}</td><td>{html.escape(row['name'])}{examples}</td>"
                    f"<td>{row['type']}</td><td>{row['cases']}</td><td class='rate'><div class='bar' "
                    f"style='width:{rate:.0f}px;background:{colour}'></div>{rate:.1f}%</td></tr>")
    summary = results["summary"]
    return (f"<p>{summary['cases']:,} generated cases in {summary['tests']} tests. Fixed-label (MFT) cases passed: "
            f"<strong>{100 * summary['mft_pass_rate']:.1f}%</strong>; mean MFT failure rate "
            f"{100 * summary['mft_failure_rate_mean']:.1f}%; worst negation test "
            f"{100 * summary['negation_failure_rate_max']:.1f}%; worst INV test "
            f"{100 * summary['inv_failure_rate_max']:.1f}%.</p>"
            "<table class='behaviour'><tr><th>capability</th><th>test (failing examples)</th><th>type</th>"
            f"<th>cases</th><th>failed</th></tr>{''.join(rows)}</table>")


STYLE = """body { font-family: sans-serif; margin: 2em; max-width: 75em; color: #222; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 0.3em 0.5em; vertical-align: top; }
.example { color: #666; font-size: 0.85em; margin-top: 0.2em; } .rate { white-space: nowrap; min-width: 9em; }
.bar { display: inline-block; height: 0.8em; margin-right: 0.4em; }"""


def results_page(results: dict, title: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{results_section(results)}"
            "<p>Test types as in CheckList (Ribeiro et al., ACL 2020): MFT, a fixed expected label; INV, a "
            "perturbation that must not change the label; DIR, a change that must move P(positive) one way "
            "(by no more than 0.1 the other way).</p></body></html>\n")
