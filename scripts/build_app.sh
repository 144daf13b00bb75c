#!/usr/bin/env bash
# Build the one-folder app with PyInstaller (build.spec) and smoke-test it: the built binary starts
# offscreen, plays a generated file to the ALSA null device and must exit 0; the local stack runs
# with the database server as its own program (encore-db), never frozen into encore.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/pip install -q -e ".[build]"
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN build.spec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'pcm.!default { type null }\n' > "$work/asound.conf"
.venv/bin/python -c "import numpy as np, soundfile as sf, sys; t = np.arange(22050) / 44100; \
sf.write(sys.argv[1], 0.2 * np.sin(2 * np.pi * 440 * t), 44100)" "$work/tone.wav"
ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$work/asound.conf" QT_QPA_PLATFORM=offscreen \
  ENCORE_DATA_DIR="$work/data" timeout 120 dist/encore/encore --smoke-test "$work/tone.wav"
# SecantusDB (GPL-2.0-only) lives in encore-db only: not one of its modules is inside encore.
test -x dist/encore/encore-db
if .venv/bin/pyi-archive_viewer -r -b dist/encore/encore | grep -q -E '(^|[ .])(secantus|wiredtiger)'; then
  echo "SecantusDB is frozen into dist/encore/encore" >&2
  exit 1
fi
# The bundled local stack: the broker from the bundled tansu, the database from encore-db.
export ENCORE_DATA_DIR="$work/data"
timeout 120 dist/encore/encore services up
db_pid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["mongo"]["pid"])' \
  "$work/data/services/stack.json")
tr '\0' ' ' < "/proc/$db_pid/cmdline" | grep -q '/encore-db '
timeout 60 dist/encore/encore services status | grep -q 'mongo: running'
timeout 60 dist/encore/encore services down | grep -q 'stopped: mongo, kafka'
unset ENCORE_DATA_DIR
echo "built dist/encore ($(du -sh dist/encore | cut -f1)); smoke test passed"
