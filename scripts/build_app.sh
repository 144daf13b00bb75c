#!/usr/bin/env bash
# Build the one-folder app with PyInstaller (build.spec) and smoke-test it: the built binary starts
# offscreen, plays a generated file to the ALSA null device and must exit 0.
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
# The bundled local stack: the database runs from the app itself, the broker from the bundled tansu.
ENCORE_DATA_DIR="$work/data" timeout 120 dist/encore/encore services up
ENCORE_DATA_DIR="$work/data" timeout 60 dist/encore/encore services status
ENCORE_DATA_DIR="$work/data" timeout 60 dist/encore/encore services down
echo "built dist/encore ($(du -sh dist/encore | cut -f1)); smoke test passed"
