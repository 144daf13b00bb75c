"""The library table model: every track row in memory, filtered and sorted by index lists.

Filtering and sorting work on plain Python lists of precomputed keys instead of a
``QSortFilterProxyModel``: the proxy calls back into Python once per row and column, which
``bench/ui.py`` shows is too slow for a 50,000-track search-as-you-type.
"""

from __future__ import annotations

import time
from functools import cache

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from core.library.catalog import TrackRow, listener_issues
from player.history import ListeningHistory
from player.resources import icon

#: Every column, by the name the column chooser shows.
COLUMNS = ("#", "Title", "Artist", "Album", "Album artist", "Year", "Disc", "Genre", "Duration",
           "Plays", "Liked", "Last played", "Loudness", "Cluster", "Quality")
(NUMBER, TITLE, ARTIST, ALBUM, ALBUM_ARTIST, YEAR, DISC, GENRE, DURATION, PLAYS, LIKED, LAST_PLAYED,
 LOUDNESS, CLUSTER, QUALITY) = range(len(COLUMNS))
#: What a listener sees before choosing: the engine's numbers (loudness, cluster) stay hidden.
DEFAULT_COLUMNS = (NUMBER, TITLE, ARTIST, ALBUM, DURATION, PLAYS, LIKED)
#: Columns drawn as an icon, with their name in the header's tooltip instead of its text.
ICON_COLUMNS = (LIKED, QUALITY)
#: Columns that change as the listener plays and likes (computed when shown, not cached).
LIVE = (LIKED, PLAYS, LAST_PLAYED)
NUMERIC = (NUMBER, YEAR, DISC, DURATION, PLAYS, LAST_PLAYED, LOUDNESS, CLUSTER)
#: ``LISTENER_ISSUES`` in plain words.
ISSUE_WORDS = {
    "truncated": "Damaged file: it is cut short and stops before its end",
    "clipping": "Clipping: the loudest moments are cut flat and can sound harsh",
    "lossy_transcode_suspected": "Suspected fake lossless: the sound stops at a frequency typical "
                                 "of MP3 and similar, so it was probably made from a lossy file",
}
#: The worst of a row's listener issues picks its icon.
_ISSUE_ICONS = {"truncated": QStyle.StandardPixmap.SP_MessageBoxCritical}
GUESSED_TIPS = {TITLE: ("title", "Guessed from the file name"),
                ALBUM: ("album", "Guessed from the folder name"),
                NUMBER: ("tracknumber", "Guessed from the file name")}
#: The library's views: every track, the liked ones, the played ones (latest first).
VIEWS = ("all", "liked", "recent")
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
#: The order before the listener picks a column (Qt's "no sort column"): by artist, album, disc,
#: track, as the albums were meant to be heard.
LIBRARY_ORDER = -1
Index = QModelIndex | QPersistentModelIndex


