#!/usr/bin/env bash
# Rebuild the model shipped inside the package (src/lstm_sentiment/default_model) from scratch: the `quick`
# architecture and schedule, trained on IMDb's training reviews together with the Stanford Sentiment Treebank's
# training sentences and every labelled phrase of its trees (data.phrases; phrase labels are what teach "not
# bad"), each with its five-point label as a soft target (data.treebank_labels = graded: label/4, neutral phrases
# included; on validation: IMDb 0.9239 and SST-2 dev 0.8555 against 0.9143 and 0.8383 with binary labels), and
# three negated variants of every clear copula phrase of the training trees (data.negations = 3, data/negation.py:
# over seeds 0 and 1, negated negatives of the dev trees 0.61 right against 0.12 without, IMDb validation 0.9205
# against 0.9223 and SST-2 dev 0.8469 against 0.8475), each clear opinion of those trees placed in all seven
# constructions of data/composition.py, balanced per construction (data.compositions = 7,
# data.balance_compositions), with negations mirrored at full strength (data.negation_strength = 1: "isn't
# dreadful" -> 1.0, not 0.75), and an n-gram member mixed on validation (ngram.order = 3); over seeds 0 and 1 on
# validation: IMDb 0.9239 against 0.9205, SST-2 dev 0.8664 against 0.8469, dev-tree constructions 0.83 against
# 0.55 (docs/results.md), and every word the training split labels on its own (the treebank's one-word phrases)
# in the vocabulary beyond the 5,000 most frequent (data.labelled_words: "loathe", "cherish"; seed 0 on
# validation: IMDb 0.9315 against 0.9203, SST-2 dev 0.8739 against 0.8635), and first-person verb opinions in four
# of nine constructions per verb and object (data.verb_opinions = 4, data/verb_opinions.py: "I didn't cherish
# it"; seed 0 on validation: IMDb 0.9303, SST-2 dev 0.8704, dev-tree verb constructions of held-out verbs 0.82
# against 0.54), the clear words of VADER's opinion lexicon that no training tree holds as one-word examples
# (data.lexicon_words = vader, data/lexicon.py: "despise", "adore"), an n-gram member that reads nothing of a
# negated clause to the end of its sentence nor before a "but" (ngram.negation_scope = clause), and sentences
# mixed apart from reviews (ngram.sentence_mix_words = 60: texts under 60 tokens get a mix of their own); the last
# three together over seeds 0 and 1 on validation: combined 0.9166 against 0.9147, IMDb 0.9333 against 0.9305,
# SST-2 dev 0.8687 against 0.8693 (docs/results.md, eleventh step); then a member that leaves out the whole of a
# sentence holding a negator, its subject too (ngram.negation_scope = sentence; beside the recipe's LSTMs of seeds
# 0-4: combined validation 0.9125 against 0.9133, dev-tree constructions better with all five, sixteenth step),
# and the sentences that member reads nothing of mixed apart, by a mix fitted on such validation sentences with
# both labels weighing the same (ngram.unread_mix = balanced; beside the same five LSTMs: dev-tree constructions
# better with all five, `check`'s mean failure 8.6% against 10.8%, SST-2 dev 0.8550 against 0.8599, seventeenth step),
# and last 74 set phrases of data/idioms.json said of 8 subjects each (data.idioms = 8: "I can't fault it", "it fell
# flat") with the negated limit as an eighth construction (data.compositions = 8: "the acting couldn't have been
# more terrific"); beside the balanced unread mix, over seeds 0-3 against the recipe's 0-4 on validation: 60
# held-out idioms 0.806 against 0.795 (0.833 against 0.808 at seed 0), IMDb 0.9281 against 0.9309 (0.9303 against
# 0.9299 at seed 0), SST-2 dev 0.8561 against 0.8550 (eighteenth step).
# Seed 0; the epoch kept is the one with the lowest validation loss (IMDb reviews of held-out movies plus
# the treebank's dev sentences; the test splits are not read while training). The weights are packed to float16,
# then the packed model is scored once on both test splits and by `check`, and those numbers become its
# metrics.json (what `/model` and the page show). About 20 minutes on the 2-core Intel Xeon (AMX) of session 20,
# beside the test suite (training 782 s; 459 s alone in session 17). Needs `pip install 'lstm-sentiment[lexicon]'`
# (in `[test]`). Older shipped models, each also with the settings named for the newer ones: the one before it
# IDIOMS=0 COMPOSITIONS=7; two before UNREAD_MIX=shared; three before NGRAM_SCOPE=clause; four before
# LEXICON_WORDS=none NGRAM_SCOPE=drop SENTENCE_MIX_WORDS=0; five before VERB_OPINIONS=0; six before
# LABELLED_WORDS=false; seven before NEGATIONS=3 COMPOSITIONS=0 BALANCE_COMPOSITIONS=false NEGATION_STRENGTH=0.5
# NGRAM_ORDER=0.
# IMDB and SST default to ../shared/data/; RUN_DIR (default runs/default-model) keeps the full run; SKIP_TRAIN=1
# packs and scores an existing RUN_DIR trained by the same command.
set -euo pipefail
cd "$(dirname "$0")/.."
IMDB=${IMDB:-../shared/data/aclImdb_v1.tar.gz}
SST=${SST:-../shared/data/trainDevTestTrees_PTB.zip}
RUN_DIR=${RUN_DIR:-runs/default-model}
OUT=${OUT:-src/lstm_sentiment/default_model}  # OUT=elsewhere builds a candidate without replacing the shipped model
if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  lstm-sentiment train --preset quick --data "$IMDB" --data "$SST" --set data.phrases=true \
    --set data.treebank_labels="${TREEBANK_LABELS:-graded}" --set data.negations="${NEGATIONS:-3}" \
    --set data.compositions="${COMPOSITIONS:-8}" --set data.idioms="${IDIOMS:-8}" \
    --set data.balance_compositions="${BALANCE_COMPOSITIONS:-true}" --set data.negation_strength="${NEGATION_STRENGTH:-1.0}" \
    --set data.labelled_words="${LABELLED_WORDS:-true}" --set data.verb_opinions="${VERB_OPINIONS:-4}" \
    --set data.verb_lexicon="${VERB_LEXICON:-standard}" --set data.word_aliases="${WORD_ALIASES:-none}" \
    --set data.lexicon_words="${LEXICON_WORDS:-vader}" --set ngram.order="${NGRAM_ORDER:-3}" \
    --set ngram.negation_scope="${NGRAM_SCOPE:-sentence}" --set ngram.sentence_mix_words="${SENTENCE_MIX_WORDS:-60}" \
    --set ngram.unread_mix="${UNREAD_MIX:-balanced}" \
    --seed 0 --no-test --out "$RUN_DIR" --overwrite
