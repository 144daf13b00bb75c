#!/usr/bin/env bash
# Install Encore on Debian 12: system libraries and a virtual environment in .venv.
# Idempotent: a second run only checks. Usage: bash scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(libportaudio2 libsndfile1 ffmpeg libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0
          libxkbcommon0 libx11-6 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
          libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 python3-venv iproute2)
# Test-only: a private D-Bus session and MPRIS clients, a real browser for the web page, JACK.
[ "${1:-}" = "--test" ] && packages+=(dbus libglib2.0-bin chromium chromium-driver jackd2 xvfb xauth)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -q \
    --no-install-recommends "${missing[@]}"
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
extras=""; [ "${1:-}" = "--test" ] && extras="[test]"
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".${extras}"
