#!/usr/bin/env bash
# Install Encore if needed, then run it: ./encore.sh (the player) or ./encore.sh import DIR, ...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ -x "$here/.venv/bin/encore" ] || bash "$here/scripts/setup.sh"
exec "$here/.venv/bin/encore" "$@"
