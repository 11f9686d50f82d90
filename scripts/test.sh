#!/usr/bin/env bash
# The test suite. Tests marked real_data run when the aclImdb archive is at ../shared/data (or
# LSTM_SENTIMENT_REAL_DATA points at it) and are skipped otherwise. The page test drives Debian's headless
# chromium through chromedriver; they are installed here when missing (skipped without them, unless
# LSTM_SENTIMENT_REQUIRE_BROWSER=1, which CI sets).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
    if command -v apt-get >/dev/null; then
        $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
            || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; } \
            || echo "could not install chromium; the browser test will not run" >&2
    fi
fi
python3 -m pytest -q -ra "$@"
