"""Models of the Playlists tab: the stored playlists (rename in place, drop tracks on one) and the
entries of the chosen playlist (drag to reorder; entries whose track left the library stay, dimmed).

The models change nothing themselves: edits and drops come out as signals for the controller,
which asks the store and shows the result (``set_playlists``, ``set_entries``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from core.library.catalog import TrackRow
from core.playlists.store import Playlist
from player.models.library import format_time

#: Library track ids dragged from a track list (JSON list of ids).
TRACKS_MIME = "application/x-encore-track-ids"
#: Entries dragged inside a playlist (JSON list of positions).
ENTRIES_MIME = "application/x-encore-playlist-entries"
PLAYLIST_ROLE = Qt.ItemDataRole.UserRole + 1
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 2
#: Entries whose track left the library.
MISSING_COLOR = QColor("#6f6a86")
Index = QModelIndex | QPersistentModelIndex


def tr(text: str) -> str:
    """``text`` through Qt's translator (context ``Playlists``)."""
    return QCoreApplication.translate("Playlists", text)


def tracks_mime(track_ids: Sequence[str]) -> QMimeData:
    """Library tracks as a drag carries them to a playlist."""
    mime = QMimeData()
    mime.setData(TRACKS_MIME, json.dumps(list(track_ids)).encode())
    return mime


def dropped_tracks(mime: QMimeData) -> list[str]:
    """Track ids of a drag from a track list (empty for anything else)."""
    if not mime.hasFormat(TRACKS_MIME):
        return []
    try:
        ids = json.loads(bytes(mime.data(TRACKS_MIME)).decode())
    except ValueError:
        return []
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def track_count(n: int) -> str:
    """``"1 track"``, ``"1,200 tracks"``."""
    return tr("1 track") if n == 1 else tr("%n tracks").replace("%n", f"{n:,}")


def total_time(rows: Sequence[TrackRow | None]) -> str:
    """``"12 tracks · 41:05"`` for a playlist's entries (missing ones counted, not timed)."""
    return f"{track_count(len(rows))} · {format_time(sum(r.duration_s for r in rows if r is not None))}"


class PlaylistListModel(QAbstractListModel):
    """The playlists by name (tracks dropped on one are the view's: ``PlaylistList``).

    Signals
    -------
    renameRequested(str, str)
        Playlist id and the name typed in place.
    """

    renameRequested = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.playlists: list[Playlist] = []

    def set_playlists(self, playlists: list[Playlist]) -> None:
        """Show ``playlists`` (in their order)."""
        self.beginResetModel()
        self.playlists = list(playlists)
        self.endResetModel()

    def row_of(self, playlist_id: str) -> int | None:
        """The row of a playlist, if listed."""
        return next((i for i, p in enumerate(self.playlists) if p.id == playlist_id), None)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.playlists)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.playlists):
            return None
        playlist = self.playlists[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole,
                    Qt.ItemDataRole.AccessibleTextRole):
            return playlist.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return track_count(len(playlist.tracks))
        if role == PLAYLIST_ROLE:
            return playlist
        return None

    def setData(self, index: Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        playlist = self.playlists[index.row()]
        if str(value).strip() and str(value).strip() != playlist.name:
            self.renameRequested.emit(playlist.id, str(value))
        return False  # the list is reloaded from the store once it renamed the playlist

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable


@dataclass(frozen=True, slots=True)
class PlaylistEntry:
    """One entry: its position in the playlist, its track id and the library row (``None``: the
    track left the library)."""

    position: int
    track_id: str
    row: TrackRow | None


#: Column titles (through ``tr`` when shown).
COLUMNS = ("#", "Title", "Artist", "Album", "Duration")
NUMBER, TITLE, ARTIST, ALBUM, DURATION = range(len(COLUMNS))


class PlaylistTracksModel(QAbstractTableModel):
    """The entries of one playlist, in order.

    Signals
    -------
    moveRequested(list, int)
        Positions dragged, and the position they were dropped before (``PlaylistStore.move``).
    tracksDropped(list, int)
        Library track ids dropped in the list, and where (``PlaylistStore.add``).
    """

    moveRequested = Signal(list, int)
    tracksDropped = Signal(list, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list[PlaylistEntry] = []
        #: The track playing (its entries are bold).
        self.playing: str | None = None
        self._bold = QFont()
        self._bold.setBold(True)

    def set_playing(self, track_id: str | None) -> None:
        """Mark the entries of the track that plays."""
        self.playing = track_id
        if self.entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.entries) - 1, len(COLUMNS) - 1),
                                  [Qt.ItemDataRole.FontRole])

    def set_entries(self, track_ids: Sequence[str], find: Callable[[str], TrackRow | None]) -> None:
        """Show ``track_ids``; ``find`` gives a track's library row, or ``None`` if it left."""
        self.beginResetModel()
        self.entries = [PlaylistEntry(i, t, find(t)) for i, t in enumerate(track_ids)]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.entries):
            return None
        entry, column = self.entries[index.row()], index.column()
        row = entry.row
        if role == Qt.ItemDataRole.DisplayRole:
            if row is None:
                return (str(entry.position + 1), tr("Missing track"), "", "", "")[column]
            return (str(entry.position + 1), row.title, row.artist, row.album,
                    format_time(row.duration_s))[column]
        if role == Qt.ItemDataRole.ForegroundRole and row is None:
            return MISSING_COLOR
        if role == Qt.ItemDataRole.FontRole and entry.track_id == self.playing:
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.path if row is not None else \
                tr("This track is no longer in the library (its file was deleted or moved away).")
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (NUMBER, DURATION):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ENTRY_ROLE:
            return entry
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return tr(COLUMNS[section])
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [ENTRIES_MIME, TRACKS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        mime = tracks_mime([self.entries[r].track_id for r in sorted({i.row() for i in indexes})])
        mime.setData(ENTRIES_MIME, json.dumps(sorted({i.row() for i in indexes})).encode())
        return mime

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: Index) -> bool:
        before = row if row >= 0 else (parent.row() if parent.isValid() else len(self.entries))
        if data.hasFormat(ENTRIES_MIME):
            self.moveRequested.emit(json.loads(bytes(data.data(ENTRIES_MIME)).decode()), before)
        elif dropped_tracks(data):
            self.tracksDropped.emit(dropped_tracks(data), before)
        # The store moved or added the entries; the view must not remove the dragged rows.
        return False

    def playable(self) -> tuple[list[TrackRow], list[int]]:
        """The rows still in the library, and the position of each in the playlist."""
        kept = [e for e in self.entries if e.row is not None]
        return [e.row for e in kept], [e.position for e in kept]
