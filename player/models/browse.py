"""Browsing the library by artist, album, genre and folder, over the rows the library already holds.

``BrowseIndex`` groups rows in one pass per category, when that category is first shown, and
orders a group's tracks only when it is opened: with 50,000 tracks neither costs a database round
trip, and both stay within the search's latency (``bench/browse.py``). Albums are grouped by album
and album artist when the files say who the album artist is, else by album and folder, so that two
untagged folders that are both called ``music`` stay two albums.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from core.library.catalog import TrackRow
from player.models.library import format_time

CATEGORIES = ("artists", "albums", "genres", "folders")
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
#: A leading track number in a file name: "03 Title", "3-title", "03.title" (not "2nd_theme").
_LEADING_NUMBER = re.compile(r"\s*(\d{1,3})(?:[\s._-]+|$)")
_NUMBER = re.compile(r"\s*(\d+)")
_YEAR = re.compile(r"(\d{4})")
NO_POSITION = 1_000_000  # untagged tracks sort after numbered ones
Index = QModelIndex | QPersistentModelIndex
TagsOf = Callable[[TrackRow], Mapping]


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a browse list: an artist, an album, a genre or a folder."""

    category: str
    key: str
    name: str
    detail: str
    rows: tuple[int, ...]
    duration_s: float = 0.0
    year: str = ""
    artist: str = ""


def leading_number(path: str) -> int | None:
    """The track number a file name starts with (``"03 - Intro.ogg"`` → 3), if any."""
    stem = os.path.basename(path).rsplit(".", 1)[0]
    match = _LEADING_NUMBER.match(stem)
    return int(match.group(1)) if match else None


def _number(value) -> int | None:
    """``3``, ``"03"``, ``"1/2"`` → the leading number; anything else ``None``."""
    if isinstance(value, int):
        return value
    match = _NUMBER.match(str(value)) if value is not None else None
    return int(match.group(1)) if match else None


def position(row: TrackRow, tags: Mapping) -> tuple[int, int]:
    """``(disc, track)`` of a row: its tags, else a leading number in its file name."""
    track = _number(tags.get("tracknumber"))
    if track is None:
        track = leading_number(row.path)
    return (_number(tags.get("discnumber")) or 1, NO_POSITION if track is None else track)


def year_of(tags: Mapping) -> str:
    """The year of a track's ``year`` or ``date`` tag (``"2019-04-01"`` → ``"2019"``)."""
    match = _YEAR.search(str(tags.get("year") or tags.get("date") or ""))
    return match.group(1) if match else ""


def default_tags(mapping: Mapping[str, Mapping] | None) -> TagsOf:
    """How to find a row's stored ``tags``: ``mapping`` by track id, else a ``tags`` attribute."""
    empty: dict = {}
    if mapping:
        return lambda row: mapping.get(row.id) or getattr(row, "tags", None) or empty
    return lambda row: getattr(row, "tags", None) or empty


