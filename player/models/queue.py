"""The queue list model over ``PlayQueue``, with drag-and-drop reordering."""

from __future__ import annotations

import json

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt, Signal

from core.playback.playqueue import PlayQueue
from player.models.library import format_time

MIME = "application/x-encore-queue-rows"
Index = QModelIndex | QPersistentModelIndex


class QueueModel(QAbstractListModel):
    """Rows of the queue; mirrors ``PlayQueue`` changes made on any thread."""

    _queueChanged = Signal()  # emitted from whichever thread changed the queue

    def __init__(self, queue: PlayQueue, parent=None):
        super().__init__(parent)
        self.queue = queue
        self._items = queue.items()
        # A queued connection when the decoder thread pops the next track.
        self._queueChanged.connect(self._reload)
        queue.subscribe(self._queueChanged.emit)

    def _reload(self) -> None:
        self.beginResetModel()
        self._items = self.queue.items()
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            by = f" — {item.artist}" if item.artist else ""
            return f"{item.title}{by}   {format_time(item.duration_s)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.path
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsDropEnabled

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        mime = QMimeData()
        mime.setData(MIME, json.dumps(sorted({i.row() for i in indexes})).encode())
        return mime

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int, column: int,
                     parent: Index) -> bool:
        if action != Qt.DropAction.MoveAction or not data.hasFormat(MIME):
            return False
        before = row if row >= 0 else (parent.row() if parent.isValid() else len(self._items))
        self.queue.move(json.loads(bytes(data.data(MIME)).decode()), before)
        return False  # the queue moved the rows itself: the view must not remove the originals
