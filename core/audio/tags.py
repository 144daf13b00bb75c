"""Read tags with mutagen, with fallbacks for untagged files (file name as title, folder as album)."""

from __future__ import annotations

import base64
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import mutagen
from mutagen.flac import Picture


@dataclass(frozen=True)
class Tags:
    """A track's descriptive metadata; ``None`` where the file says nothing."""

    title: str
    artist: str | None
    album: str | None
    albumartist: str | None
    genre: str | None
    tracknumber: int | None
    has_cover: bool
    tagged: bool

    def as_dict(self) -> dict:
        """Plain dict for storage."""
        return asdict(self)


def read_tags(path: str | os.PathLike) -> Tags:
    """Read a file's tags; never raises for missing or broken tags.

    Parameters
    ----------
    path : str or PathLike
        Audio file.

    Returns
    -------
    Tags
        ``title`` falls back to the file name and ``album`` to the folder name; ``tagged`` says
        whether the file had any of title, artist or album itself.
    """
    path = Path(path)
    easy = _load(path, easy=True)
    fields = {key: _first(easy, key) for key in ("title", "artist", "album", "albumartist",
                                                  "genre", "tracknumber")}
    tagged = any(fields[key] for key in ("title", "artist", "album"))
    return Tags(
        title=fields["title"] or path.stem,
        artist=fields["artist"] or fields["albumartist"],
        album=fields["album"] or path.parent.name or None,
        albumartist=fields["albumartist"],
        genre=fields["genre"],
        tracknumber=_track_number(fields["tracknumber"]),
        has_cover=cover_art(path) is not None,
        tagged=tagged,
    )


def cover_art(path: str | os.PathLike) -> bytes | None:
    """Return the embedded front cover image (JPEG/PNG bytes), or ``None``.

    Parameters
    ----------
    path : str or PathLike
        Audio file (ID3, Vorbis comment, FLAC or MP4 tags).
    """
    audio = _load(Path(path), easy=False)
    if audio is None:
        return None
    pictures = getattr(audio, "pictures", None)  # FLAC
    if pictures:
        return pictures[0].data
    tags = audio.tags
    if tags is None:  # a file with no tags is falsy in mutagen: test identity, not truth
        return None
    for key in tags.keys():  # noqa: SIM118 (iterating a Vorbis comment yields pairs)
        if key.startswith("APIC"):  # ID3
            return tags[key].data
    if "covr" in tags:  # MP4
        return bytes(tags["covr"][0])
    blocks = tags.get("metadata_block_picture") if hasattr(tags, "get") else None
    if blocks:  # Ogg Vorbis/Opus carry a base64 FLAC picture block
        try:
            return Picture(base64.b64decode(blocks[0])).data
        except (ValueError, TypeError, mutagen.MutagenError):
            return None
    return None


def _load(path: Path, *, easy: bool):
    try:
        return mutagen.File(str(path), easy=easy)
    except (mutagen.MutagenError, OSError, ValueError, KeyError, IndexError, TypeError):
        # mutagen raises assorted errors on broken headers; a broken tag must not lose the track
        return None


def _first(audio, key: str) -> str | None:
    if audio is None or audio.tags is None:
        return None
    try:
        values = audio.tags.get(key)
    except (KeyError, ValueError):
        return None
    if not values:
        return None
    text = str(values[0]).strip()
    return text or None


def _track_number(text: str | None) -> int | None:
    if not text:
        return None
    head = text.split("/", 1)[0].strip()
    return int(head) if head.isdigit() else None
