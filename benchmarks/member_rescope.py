"""A run's n-gram member refitted with other settings, written into a copy of the run, so that every command
(`check`, `evaluate`, benchmarks/seed_spread.py) can score the LSTM with that member as `train` would have made it.

    python benchmarks/member_rescope.py --imdb aclImdb_v1.tar.gz --sst trainDevTestTrees_PTB.zip \\
        --run runs/recipe-s2 --out runs/recipe-s2-sentence --member-scope sentence

Why: the member is fitted after the LSTM has trained and never changes it, so a member option can be compared
beside the same LSTMs in minutes instead of a training run per seed. Validation only: the run must have been
trained with --no-test, and the copy's metrics.json gets the combined validation accuracy of the new mix (IMDb
validation reviews and the treebank's dev sentences together) and the member's settings; its other figures
(loss, F1, the members alone) are still the original run's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from member_tradeoff import refit_member
from seed_spread import cli_json

from lstm_sentiment.config import UNREAD_MIXES
from lstm_sentiment.ngram import NEGATION_SCOPES
from lstm_sentiment.predict import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--imdb", type=Path, required=True)
    parser.add_argument("--sst", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True, help="a run directory trained with --no-test")
    parser.add_argument("--out", type=Path, required=True, help="the copy to write (must not exist)")
    parser.add_argument("--member-scope", choices=NEGATION_SCOPES, help="ngram.negation_scope of the new member")
    parser.add_argument("--sentence-mix-words", type=int, metavar="N", help="ngram.sentence_mix_words (0: one mix)")
    parser.add_argument("--unread-mix", choices=UNREAD_MIXES, help="ngram.unread_mix of the new member")
    args = parser.parse_args()
    metrics = json.loads((args.run / "metrics.json").read_text())
    if metrics.get("split") != "validation":
        parser.error(f"{args.run}: its metrics.json holds {metrics.get('split')} figures; use a --no-test run")
    if args.out.exists():
        parser.error(f"{args.out} exists")
    predictor = load_model(str(args.run))
    if predictor.ngram is None:
        parser.error(f"{args.run}: no n-gram member")
    refit_member(predictor, Path(os.pathsep.join([str(args.imdb), str(args.sst)])), args.member_scope,
                 args.sentence_mix_words, args.unread_mix)
    shutil.copytree(args.run, args.out, ignore=shutil.ignore_patterns("checkpoint*"))
    predictor.ngram.save(args.out)
    scored = [cli_json("evaluate", "--model", str(args.out), "--data", str(data), "--split", "validation")
              for data in (args.imdb, args.sst)]
    counts = [result["n"] for result in scored]
    combined = sum(result["accuracy"] * n for result, n in zip(scored, counts)) / sum(counts)
    before = metrics["accuracy"]
    metrics.update(accuracy=combined, member_rescoped_from=str(args.run),
                   member={"negation_scope": predictor.ngram.negation_scope,
                           "sentence_mix": predictor.ngram.sentence_mix, "mix": predictor.ngram.mix,
                           "unread_mix": predictor.ngram.unread_mix})
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"{args.out}: IMDb validation {scored[0]['accuracy']:.4f} ({counts[0]}), treebank dev "
          f"{scored[1]['accuracy']:.4f} ({counts[1]}), combined {combined:.4f} (was {before:.4f})")


if __name__ == "__main__":
    main()
