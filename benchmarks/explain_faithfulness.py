"""Which contribution method is more faithful? A deletion test on validation reviews.

For each review: rank tokens by how much a method says they support the predicted class, delete the top k
(remove them from the sequence), and measure how far the predicted class's probability falls. Words that truly
drive the decision make it fall further, so the larger mean drop wins. Random deletion is the floor.

    python benchmarks/explain_faithfulness.py [--model RUN_DIR] [--data PATH] [--reviews 200]
"""

from __future__ import annotations

import argparse
import json
import random

import numpy as np
import torch

from lstm_sentiment.data.prepare import split_corpus
from lstm_sentiment.data.sources import load_corpus, resolve_data_path
from lstm_sentiment.explain import token_contributions, visible_tokens
from lstm_sentiment.predict import load_model

DELETIONS = (1, 3, 5, 10)


def probability(predictor, ids: list[int]) -> float:
    with torch.no_grad():
        logits = predictor.model(torch.tensor([ids]), torch.tensor([len(ids)]), "right")
    return float(torch.sigmoid(logits.float()))


def drops(predictor, ids: list[int], order: list[int], positive: bool) -> list[float]:
    before = probability(predictor, ids)
    out = []
    for k in DELETIONS:
        removed = set(order[:k])
        after = probability(predictor, [t for j, t in enumerate(ids) if j not in removed] or [1])
        out.append((before - after) if positive else (after - before))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--reviews", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=300, help="skip longer reviews (time)")
    args = parser.parse_args()
    torch.manual_seed(0)
    predictor = load_model(args.model)
    predictor.model.eval()
    validation = split_corpus(load_corpus(resolve_data_path(args.data)), predictor.config.data)["validation"]
    rng = random.Random(0)
    picked = rng.sample(range(len(validation.texts)), len(validation.texts))
    results: dict[str, list[list[float]]] = {"integrated-gradients": [], "occlusion": [], "random": []}
    used = 0
    for index in picked:
        tokens, _ = visible_tokens(predictor, validation.texts[index])
        if len(tokens) > args.max_tokens or len(tokens) < 15:
            continue
        ids = predictor.vocab.encode(tokens)
        positive = probability(predictor, ids) >= 0.5
        sign = 1.0 if positive else -1.0
        for method in ("integrated-gradients", "occlusion"):
            contributions = token_contributions(predictor, torch.tensor([ids]), method)
            order = sorted(range(len(ids)), key=lambda j: -sign * contributions[j])
            results[method].append(drops(predictor, ids, order, positive))
        shuffled = list(range(len(ids)))
        rng.shuffle(shuffled)
        results["random"].append(drops(predictor, ids, shuffled, positive))
        used += 1
        if used >= args.reviews:
            break
    summary = {method: {f"top{k}": round(float(np.mean([row[i] for row in rows])), 4)
                        for i, k in enumerate(DELETIONS)} for method, rows in results.items()}
    # Area under the deletion curve per review (mean drop over the k values), compared review by review.
    area = {method: np.array([np.mean(row) for row in rows]) for method, rows in results.items()}
    difference = area["integrated-gradients"] - area["occlusion"]
    paired = {"integrated_gradients_minus_occlusion": round(float(difference.mean()), 4),
              "standard_error": round(float(difference.std(ddof=1) / np.sqrt(len(difference))), 4)}
    print(json.dumps({"model": predictor.name, "reviews": used, "mean_drop_of_predicted_class_probability": summary,
                      "mean_drop_over_k": {m: round(float(a.mean()), 4) for m, a in area.items()},
                      "paired_difference": paired}, indent=2))
    print("\n| method | " + " | ".join(f"delete top {k}" for k in DELETIONS) + " |")
    print("| --- |" + " --- |" * len(DELETIONS))
    for method, row in summary.items():
        print(f"| {method} | " + " | ".join(f"{v:.4f}" for v in row.values()) + " |")


if __name__ == "__main__":
    main()
