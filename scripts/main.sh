#!/usr/bin/env bash
# The main job on a fresh machine: install, train the `quick` preset (about 8 minutes on 2 cores), predict.
# DATA defaults to ../shared/data/aclImdb_v1.tar.gz, else the archive is downloaded into the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
DATA=${DATA:-../shared/data/aclImdb_v1.tar.gz}
if [ ! -e "$DATA" ]; then
  lstm-sentiment data download
  DATA=$(python3 -c "from lstm_sentiment.data.sources import cache_dir; print(cache_dir() / 'aclImdb_v1.tar.gz')")
fi
lstm-sentiment train --preset "${PRESET:-quick}" --data "$DATA" --out "runs/${PRESET:-quick}"
lstm-sentiment predict --model "runs/${PRESET:-quick}" "This movie was fantastic: a moving story, brilliant acting and a wonderful score." "A dull, boring waste of time."
