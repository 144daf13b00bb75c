"""The benchmark corpus: Debian game soundtracks with album and artist labels.

Album = the soundtrack's package; artist = the file's artist tag, or the composer of
supertuxkart's ``.music`` side files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import mutagen

from core.audio.tags import read_tags

ROOT = Path(os.environ.get("ENCORE_CORPUS", Path.home() / ".cache" / "encore-corpus"))


def ensure_corpus() -> Path:
    """Fetch the corpus if missing (``bench/fetch_corpus.sh``) and return its folder."""
    if not all((ROOT / pkg / ".done").exists() for pkg in _packages()):
        subprocess.run(["bash", str(Path(__file__).with_name("fetch_corpus.sh")), str(ROOT)], check=True)
    return ROOT


def _packages() -> list[str]:
    return ["wesnoth-1.16-music", "supertux-data", "supertuxkart-data", "widelands-data",
            "hedgewars-data"]


def tracks(root: Path | None = None) -> list[Path]:
    """Every audio file of the corpus, sorted."""
    root = root or ROOT
    return sorted(p for p in root.glob("*/*") if p.suffix.lower() in {".ogg", ".flac", ".mp3"})


def _side_file_composers(folder: Path) -> dict[str, str]:
    composers = {}
    for side in folder.glob("*.music"):
        text = side.read_text(errors="replace")
        composer = re.search(r'composer\s*=\s*"([^"]+)"', text)
        file = re.search(r'file\s*=\s*"([^"]+)"', text)
        if composer and file:
            composers[file.group(1)] = composer.group(1)
    return composers


def labels(paths: list[Path]) -> dict[str, tuple[str, str | None]]:
    """``{file name relative to the corpus: (album, artist)}``; artist may be ``None``."""
    out, composers = {}, {}
    for path in paths:
        folder = path.parent
        if folder not in composers:
            composers[folder] = _side_file_composers(folder)
        artist = read_tags(path).artist or composers[folder].get(path.name)
        out[f"{folder.name}/{path.name}"] = (folder.name, _normalise_artist(artist))
    return out


def _normalise_artist(artist: str | None) -> str | None:
    if not artist:
        return None
    # "Max Freeman & Chris Leutwyler" and "Chris Leutwyler & Max Freeman" are one credit
    return " & ".join(sorted(a.strip().lower() for a in artist.split("&")))


def stripped_copy(root: Path, dest: Path) -> Path:
    """A copy of the corpus with every tag removed (audio-only evaluation)."""
    if (dest / ".done").exists():
        return dest
    for path in tracks(root):
        target = dest / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        audio = mutagen.File(target)
        if audio is not None and audio.tags is not None:
            audio.delete()
            audio.save()
    (dest / ".done").touch()
    return dest
