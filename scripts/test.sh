#!/usr/bin/env bash
# Run the whole test suite on a fresh Debian 12 machine: installs what it needs, then lint + tests.
# The tests start their own MongoDB (SecantusDB) and Kafka (tansu) servers on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
