"""Browsing the library by artist, album, genre and folder, over the rows the library already holds.

``BrowseIndex`` groups rows in one pass per category, when that category is first shown, and
orders a group's tracks only when it is opened: with 50,000 tracks neither costs a database round
trip, and both stay within the search's latency (``bench/browse.py``). An album is its name in its
folder (a ``CD1``/``Disc 2`` folder counts as its parent), so two untagged folders both called
``music`` stay two albums, and tracks of one album with and without an album-artist tag stay one.
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
_DISC_FOLDER = re.compile(r"(?i)(cd|disc|disk)\s*\d{1,2}")
NO_POSITION = 1_000_000  # untagged tracks sort after numbered ones
Index = QModelIndex | QPersistentModelIndex


@dataclass(slots=True)
class Entry:
    """One item of a browse list: an artist, an album, a genre or a folder (not frozen: 4,000
    albums are built twice as fast)."""

    category: str
    key: str
    name: str
    rows: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Details:
    """What a header says about an entry (computed when it is opened, not for every entry)."""

    detail: str
    artist: str = ""
    year: str = ""
    duration_s: float = 0.0


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


def album_folder(folder: str) -> str:
    """The folder that holds an album: a disc folder's parent (``…/Album/CD2`` → ``…/Album``)."""
    parent, _, name = folder.rpartition(os.sep)
    return parent if _DISC_FOLDER.fullmatch(name) else folder


def year_of(tags: Mapping) -> str:
    """The year of a track's ``year`` or ``date`` tag (``"2019-04-01"`` → ``"2019"``)."""
    match = _YEAR.search(str(tags.get("year") or tags.get("date") or ""))
    return match.group(1) if match else ""