def format_time(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def format_when(ts: float | None, *, now: float | None = None) -> str:
    """A play time as a listener reads it: ``14:05`` today, else ``2026-11-30``."""
    if not ts:
        return ""
    day = time.strftime("%Y-%m-%d", time.localtime(ts))
    today = time.strftime("%Y-%m-%d", time.localtime(now or time.time()))
    return time.strftime("%H:%M", time.localtime(ts)) if day == today else day


def _issue_icon(pixmap: QStyle.StandardPixmap) -> QIcon:
    """The style's warning (or error) sign: it reads as a problem in every theme."""
    return QApplication.style().standardIcon(pixmap)


@cache
def _number_text(value: int | None) -> str:
    """A track, disc or cluster number as text, one shared string per value (not one per row)."""
    return "" if value is None else str(value)


@cache
def _year_text(date: str | None) -> str:
    """The year of a stored date (``core.audio.tags.clean_date`` starts every date with it)."""
    return (date or "")[:4]


def _cells(row: TrackRow) -> tuple[str, ...]:
    """The static cells (the live and icon columns stay empty here)."""
    tags = row.tags
    return (_number_text(tags.tracknumber), row.title, row.artist, row.album, tags.albumartist or "",
            _year_text(tags.date), _number_text(tags.discnumber), row.genre,
            format_time(row.duration_s), "", "", "",
            "" if row.lufs is None else f"{row.lufs:.1f} LUFS", _number_text(row.cluster), "")


def library_key(row: TrackRow) -> tuple:
    """The default order's key: artist (the album artist when tagged, so a compilation stays
    together), album, disc, track, title; rows without an artist go last."""
    artist = (row.tags.albumartist or row.artist).casefold()
    return (not artist, artist, row.album.casefold(), row.tags.discnumber or 1,
            row.tags.tracknumber or 0, row.title.casefold())


def _sort_key(row: TrackRow, cells: tuple[str, ...], column: int, history: ListeningHistory):
    keys = {LIBRARY_ORDER: lambda: library_key(row),
            NUMBER: lambda: (row.tags.discnumber or 1, row.tags.tracknumber or 0),
            YEAR: lambda: row.tags.year or 0, DISC: lambda: row.tags.discnumber or 0,
            LIKED: lambda: row.id in history.liked, DURATION: lambda: row.duration_s,
            PLAYS: lambda: history.plays.get(row.id, 0),
            LAST_PLAYED: lambda: history.last_played.get(row.id, 0.0),
            LOUDNESS: lambda: -1e9 if row.lufs is None else row.lufs,
            CLUSTER: lambda: -1 if row.cluster is None else row.cluster,
            QUALITY: lambda: len(listener_issues(row.issues))}
    key = keys.get(column)
    return key() if key else cells[column].casefold()


class LibraryModel(QAbstractTableModel):
    """Track rows; ``set_filter`` and ``sort`` rebuild the list of visible rows."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[TrackRow] = []
        self._by_id: dict[str, TrackRow] = {}
        self._cells: list[tuple[str, ...]] = []
        self._haystack: list[str] = []
        self._visible: list[int] = []
        self._terms: list[str] = []
        self._order: tuple[int, Qt.SortOrder] | None = None
        self._keys: dict[int, list] = {}
        #: Every row in display order, per (column, order): a search filters it without sorting.
        self._ranked: dict[tuple[int, Qt.SortOrder], list[int]] = {}
        self._view = "all"
        self.history = ListeningHistory()
        # Only the italic bit is set: the view's own font fills in the rest.
        self._italic = QFont()
        self._italic.setItalic(True)

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        source, column = self._visible[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._live(source, column) if column in LIVE else self._cells[source][column]
        if role == ROW_ROLE:
            return self._rows[source]
        if role == Qt.ItemDataRole.DecorationRole and column in ICON_COLUMNS:
            return self._icon(self._rows[source], column)
        if role == Qt.ItemDataRole.FontRole and self._guessed(source, column):
            return self._italic
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(source, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _live(self, source: int, column: int) -> str:
        track_id = self._rows[source].id
        if column == PLAYS:
            return str(self.history.plays.get(track_id) or "")
        if column == LAST_PLAYED:
            return format_when(self.history.last_played.get(track_id))
        return ""

    def _icon(self, row: TrackRow, column: int) -> QIcon | None:
        if column == LIKED:
            return icon("heart-filled" if row.id in self.history.liked else "heart")
        shown = listener_issues(row.issues)
        if not shown:
            return None
        return _issue_icon(_ISSUE_ICONS.get(shown[0], QStyle.StandardPixmap.SP_MessageBoxWarning))

    def _guessed(self, source: int, column: int) -> bool:
        field = GUESSED_TIPS.get(column)
        return field is not None and field[0] in self._rows[source].tags.guessed

    def _tooltip(self, source: int, column: int) -> str:
        row = self._rows[source]
        if column == LIKED:
            return "Liked: click to unlike" if row.id in self.history.liked else "Click to like"
        if column == QUALITY:
            return "\n".join(ISSUE_WORDS[code] for code in listener_issues(row.issues))
        if self._guessed(source, column):
            return f"{GUESSED_TIPS[column][1]}\n{row.path}"
        return row.path

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if section in ICON_COLUMNS else COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.DecorationRole and section == LIKED:
            return icon("heart")
        if role == Qt.ItemDataRole.DecorationRole and section == QUALITY:
            return _issue_icon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # Column -1 means "no sort column": back to the library order (``LIBRARY_ORDER``).
        self._order = (column, order) if column >= 0 else None
        self.layoutAboutToBeChanged.emit()
        self._apply_order()
        self.layoutChanged.emit()

    # -- Encore API ----------------------------------------------------------------------------
    def total(self) -> int:
        """Rows in the library (visible or not)."""
        return len(self._rows)

    def track(self, row: int) -> TrackRow:
        """The track at a visible row."""
        return self._rows[self._visible[row]]

    def find(self, track_id: str) -> TrackRow | None:
        """A track by id, visible or not."""
        return self._by_id.get(track_id)

    def visible_tracks(self) -> list[TrackRow]:
        """The rows as shown (filtered and sorted): what play-through continues with."""
        return [self._rows[i] for i in self._visible]

    @property
    def view(self) -> str:
        """One of ``VIEWS``."""
        return self._view

    def set_view(self, view: str) -> None:
        """Show every track, the liked ones, or the recently played ones (latest first)."""
        if view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
        self._view = view
        self._refilter()

    def set_history(self, history: ListeningHistory) -> None:
        """Play counts, last plays and hearts (after a load)."""
        self.history = history
        self.history_changed()

    def history_changed(self, track_id: str | None = None) -> None:
        """A play or heart changed (``track_id``; ``None``: any): redraw, re-sort, re-filter."""
        for column in LIVE:
            self._keys.pop(column, None)
        self._ranked = {order: rows for order, rows in self._ranked.items() if order[0] not in LIVE}
        if self._view != "all" or (self._order and self._order[0] in LIVE):
            self._refilter()
            return
        if self.rowCount() == 0:
            return  # nothing shown: dataChanged over invalid indexes only makes Qt warn
        row = self.visible_row(track_id) if track_id else None
        top = self.index(row or 0, 0)
        bottom = self.index(self.rowCount() - 1 if row is None else row, len(COLUMNS) - 1)
        self.dataChanged.emit(top, bottom)

    def visible_row(self, track_id: str) -> int | None:
        """The row showing ``track_id`` (``None`` if hidden)."""
        source = next((i for i, r in enumerate(self._rows) if r.id == track_id), None)
        try:
            return None if source is None else self._visible.index(source)
        except ValueError:
            return None

    def clear(self) -> None:
        """Forget every row (before a reload)."""
        self.beginResetModel()
        self._rows, self._cells, self._haystack, self._visible = [], [], [], []
        self._by_id, self._keys, self._ranked = {}, {}, {}
        self.endResetModel()

    def append(self, rows: list[TrackRow]) -> None:
        """Add a batch of rows (as a loader delivers them)."""
        start = len(self._rows)
        self._rows.extend(rows)
        self._by_id.update((r.id, r) for r in rows)
        cells = [_cells(r) for r in rows]
        self._cells.extend(cells)
        self._haystack.extend(f"{r.title} {r.artist} {r.album} {r.genre}".casefold() for r in rows)
        new = [i for i in range(start, len(self._rows)) if self._matches(i)]
        if new:  # every view is sorted (by default in ``LIBRARY_ORDER``): the batch lands anywhere
            self.beginResetModel()
            self._visible.extend(new)
            self._apply_order()
            self.endResetModel()

    def set_filter(self, text: str) -> None:
        """Show only rows whose title, artist, album or genre contain every word of ``text``."""
        terms = text.casefold().split()
        narrowing = bool(self._terms) and " ".join(terms).startswith(" ".join(self._terms))
        self._terms = terms
        if not narrowing:
            self._refilter()
            return
        # Typing on only narrows the rows already shown (already in display order).
        rows = self._visible
        for term in terms:
            rows = [i for i in rows if term in self._haystack[i]]
        self.beginResetModel()
        self._visible = rows
        self.endResetModel()

    def _refilter(self) -> None:
        """Every row that matches the search and the view, in display order."""
        # Matched in library order (the rows' text is read in the order it sits in memory, a third
        # faster than in display order), then listed in display order.
        hits = [self._matches(i) for i in range(len(self._rows))]
        self.beginResetModel()
        self._visible = [i for i in self._ranking() if hits[i]]
        self.endResetModel()

    def _matches(self, i: int) -> bool:
        hay = self._haystack[i]
        if self._view == "liked" and self._rows[i].id not in self.history.liked:
            return False
        if self._view == "recent" and self._rows[i].id not in self.history.last_played:
            return False
        return all(term in hay for term in self._terms)

    def _sort_order(self) -> tuple[int, Qt.SortOrder]:
        """The column and direction rows are shown in."""
        # Recently played lists the latest first until the listener sorts by a column.
        return self._order or ((LAST_PLAYED, Qt.SortOrder.DescendingOrder) if self._view == "recent"
                               else (LIBRARY_ORDER, Qt.SortOrder.AscendingOrder))

    def _sort_keys(self, column: int) -> list:
        """Every row's key for ``column``, computed once per row (rows are only appended;
        ``clear`` and live changes forget them)."""
        keys = self._keys.setdefault(column, [])
        keys.extend(_sort_key(row, cells, column, self.history)
                    for row, cells in zip(self._rows[len(keys):], self._cells[len(keys):], strict=True))
        return keys

    def _ranking(self) -> list[int]:
        """Every row, in display order (sorted once per order and load, not per search)."""
        column, order = self._sort_order()
        ranked = self._ranked.get((column, order))
        if ranked is None or len(ranked) != len(self._rows):
            ranked = self._ranked[(column, order)] = sorted(
                range(len(self._rows)), key=self._sort_keys(column).__getitem__,
                reverse=order == Qt.SortOrder.DescendingOrder)
        return ranked

    def _apply_order(self) -> None:
        """Sort the visible rows (after a new order, or a loader batch)."""
        column, order = self._sort_order()
        self._visible.sort(key=self._sort_keys(column).__getitem__,
                           reverse=order == Qt.SortOrder.DescendingOrder)
        if len(self._visible) == len(self._rows):  # every row shown: the first search need not sort
            self._ranked[(column, order)] = list(self._visible)