fi
lstm-sentiment pack --model "$RUN_DIR" --out "$OUT" --dtype float16 --overwrite
for split in validation test; do
  lstm-sentiment evaluate --model "$OUT" --data "$IMDB" --split $split --json > "$RUN_DIR/packed-imdb-$split.json"
  lstm-sentiment evaluate --model "$OUT" --data "$SST" --split $split --json > "$RUN_DIR/packed-sst-$split.json"
done
lstm-sentiment evaluate --model "$RUN_DIR" --data "$IMDB" --split validation --json > "$RUN_DIR/imdb-validation.json"
lstm-sentiment check --model "$OUT" --json > "$RUN_DIR/packed-check.json"
python3 - "$RUN_DIR" "$OUT" <<'PY'
import json, sys
from pathlib import Path
run, out = Path(sys.argv[1]), Path(sys.argv[2])
read = lambda name: json.loads((run / name).read_text())
full, packed = read("imdb-validation.json")["accuracy"], read("packed-imdb-validation.json")["accuracy"]
print(f"IMDb validation accuracy: float32 {full:.4f}, shipped float16 {packed:.4f}")
if abs(packed - full) > 0.001:
    sys.exit("float16 weights moved validation accuracy by more than 0.1 point; ship float32 instead")
trained = read("metrics.json")
metrics = {**read("packed-imdb-test.json"), "split": "test",
           "test_sets": {"imdb": read("packed-imdb-test.json")["accuracy"], "sst2": read("packed-sst-test.json")["accuracy"]},
           "validation_sets": {"imdb": packed, "sst2": read("packed-sst-validation.json")["accuracy"]},
           "check": read("packed-check.json")["summary"],
           "validation": {key: trained[key] for key in ("accuracy", "loss", "n")},
           **{key: trained[key] for key in ("preset", "best_epoch", "epochs_run", "seconds", "machine", "seed",
                                            "data_sources", "phrases", "negations", "compositions",
                                            "negation_strength", "labelled_words", "composition_wordings",
                                            "verb_opinions", "verb_lexicon", "word_aliases", "aliases", "lexicon_words", "idioms",
                                            "training_examples") if key in trained}}
(out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
print(f"test accuracy: IMDb {metrics['test_sets']['imdb']:.4f}, SST-2 {metrics['test_sets']['sst2']:.4f}; "
      f"check: fixed-label cases passed {metrics['check']['mft_pass_rate']:.3f}")
PY
