#!/usr/bin/env bash
# Fetch the real-recording benchmark corpus: the soundtracks of five Debian game-data packages.
# Only the music is unpacked (the games are not installed). Usage: bench/fetch_corpus.sh [DEST]
set -euo pipefail
dest=${1:-${ENCORE_CORPUS:-$HOME/.cache/encore-corpus}}
mkdir -p "$dest"
declare -A music=(
  [wesnoth-1.16-music]=./usr/share/games/wesnoth/1.16/data/core/music/
  [supertux-data]=./usr/share/games/supertux2/music/
  [supertuxkart-data]=./usr/share/games/supertuxkart/data/music/
  [widelands-data]=./usr/share/games/widelands/data/music/
  [hedgewars-data]=./usr/share/games/hedgewars/Data/Music/
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for pkg in "${!music[@]}"; do
  if [ -f "$dest/$pkg/.done" ]; then continue; fi
  echo "fetching $pkg" >&2
  (cd "$work" && apt-get download "$pkg" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download "$pkg"; })
  mkdir -p "$dest/$pkg"
  dpkg-deb --fsys-tarfile "$work"/"$pkg"_*.deb \
    | tar -x -C "$dest/$pkg" --wildcards --no-anchored "${music[$pkg]}*"
  # Flatten the package path; keep the side files (supertuxkart's .music carry the composer).
  src="$dest/$pkg/${music[$pkg]#./}"
  find "$src" -type f -exec mv -t "$dest/$pkg" {} +
  rm -rf "$dest/$pkg/usr"
  rm -f "$work"/"$pkg"_*.deb
  touch "$dest/$pkg/.done"
done
echo "$dest"
