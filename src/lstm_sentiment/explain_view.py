"""An Explanation as a self-contained HTML page (no scripts, fonts or requests) or a PNG figure.

Colours follow plots.py: positive is blue, negative orange. Gate strips use one sequential scale (white = 0,
dark = 1); the cell-state strip is scaled to its own maximum.
"""

from __future__ import annotations

import html
from pathlib import Path

from .explain import Explanation
from .plots import NEGATIVE_COLOUR, POSITIVE_COLOUR, plt

COLUMN = 44  # pixels per token in the HTML strips
STRIPS = (("forget", "forget gate f"), ("input", "input gate i"), ("output", "output gate o"),
          ("cell_norm", "cell state ||C||"))


def _mix(colour: str, weight: float) -> str:
    """colour blended with white: weight 0 -> white, 1 -> colour."""
    weight = max(0.0, min(1.0, weight))
    rgb = [int(colour[k: k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(255 + (c - 255) * weight):02x}" for c in rgb)


def contribution_colour(value: float, scale: float) -> str:
    return _mix(POSITIVE_COLOUR if value > 0 else NEGATIVE_COLOUR, abs(value) / scale if scale else 0.0)


def _strip_values(explanation: Explanation, key: str) -> list[float]:
    values = getattr(explanation, key)
    if key == "cell_norm":
        peak = max(values) or 1.0
        return [v / peak for v in values]
    return values


def _svg_strips(explanation: Explanation) -> str:
    """Token labels, four heat strips and the running probability, one column per token, aligned."""
    n, row, label_height, left = len(explanation.tokens), 18, 70, 120
    plot_height = 90
    width = left + n * COLUMN + 10
    height = label_height + len(STRIPS) * row + plot_height + 30
    header = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="11" '
              'font-family="sans-serif">')
    parts = [header]
    for k, token in enumerate(explanation.tokens):
        x = left + k * COLUMN + COLUMN / 2
        shown = html.escape(token if len(token) <= 12 else token[:11] + "…")
        style = ' font-style="italic" fill="#888"' if explanation.unknown[k] else ""
        parts.append(f'<text x="{x}" y="{label_height - 4}" transform="rotate(-50 {x} {label_height - 4})"{style}>'
                     f"{shown}</text>")
    for r, (key, title) in enumerate(STRIPS):
        y = label_height + r * row
        parts.append(f'<text x="4" y="{y + 13}">{title}</text>')
        raw = getattr(explanation, key)
        for k, value in enumerate(_strip_values(explanation, key)):
            parts.append(f'<rect x="{left + k * COLUMN}" y="{y}" width="{COLUMN - 1}" height="{row - 2}" '
                         f'fill="{_mix("#2f2f6f", value)}"><title>{key} {raw[k]:.3f}</title></rect>')
    top = label_height + len(STRIPS) * row + 10
    parts.append(f'<text x="4" y="{top + plot_height / 2}">P(positive) so far</text>')
    middle = top + plot_height / 2
    parts.append(f'<line x1="{left}" y1="{middle}" x2="{left + n * COLUMN}" y2="{middle}" stroke="#bbb" '
                 'stroke-dasharray="4 3"/>')
    points = " ".join(f"{left + k * COLUMN + COLUMN / 2:.1f},{top + (1 - p) * plot_height:.1f}"
                      for k, p in enumerate(explanation.running_probability))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#333" stroke-width="1.5"/>')
    for k, p in enumerate(explanation.running_probability):
        colour = POSITIVE_COLOUR if p >= 0.5 else NEGATIVE_COLOUR
        parts.append(f'<circle cx="{left + k * COLUMN + COLUMN / 2:.1f}" cy="{top + (1 - p) * plot_height:.1f}" '
                     f'r="2.5" fill="{colour}"><title>{p:.3f}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def contribution_spans(explanation: Explanation) -> str:
    """The review's tokens as HTML spans coloured by contribution (value and unknown-word note on hover)."""
    scale = max((abs(c) for c in explanation.contributions), default=1.0)
    spans = []
    for token, contribution, unknown in zip(explanation.tokens, explanation.contributions, explanation.unknown):
        alias = explanation.read_as.get(token)
        note = " (unknown word: read as &lt;unk&gt;)" if unknown else f" (read as {html.escape(alias)})" if alias else ""
        decoration = "text-decoration: underline dotted;" if unknown else ""
        spans.append(f'<span style="background:{contribution_colour(contribution, scale)};{decoration}" '
                     f'title="{contribution:+.3f}{note}">{html.escape(token)}</span>')
    return " ".join(spans)


def _truncation_note(explanation: Explanation) -> str:
    if not explanation.truncated_tokens:
        return ""
    where = {"start": "first {n} tokens", "end": "last {n} tokens", "middle": "{n} tokens in the middle"}
    cut = where[explanation.truncated_side].format(n=explanation.truncated_tokens)
    return (f"<p class='note'>The model reads at most {len(explanation.tokens)} tokens: the {cut} of this "
            "review were cut and are not shown.</p>")


def _ngram_section(explanation: Explanation) -> str:
    """The n-gram member's largest contributions, where the model has one (its logit is mixed with the LSTM's)."""
    if explanation.ngram_unread:
        return f"""<h2>The n-gram member</h2>
<p class="note">This model mixes its LSTM with a bag of n-grams (NBSVM), which read nothing of this review (its
negation scope left out every word, as it does for a sentence with a negator): the LSTM judges it
(P(positive) = {explanation.lstm_probability:.3f} alone, which the mix then rescales).</p>
"""
    if not explanation.ngram_contributions:
        return ""
    scale = max(abs(item["contribution"]) for item in explanation.ngram_contributions) or 1.0
    spans = " ".join(f'<span style="background:{contribution_colour(item["contribution"], scale)}" '
                     f'title="{item["contribution"]:+.3f}">{html.escape(item["ngram"])}</span>'
                     for item in explanation.ngram_contributions)
    return f"""<h2>The n-gram member</h2>
<p class="note">This model mixes its LSTM with a bag of n-grams (NBSVM). The LSTM alone says P(positive) =
{explanation.lstm_probability:.3f}; these n-grams of the whole review moved the mixed logit most:</p>
<div class="ngrams">{spans}</div>
"""


def explanation_fragment(explanation: Explanation) -> str:
    """The verdict, the coloured review and the gate strips as an HTML fragment (the server's page embeds it)."""
    verdict_colour = POSITIVE_COLOUR if explanation.label == "positive" else NEGATIVE_COLOUR
    return f"""<p class="verdict">Prediction: <strong style="color:{verdict_colour}">{explanation.label}</strong>,
P(positive) = {explanation.probability:.3f}</p>
<h2>Which words decided</h2>
<p class="note">Each token is coloured by its contribution ({html.escape(explanation.method)}):
<span style="background:{POSITIVE_COLOUR};color:white;padding:0 0.3em">towards positive</span>
<span style="background:{NEGATIVE_COLOUR};color:white;padding:0 0.3em">towards negative</span>;
hover for the value. Dotted: unknown words.</p>
{_truncation_note(explanation)}
<div class="review">{contribution_spans(explanation)}</div>
{_ngram_section(explanation)}<h2>Inside the LSTM, token by token</h2>
<p class="note">Mean activation of the last layer's forget, input and output gates (white 0, dark 1), the size of
the cell state C<sub>t</sub> (scaled to its maximum), and the probability of "positive" had the review ended at that
token.</p>
<div class="strips">{_svg_strips(explanation)}</div>
"""


FRAGMENT_STYLE = """.review, .ngrams { line-height: 2em; font-size: 1.05em; }
.review span, .ngrams span { padding: 0.15em 0.2em; border-radius: 3px; margin-right: 0.1em; }
.strips { overflow-x: auto; border: 1px solid #ddd; padding: 0.5em; }
.note { color: #666; font-size: 0.9em; }"""


def explanation_html(explanation: Explanation, title: str = "lstm-sentiment explain") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; color: #222; }}
{FRAGMENT_STYLE}
</style></head><body>
<h1>{html.escape(title)}</h1>
{explanation_fragment(explanation)}</body></html>
"""


def write_explanation(explanation: Explanation, path: Path) -> None:
    if path.suffix.lower() == ".html":
        path.write_text(explanation_html(explanation), encoding="utf-8")
    else:
        explanation_figure(explanation, path)


def explanation_figure(explanation: Explanation, path: Path) -> None:
    """The same content as the HTML page, as a figure: contributions, gate strips, running probability."""
    n = len(explanation.tokens)
    width = min(26.0, max(8.0, 0.28 * n + 2))
    figure, (bars, heat, line) = plt.subplots(3, 1, figsize=(width, 7.5), sharex=True, constrained_layout=True,
                                              gridspec_kw={"height_ratios": [2.2, 1.6, 1.6]})
    positions = range(n)
    colours = [POSITIVE_COLOUR if c > 0 else NEGATIVE_COLOUR for c in explanation.contributions]
    bars.bar(positions, explanation.contributions, color=colours)
    bars.axhline(0, color="#888", linewidth=0.8)
    bars.set_ylabel("contribution\n(+ positive)")
    bars.set_title(f"{explanation.label} (P(positive) = {explanation.probability:.3f}); contributions: "
                   f"{explanation.method}" + (f"; {explanation.truncated_tokens} tokens cut at the "
                                              f"{explanation.truncated_side}" if explanation.truncated_tokens else ""))
    rows = [_strip_values(explanation, key) for key, _ in STRIPS]
    image = heat.imshow(rows, aspect="auto", cmap="Purples", vmin=0, vmax=1, interpolation="nearest")
    heat.set_yticks(range(len(STRIPS)), [title for _, title in STRIPS])
    figure.colorbar(image, ax=heat, fraction=0.02, pad=0.01)
    line.plot(positions, explanation.running_probability, "-", color="#333", linewidth=1.2)
    line.scatter(positions, explanation.running_probability, s=10,
                 c=[POSITIVE_COLOUR if p >= 0.5 else NEGATIVE_COLOUR for p in explanation.running_probability])
    line.axhline(0.5, color="#aaa", linestyle="--", linewidth=0.8)
    line.set_ylim(0, 1)
    line.set_ylabel("P(positive)\nso far")
    step = max(1, -(-n // 90))  # at most ~90 labels stay readable
    line.set_xticks(list(positions)[::step], [t + ("?" if u else "") for t, u in
                                              zip(explanation.tokens[::step], explanation.unknown[::step])],
                    rotation=70, fontsize=8)
    figure.savefig(path, dpi=110)
    plt.close(figure)
