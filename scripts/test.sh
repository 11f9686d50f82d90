#!/usr/bin/env bash
# The test suite. Tests marked real_data run when the aclImdb archive is at ../shared/data (or
# LSTM_SENTIMENT_REAL_DATA points at it) and are skipped otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pytest -q -ra "$@"
