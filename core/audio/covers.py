"""A track's cover: embedded art, else an image in its folder; cached on disk for the player.

Embedded art is read with mutagen (ID3 APIC, FLAC pictures, MP4 ``covr``, Vorbis/Opus
``METADATA_BLOCK_PICTURE``; see ``tags.cover_art``). A folder image is ``cover.*``, ``folder.*``
or ``front.*`` (any case; JPEG or PNG), in that order of preference. The cache holds the original
image bytes under ``$ENCORE_DATA_DIR/covers/``, named by a hash of the bytes, so an album whose
tracks share one picture is stored once; scaling is the player's job (no Qt here).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.audio.tags import cover_art
from core.config import Config

FOLDER_NAMES = ("cover", "folder", "front")
FOLDER_EXTENSIONS = (".jpg", ".jpeg", ".png")
#: Leading bytes of the image formats a cover may be in, and their file extension.
SIGNATURES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg", b"GIF87a": ".gif",
              b"GIF89a": ".gif"}


@dataclass(frozen=True)
class Cover:
    """A cover image: its bytes, file extension, and where it came from."""

    data: bytes
    extension: str
    source: str  # "embedded" or the folder image's path


def image_extension(data: bytes) -> str | None:
    """The extension of an image's format from its first bytes (``None``: not a known image)."""
    for signature, extension in SIGNATURES.items():
        if data.startswith(signature):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


def folder_image(folder: str | os.PathLike) -> Path | None:
    """The folder's cover image file (``cover.*``, ``folder.*``, ``front.*``, any case), if any."""
    try:
        names = {entry.name.lower(): entry.path for entry in os.scandir(folder) if entry.is_file()}
    except OSError:
        return None
    for stem in FOLDER_NAMES:
        for extension in FOLDER_EXTENSIONS:
            if stem + extension in names:
                return Path(names[stem + extension])
    return None


def find_cover(track: str | os.PathLike) -> Cover | None:
    """A track's cover: embedded art first, else its folder's image; ``None`` if neither is a
    readable image."""
    data = cover_art(track)
    if data and image_extension(data):
        return Cover(data, image_extension(data), "embedded")
    image = folder_image(Path(track).parent)
    if image is None:
        return None
    try:
        data = image.read_bytes()
    except OSError:
        return None
    extension = image_extension(data)
    return Cover(data, extension, str(image)) if extension else None


def cached_cover(track: str | os.PathLike, cache_dir: str | os.PathLike) -> Path | None:
    """The file of a track's cover in the cache (written on first use), or ``None``.

    Parameters
    ----------
    track : str or PathLike
        Audio file.
    cache_dir : str or PathLike
        The cache folder (``cover_cache_dir(config)``); created if missing.

    Returns
    -------
    Path or None
        ``<cache_dir>/<sha1 of the image>.<ext>``.
    """
    cover = find_cover(track)
    if cover is None:
        return None
    cache = Path(cache_dir)
    dest = cache / (hashlib.sha1(cover.data).hexdigest()[:24] + cover.extension)
    if not dest.exists():
        cache.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a reader on another thread never sees half an image.
        fd, tmp = tempfile.mkstemp(dir=cache, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(cover.data)
        os.replace(tmp, dest)
    return dest


def cover_cache_dir(config: Config) -> Path:
    """Where cached covers live: ``<data dir>/covers``."""
    return config.data_dir / "covers"
