"""The library table model: every track row in memory, filtered and sorted by index lists.

Filtering and sorting work on plain Python lists of precomputed keys instead of a
``QSortFilterProxyModel``: the proxy calls back into Python once per row and column, which
``bench/ui.py`` shows is too slow for a 50,000-track search-as-you-type.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from core.audio.quality import describe_issues
from core.library.catalog import TrackRow

COLUMNS = ("Title", "Artist", "Album", "Genre", "Duration", "Loudness", "Cluster", "Issues")
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def format_time(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _cells(row: TrackRow) -> tuple[str, ...]:
    return (row.title, row.artist, row.album, row.genre, format_time(row.duration_s),
            "" if row.lufs is None else f"{row.lufs:.1f} LUFS",
            "" if row.cluster is None else str(row.cluster), describe_issues(row.issues))


def _sort_key(row: TrackRow, column: int):
    if column == 4:
        return row.duration_s
    if column == 5:
        return -1e9 if row.lufs is None else row.lufs
    if column == 6:
        return -1 if row.cluster is None else row.cluster
    return _cells(row)[column].casefold()


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

    # -- Qt model API --------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        source = self._visible[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[source][index.column()]
        if role == ROW_ROLE:
            return self._rows[source]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._cells[source][7] if index.column() == 7 else self._rows[source].path
        if role == Qt.ItemDataRole.TextAlignmentRole and 4 <= index.column() <= 6:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # Column -1 means "no sort column": back to library order.
        self._order = (column, order) if column >= 0 else None
        self.layoutAboutToBeChanged.emit()
        if self._order is None:
            self._visible.sort()
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

    def clear(self) -> None:
        """Forget every row (before a reload)."""
        self.beginResetModel()
        self._rows, self._cells, self._haystack, self._visible = [], [], [], []
        self._by_id, self._keys = {}, {}
        self.endResetModel()

    def append(self, rows: list[TrackRow]) -> None:
        """Add a batch of rows (as a loader delivers them)."""
        start = len(self._rows)
        self._rows.extend(rows)
        self._by_id.update((r.id, r) for r in rows)
        cells = [_cells(r) for r in rows]
        self._cells.extend(cells)
        self._haystack.extend(" ".join(c[:4]).casefold() for c in cells)
        new = [i for i in range(start, len(self._rows)) if self._matches(i)]
        if self._order is not None:
            self.beginResetModel()
            self._visible.extend(new)
            self._apply_order()
            self.endResetModel()
        elif new:
            first = len(self._visible)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._visible.extend(new)
            self.endInsertRows()

    def set_filter(self, text: str) -> None:
        """Show only rows whose title, artist, album or genre contain every word of ``text``."""
        terms = text.casefold().split()
        narrowing = bool(self._terms) and " ".join(terms).startswith(" ".join(self._terms))
        # Typing on only narrows the rows already shown (already in display order).
        rows = self._visible if narrowing else range(len(self._rows))
        hay = self._haystack
        for term in terms:
            rows = [i for i in rows if term in hay[i]]
        self._terms = terms
        self.beginResetModel()
        self._visible = list(rows)
        if not narrowing:
            self._apply_order()
        self.endResetModel()

    def _matches(self, i: int) -> bool:
        hay = self._haystack[i]
        return all(term in hay for term in self._terms)

    def _apply_order(self) -> None:
        if self._order is None:
            return
        column, order = self._order
        keys = self._keys.get(column)
        if keys is None or len(keys) != len(self._rows):  # computed once per column and load
            keys = self._keys[column] = [_sort_key(row, column) for row in self._rows]
        self._visible.sort(key=keys.__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)