class BrowseIndex:
    """Artists, albums, genres and folders of a growing set of rows.

    ``add`` files each row under its four keys (a few dictionary operations per row, so a loader
    batch costs milliseconds); a category's sorted entries are built when it is shown, and an
    entry's details and track order when it is opened.

    Parameters
    ----------
    rows : sequence of TrackRow, optional
    tags : mapping, optional
        Track id → the track document's stored ``tags`` (``tracknumber``, ``discnumber``,
        ``albumartist``, ``year``/``date``); rows with a ``tags`` attribute need none.
    """

    def __init__(self, rows: Sequence[TrackRow] = (), tags: Mapping[str, Mapping] | None = None):
        self.rows: list[TrackRow] = []
        self.tags: dict[str, Mapping] = {}
        self._groups: dict[str, dict[str, list[int]]] = {c: {} for c in CATEGORIES}
        self._entries: dict[str, list[Entry]] = {}
        self._by_key: dict[tuple[str, str], Entry] = {}
        self._details: dict[tuple[str, str], Details] = {}
        self._positions: dict[str, tuple[int, int]] = {}
        self._tracks: dict[tuple[str, str], list[TrackRow]] = {}
        self.add(rows, tags)

    def add(self, rows: Sequence[TrackRow], tags: Mapping[str, Mapping] | None = None) -> None:
        """File more rows (a loader batch)."""
        artists, albums, genres, folders = (self._groups[c] for c in CATEGORIES)
        known, start = self.tags, len(self.rows)
        self.rows.extend(rows)
        for i, row in enumerate(rows, start):
            stored = (tags.get(row.id) if tags else None) or getattr(row, "tags", None)
            if stored:
                known[row.id] = stored
            folder = row.path.rpartition(os.sep)[0]
            artists.setdefault(row.artist, []).append(i)
            genres.setdefault(row.genre, []).append(i)
            folders.setdefault(folder, []).append(i)
            albums.setdefault(f"{row.album}\x1f{album_folder(folder)}", []).append(i)
        if rows:
            self._entries.clear()
            self._by_key.clear()
            self._details.clear()
            self._tracks.clear()

    def tags_of(self, row: TrackRow) -> Mapping:
        """A row's stored tags (empty if none)."""
        return self.tags.get(row.id, _NO_TAGS)

    def entries(self, category: str) -> list[Entry]:
        """The items of a category, by name (built on first use after a change)."""
        if category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}, not {category!r}")
        if category not in self._entries:
            name = self._namer(category)
            entries = [Entry(category, key, name(key, rows), tuple(rows))
                       for key, rows in self._groups[category].items()]
            entries.sort(key=lambda e: (e.name.casefold(), e.key))
            self._entries[category] = entries
            self._by_key.update(((category, e.key), e) for e in entries)
        return self._entries[category]

    def entry(self, category: str, key: str) -> Entry | None:
        """An item by its key."""
        self.entries(category)
        return self._by_key.get((category, key))

    def position(self, row: TrackRow) -> tuple[int, int]:
        """``(disc, track)`` of a row (computed once)."""
        found = self._positions.get(row.id)
        if found is None:
            found = self._positions[row.id] = position(row, self.tags_of(row))
        return found

    def tracks(self, entry: Entry) -> list[TrackRow]:
        """The entry's tracks in album, disc and track order (title last)."""
        cached = self._tracks.get((entry.category, entry.key))
        if cached is not None:
            return cached
        albums = entry.category == "albums"

        def key(row: TrackRow):
            return ("" if albums else row.album.casefold(), *self.position(row),
                    row.title.casefold(), row.path)

        cached = self._tracks[(entry.category, entry.key)] = sorted(
            (self.rows[i] for i in entry.rows), key=key)
        return cached

    def details(self, entry: Entry) -> Details:
        """Artist, year and length of an album; the track count (or the path) of the others."""
        cached = self._details.get((entry.category, entry.key))
        if cached is None:
            cached = self._album(entry) if entry.category == "albums" else Details(
                entry.key if entry.category == "folders" else _count(len(entry.rows)))
            self._details[(entry.category, entry.key)] = cached
        return cached

    def _album(self, entry: Entry) -> Details:
        tracks = [self.rows[i] for i in entry.rows]
        artists = {t.artist for t in tracks if t.artist}
        artist = (next(filter(None, (self.tags_of(t).get("albumartist") for t in tracks)), None)
                  or (next(iter(artists)) if len(artists) == 1 else "")
                  or ("Various artists" if artists else "Unknown artist"))
        years = sorted(filter(None, (year_of(self.tags_of(t)) for t in tracks)))
        year = years[0] if years else ""
        return Details(" · ".join(p for p in (artist, year) if p), artist, year,
                       sum(t.duration_s for t in tracks))

    def _namer(self, category: str) -> Callable[[str, list[int]], str]:
        """How an entry of ``category`` is named from its key and rows."""
        all_rows = self.rows
        return {"artists": lambda key, rows: key or "Unknown artist",
                "genres": lambda key, rows: key or "No genre",
                "folders": lambda key, rows: os.path.basename(key) or key or os.sep,
                "albums": lambda key, rows: all_rows[rows[0]].album or "Unknown album"}[category]


_NO_TAGS: Mapping = {}


def _count(n: int) -> str:
    return f"{n:,} track" + ("" if n == 1 else "s")


def album_summary(entry: Entry, details: Details) -> str:
    """``"2019 · 12 tracks · 48 min"`` for an album header."""
    minutes = round(details.duration_s / 60)
    length = format_time(details.duration_s) if minutes < 1 else (
        f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min")
    return " · ".join(p for p in (details.year, _count(len(entry.rows)), length) if p)


class EntryListModel(QAbstractListModel):
    """The entries of one category (a list view or a cover grid shows it).

    ``decoration`` gives an entry's picture (an album cover) or ``None``; ``describe`` its
    tooltip.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list[Entry] = []
        self.decoration: Callable[[Entry], object] | None = None
        self.describe: Callable[[Entry], str] = lambda entry: ""

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.name
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleDescriptionRole):
            return self.describe(entry)
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

    def set_tracks(self, tracks: list[TrackRow], position_of: Callable[[TrackRow], tuple[int, int]]
                   ) -> None:
        """Show ``tracks`` (already in order); ``position_of`` gives ``(disc, track)``."""
        positions = [position_of(t) for t in tracks]
        multi_disc = len({disc for disc, _ in positions}) > 1
        self.beginResetModel()
        self.tracks = tracks
        self._numbers = [_number_text(disc, track, multi_disc) for disc, track in positions]
        self.endResetModel()


def _number_text(disc: int, track: int, multi_disc: bool) -> str:
    if track == NO_POSITION:
        return ""
    return f"{disc}.{track:02d}" if multi_disc else str(track)
