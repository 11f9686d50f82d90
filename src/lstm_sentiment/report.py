"""`lstm-sentiment report RUN_DIR`: one self-contained HTML page about a trained run (figures embedded as PNG)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from .behaviour.html_view import results_section
from .behaviour.run import run_suite, unknown_common_words
from .data.prepare import split_corpus
from .data.sources import LABEL_NAMES, load_corpus
from .errors import UserError
from .evaluate import evaluate_reviews
from .explain import explain
from .explain_view import contribution_spans
from .files import read_json
from .model_dir import HISTORY, METRICS
from .plots import NEGATIVE_COLOUR, POSITIVE_COLOUR, plot_by_length, plot_confusion, plot_curves, plot_roc
from .predict import Predictor


def _figure(draw) -> str:
    """draw(file) saves a figure; returns it as an <img> with the PNG inline."""
    buffer = io.BytesIO()
    draw(buffer)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _label(probability: float) -> str:
    name = LABEL_NAMES[int(probability >= 0.5)]
    colour = POSITIVE_COLOUR if name == "positive" else NEGATIVE_COLOUR
    return f'<span style="color:{colour};font-weight:bold">{name}</span> ({probability:.3f})'


def _snippet(text: str, limit: int = 300) -> str:
    text = " ".join(text.replace("<br />", " ").split())
    return html.escape(text if len(text) <= limit else text[: limit - 1] + "…")


def build_report(predictor: Predictor, run_dir: Path, data_path: Path, split_name: str,
                 mistakes: int = 10) -> str:
    corpus = load_corpus(data_path)
    reviews = split_corpus(corpus, predictor.config.data)[split_name]
    if not len(reviews):
        raise UserError(f"the {split_name} split of {data_path} is empty")
    metrics, probabilities = evaluate_reviews(predictor, reviews)
    labels = np.asarray(reviews.labels)
    history = read_json(run_dir / HISTORY) if (run_dir / HISTORY).exists() else []
    run_metrics = read_json(run_dir / METRICS) if (run_dir / METRICS).exists() else {}
    sections = [f"<h1>Run report: {html.escape(run_dir.name)}</h1>",
                (f"<p>{split_name} split of {html.escape(str(data_path))}: {metrics['n']:,} reviews, accuracy "
                f"<strong>{metrics['accuracy']:.4f}</strong>, F1 {metrics['f1']:.4f}, ROC-AUC "
                f"{metrics['roc_auc'] or float('nan'):.4f}, loss {metrics['loss']:.4f}.</p>")]
    if run_metrics:
        sections.append(f"<p>Trained in {run_metrics.get('seconds', '?')} s on {html.escape(str(run_metrics.get('machine', '?')))}"
                        f", best epoch {run_metrics.get('best_epoch', '?')} of {run_metrics.get('epochs_run', '?')}.</p>")
    sections.append("<h2>Training curves</h2>")
    sections.append(_figure(lambda out: plot_curves(history, out)) if history else "<p>No history.json in this directory.</p>")
    sections.append("<h2>Errors</h2><div class='row'>" + _figure(
        lambda out: plot_confusion(metrics["confusion_matrix"], out, f"Confusion matrix ({split_name})")))
    if metrics["roc_auc"] is not None:
        sections.append(_figure(lambda out: plot_roc(labels, probabilities, out, metrics["roc_auc"])))
    sections.append(_figure(lambda out: plot_by_length(metrics["by_length"], out)) + "</div>")
    rows = "".join(f"<tr><td>{k + 1}</td><td>{LABEL_NAMES[labels[k]]}</td><td>{_label(probabilities[k])}</td>"
                   f"<td>{_snippet(reviews.texts[k])}</td></tr>" for k in range(min(10, len(reviews))))
    sections.append(f"<h2>The first {min(10, len(reviews))} {split_name} reviews</h2><table><tr><th>#</th>"
                    f"<th>true</th><th>predicted</th><th>review</th></tr>{rows}</table>")
    predicted = (probabilities >= 0.5).astype(int)
    wrong = np.flatnonzero(predicted != labels)
    confidence = np.abs(probabilities[wrong] - 0.5)
    worst = wrong[np.argsort(-confidence, kind="stable")][:mistakes]
    sections.append(f"<h2>The {len(worst)} most confident mistakes, explained</h2><p class='note'>Words coloured by "
                    "their contribution (integrated gradients): blue towards positive, orange towards negative.</p>")
    for k in worst:
        explanation = explain(predictor, reviews.texts[k])
        cut = (f" ({explanation.truncated_tokens} tokens beyond maxlen not read)" if explanation.truncated_tokens
               else "")
        sections.append(f"<div class='mistake'><p>true <strong>{LABEL_NAMES[labels[k]]}</strong>, predicted "
                        f"{_label(probabilities[k])}{cut}</p><div class='review'>{contribution_spans(explanation)}"
                        "</div></div>")
    sections.append("<h2>Behavioural tests (<code>lstm-sentiment check</code>)</h2>" + results_section(
        run_suite(lambda texts: predictor.probabilities(texts, batch_size=256),
                  unknown_words=unknown_common_words(predictor.vocab.unknown_words))))
    config = json.dumps(predictor.config.to_dict(), indent=2)
    sections.append(f"<h2>Configuration</h2><pre>{html.escape(config)}</pre>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Report: {html.escape(run_dir.name)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 75em; color: #222; }}
img {{ max-width: 100%; margin: 0.3em; }}
.row {{ display: flex; flex-wrap: wrap; align-items: flex-start; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ddd; padding: 0.3em 0.5em; vertical-align: top; }}
.review, .ngrams {{ line-height: 1.9em; }} .review span, .ngrams span {{ padding: 0.1em 0.15em; border-radius: 3px; }}
.mistake {{ border-left: 4px solid #ddd; padding-left: 1em; margin-bottom: 1.5em; }}
.note {{ color: #666; font-size: 0.9em; }} pre {{ background: #f6f6f6; padding: 1em; }}
.example {{ color: #666; font-size: 0.85em; margin-top: 0.2em; }} .rate {{ white-space: nowrap; min-width: 9em; }}
.bar {{ display: inline-block; height: 0.8em; margin-right: 0.4em; }}
</style></head><body>
{"".join(sections)}
</body></html>
"""
