#!/usr/bin/env bash
# Installs lstm-sentiment and its test tools into the current Python. torch==2.13.0 goes first so that pip
# takes the CPU build instead of resolving a bare `torch` to the CUDA wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
