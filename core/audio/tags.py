"""Read tags with mutagen, with fallbacks for untagged files (file name as title, folder as album).

Tag values come from anyone's files: every one is validated and clamped here, before it is
stored (a FLAC whose track number was ``99999999999999999999`` once stopped whole imports).
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import mutagen
from mutagen.flac import Picture

from core.store.paths import display

#: Longest tag text kept, in characters: a tag is a label, not a document.
MAX_TAG_CHARS = 500
#: Highest track number kept; larger ones are clamped to it.
MAX_TRACK_NUMBER = 9999
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_LEADING_NUMBER = re.compile(r"\s*([0-9]+)")


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
        title=fields["title"] or clean_text(path.stem) or "Untitled",
        artist=fields["artist"] or fields["albumartist"],
        album=fields["album"] or clean_text(path.parent.name),
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
    return clean_text(values[0] if isinstance(values, list) else values)


def clean_text(value: object) -> str | None:
    """A tag value as short, printable, storable text.

    Parameters
    ----------
    value : object
        Whatever a tag holds (text, bytes, a number...).

    Returns
    -------
    str or None
        Control characters replaced by a space, undecodable bytes shown as ``\\xNN``, at most
        ``MAX_TAG_CHARS`` characters; ``None`` when nothing printable is left.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = _CONTROL.sub(" ", display(str(value))).strip()
    return text[:MAX_TAG_CHARS].rstrip() or None


def _track_number(text: str | None) -> int | None:
    """The leading number of ``"3"``, ``"03/12"``..., clamped to ``0..MAX_TRACK_NUMBER``."""
    match = _LEADING_NUMBER.match(text or "")
    if match is None:
        return None
    digits = match.group(1).lstrip("0") or "0"
    # Compare lengths first: int() of thousands of digits is slow or refused.
    too_long = len(digits) > len(str(MAX_TRACK_NUMBER))
    return MAX_TRACK_NUMBER if too_long else min(int(digits), MAX_TRACK_NUMBER)
