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
from mutagen.id3 import ID3

from core.store.paths import display

#: Longest tag text kept, in characters: a tag is a label, not a document.
MAX_TAG_CHARS = 500
#: Highest track number kept; larger ones are clamped to it.
MAX_TRACK_NUMBER = 9999
#: Highest disc number kept; larger ones are clamped to it.
MAX_DISC_NUMBER = 999
#: Each field and the keys it is read from, first found wins (mutagen's easy names; Vorbis
#: comments have no fixed name for the album artist or the year).
FIELD_KEYS = {"title": ("title",), "artist": ("artist",), "album": ("album",),
              "albumartist": ("albumartist", "album artist", "album_artist"), "genre": ("genre",),
              "tracknumber": ("tracknumber", "track"), "discnumber": ("discnumber", "disc"),
              "date": ("date", "year", "originaldate")}
#: ID3 frames of the fields, for ID3 tags mutagen has no easy interface to (in WAV and AIFF).
ID3_FRAMES = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "albumartist": "TPE2",
              "genre": "TCON", "tracknumber": "TRCK", "discnumber": "TPOS", "date": "TDRC",
              "year": "TYER", "originaldate": "TDOR"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_LEADING_NUMBER = re.compile(r"\s*([0-9]+)")
#: A track number opening a file name: "03 - Intro", "03_intro", "3. Intro" (not "2nd_theme",
#: not "1812 Overture": at most three digits, then a separator).
_NAME_NUMBER = re.compile(r"\s*([0-9]{1,3})(?:\s*[-_.]+\s*|\s+)(?=\S)")
_NAME_GAPS = re.compile(r"[\s_\-\u2013\u2014]+")
_DATE = re.compile(r"\s*([12][0-9]{3})(-[01][0-9](-[0-3][0-9])?)?")
_YEAR = re.compile(r"(?<![0-9])([12][0-9]{3})(?![0-9])")


@dataclass(frozen=True)
class Tags:
    """A track's descriptive metadata; ``None`` where the file says nothing.

    ``guessed`` names the fields that come from the file and folder names, not from tags
    (``"title"``, ``"album"``, ``"tracknumber"``), so a player can mark them.
    """

    title: str
    artist: str | None
    album: str | None
    albumartist: str | None
    genre: str | None
    tracknumber: int | None
    discnumber: int | None
    date: str | None
    has_cover: bool
    tagged: bool
    guessed: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """Plain dict for storage."""
        return asdict(self) | {"guessed": list(self.guessed)}


def read_tags(path: str | os.PathLike) -> Tags:
    """Read a file's tags; never raises for missing or broken tags.

    Parameters
    ----------
    path : str or PathLike
        Audio file (Vorbis comments in FLAC, Ogg Vorbis and Opus; ID3 in MP3, WAV and AIFF; MP4).

    Returns
    -------
    Tags
        Without a title tag the title is the file name made readable (``title_from_name``) and
        a track number it starts with is the track number; without an album tag the album is
        the folder name; ``guessed`` lists those fields. ``tagged`` says whether the file had
        any of title, artist or album itself.
    """
    path = Path(path)
    fields = _read_fields(_load(path, easy=True))
    known = fields | {"tracknumber": _bounded_number(fields["tracknumber"], MAX_TRACK_NUMBER)}
    name_title, name_number = title_from_name(path.stem)
    guesses = {"title": name_title, "album": clean_text(path.parent.name), "tracknumber": name_number}
    guessed = tuple(key for key, value in guesses.items() if known[key] is None and value is not None)
    filled = known | {key: guesses[key] for key in guessed}
    return Tags(
        title=filled["title"],
        artist=fields["artist"] or fields["albumartist"],
        album=filled["album"],
        albumartist=fields["albumartist"],
        genre=fields["genre"],
        tracknumber=filled["tracknumber"],
        discnumber=_bounded_number(fields["discnumber"], MAX_DISC_NUMBER),
        date=clean_date(fields["date"]),
        has_cover=cover_art(path) is not None,
        tagged=any(fields[key] for key in ("title", "artist", "album")),
        guessed=guessed,
    )


def title_from_name(stem: str) -> tuple[str, int | None]:
    """A readable title and the track number a file name starts with.

    Parameters
    ----------
    stem : str
        File name without its extension, e.g. ``"03 - kart_grand-prix"``.

    Returns
    -------
    title : str
        Underscores and dashes turned into single spaces (``"kart grand prix"``); ``"Untitled"``
        when nothing printable is left.
    tracknumber : int or None
        The leading number (``3``) when a separator follows it and a name remains after it.
    """
    match = _NAME_NUMBER.match(stem)
    rest = stem[match.end():] if match else stem
    title = clean_text(_NAME_GAPS.sub(" ", rest))
    if match and title:
        return title, int(match.group(1))
    return clean_text(_NAME_GAPS.sub(" ", stem)) or "Untitled", None


def clean_date(text: str | None) -> str | None:
    """A release date as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, or ``None``.

    Parameters
    ----------
    text : str or None
        A date tag: ``"2004-05-06T10:00"``, ``"2004"``, ``"06/05/2004"``...

    Returns
    -------
    str or None
        The ISO prefix of the tag, else the first plausible year (1000-2999) found in it.
    """
    text = text or ""
    match = _DATE.match(text)
    if match and not text[match.end():match.end() + 1].isdigit():
        return match.group(0).strip()
    found = _YEAR.search(text)
    return found.group(1) if found else None


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


def _read_fields(audio) -> dict[str, str | None]:
    """Each of ``FIELD_KEYS`` as cleaned text (``None`` when absent)."""
    tags = None if audio is None else audio.tags
    if tags is None:  # a file with no tags is falsy in mutagen: test identity, not truth
        return dict.fromkeys(FIELD_KEYS)
    read = _id3_first if isinstance(tags, ID3) else _first
    return {field: next(filter(None, (read(tags, key) for key in keys)), None)
            for field, keys in FIELD_KEYS.items()}


def _first(tags, key: str) -> str | None:
    try:
        values = tags.get(key)
    except (KeyError, ValueError):  # easy ID3 and MP4 refuse names they do not know
        return None
    if not values:
        return None
    return clean_text(values[0] if isinstance(values, list) else values)


def _id3_first(tags: ID3, key: str) -> str | None:
    frame = tags.get(ID3_FRAMES.get(key, ""))
    text = getattr(frame, "text", None)
    return clean_text(text[0]) if text else None


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


def _bounded_number(text: str | None, maximum: int) -> int | None:
    """The leading number of ``"3"``, ``"03/12"``..., clamped to ``0..maximum``."""
    match = _LEADING_NUMBER.match(text or "")
    if match is None:
        return None
    digits = match.group(1).lstrip("0") or "0"
    # Compare lengths first: int() of thousands of digits is slow or refused.
    too_long = len(digits) > len(str(maximum))
    return maximum if too_long else min(int(digits), maximum)