class BrowseIndex:
    """Artists, albums, genres and folders of a set of rows.

    Parameters
    ----------
    rows : sequence of TrackRow
        The library's rows (kept, not copied).
    tags : mapping, optional
        Track id → the track document's stored ``tags`` (``tracknumber``, ``discnumber``,
        ``albumartist``, ``year``/``date``); rows with a ``tags`` attribute need none.
    """

    def __init__(self, rows: Sequence[TrackRow], tags: Mapping[str, Mapping] | None = None):
        self.rows = rows
        self.tags_of = default_tags(tags)
        self._entries: dict[str, list[Entry]] = {}
        self._by_key: dict[tuple[str, str], Entry] = {}

    def entries(self, category: str) -> list[Entry]:
        """The items of a category, by name (built on first use)."""
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}, not {category!r}")
        if category not in self._entries:
            entries = getattr(self, f"_{category}")()
            entries.sort(key=lambda e: (e.name.casefold(), e.key))
            self._entries[category] = entries
            self._by_key.update(((category, e.key), e) for e in entries)
        return self._entries[category]

    def entry(self, category: str, key: str) -> Entry | None:
        """An item by its key."""
        self.entries(category)
        return self._by_key.get((category, key))

    def tracks(self, entry: Entry) -> list[TrackRow]:
        """The entry's tracks in album, disc and track order (title last)."""
        rows, tags_of = self.rows, self.tags_of
        chosen = [rows[i] for i in entry.rows]

        def key(row: TrackRow):
            disc, track = position(row, tags_of(row))
            album = "" if entry.category == "albums" else row.album.casefold()
            return album, disc, track, row.title.casefold(), row.path

        return sorted(chosen, key=key)

    # -- one pass per category -----------------------------------------------------------------
    def _groups(self, key_of: Callable[[TrackRow], str]) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for i, row in enumerate(self.rows):
            groups.setdefault(key_of(row), []).append(i)
        return groups

    def _simple(self, category: str, key_of: Callable[[TrackRow], str], unknown: str) -> list[Entry]:
        return [Entry(category, key, key or unknown, _count(len(rows)), tuple(rows))
                for key, rows in self._groups(key_of).items()]

    def _artists(self) -> list[Entry]:
        return self._simple("artists", lambda r: r.artist, "Unknown artist")

    def _genres(self) -> list[Entry]:
        return self._simple("genres", lambda r: r.genre, "No genre")

    def _folders(self) -> list[Entry]:
        groups = self._groups(lambda r: os.path.dirname(r.path))
        return [Entry("folders", folder, os.path.basename(folder) or folder, folder, tuple(rows))
                for folder, rows in groups.items()]

    def _albums(self) -> list[Entry]:
        tags_of = self.tags_of

        def key_of(row: TrackRow) -> str:
            album_artist = tags_of(row).get("albumartist")
            return f"{row.album}\x1f{album_artist or os.path.dirname(row.path)}"

        return [self._album(key, rows) for key, rows in self._groups(key_of).items()]

    def _album(self, key: str, rows: list[int]) -> Entry:
        tracks = [self.rows[i] for i in rows]
        first_tags = self.tags_of(tracks[0])
        artists = {t.artist for t in tracks if t.artist}
        artist = (first_tags.get("albumartist") or (artists.pop() if len(artists) == 1 else "")
                  or ("Various artists" if artists else "Unknown artist"))
        years = sorted(filter(None, (year_of(self.tags_of(t)) for t in tracks)))
        year = years[0] if years else ""
        duration = sum(t.duration_s for t in tracks)
        detail = " · ".join(p for p in (artist, year) if p)
        return Entry("albums", key, tracks[0].album or "Unknown album", detail, tuple(rows),
                     duration, year, artist)


def _count(n: int) -> str:
    return f"{n:,} track" + ("" if n == 1 else "s")


def album_summary(entry: Entry) -> str:
    """``"2019 · 12 tracks · 48 min"`` for an album header."""
    minutes = round(entry.duration_s / 60)
    length = format_time(entry.duration_s) if minutes < 1 else (
        f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min")
    return " · ".join(p for p in (entry.year, _count(len(entry.rows)), length) if p)


class EntryListModel(QAbstractListModel):
    """The entries of one category (a list view or a cover grid shows it).

    ``decoration`` gives an entry's picture (an album cover) or ``None``.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list[Entry] = []
        self.decoration: Callable[[Entry], object] | None = None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.name
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleDescriptionRole):
            return entry.detail
        if role == ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.DecorationRole and self.decoration is not None:
            return self.decoration(entry)
        return None

    def set_entries(self, entries: list[Entry]) -> None:
        """Show ``entries``."""
        self.beginResetModel()
        self.entries = entries
        self.endResetModel()

    def row_of(self, key: str) -> int | None:
        """The row of the entry with ``key``."""
        return next((i for i, e in enumerate(self.entries) if e.key == key), None)


TRACK_COLUMNS = ("#", "Title", "Artist", "Duration")


class TrackListModel(QAbstractTableModel):
    """The tracks of the selected entry, in album order; ``#`` is ``disc.track`` on multi-disc
    albums."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tracks: list[TrackRow] = []
        self._numbers: list[str] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.tracks)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(TRACK_COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self.tracks[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (self._numbers[index.row()], row.title, row.artist,
                    format_time(row.duration_s))[column]
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.path
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return TRACK_COLUMNS[section]
        return None

    def set_tracks(self, tracks: list[TrackRow], tags_of: TagsOf) -> None:
        """Show ``tracks`` (already in order)."""
        positions = [position(t, tags_of(t)) for t in tracks]
        multi_disc = len({disc for disc, _ in positions}) > 1
        self.beginResetModel()
        self.tracks = tracks
        self._numbers = [_number_text(disc, track, multi_disc) for disc, track in positions]
        self.endResetModel()


def _number_text(disc: int, track: int, multi_disc: bool) -> str:
    if track == NO_POSITION:
        return ""
    return f"{disc}.{track:02d}" if multi_disc else str(track)
