"""The "Up next" list model over ``PlayQueue``: queued tracks (drag to reorder), then the list's
continuation and the radio's pick."""

from __future__ import annotations

import json

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from core.playback.playqueue import CONTINUE, QUEUED, RADIO, PlayQueue
from player.models.library import format_time

MIME = "application/x-encore-queue-rows"
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
ORIGIN_ROLE = Qt.ItemDataRole.UserRole + 2
#: Rows shown (the continuation of a long list is not listed to its end).
SHOWN = 50
#: What a screen reader adds after a row's title, artist and duration: where it comes from.
ORIGIN_WORDS = {QUEUED: QT_TRANSLATE_NOOP("QueueModel", "queued"),
                CONTINUE: QT_TRANSLATE_NOOP("QueueModel", "next in the list"),
                RADIO: QT_TRANSLATE_NOOP("QueueModel", "the radio's pick")}
Index = QModelIndex | QPersistentModelIndex


class QueueModel(QAbstractListModel):
    """Rows of the queue; mirrors ``PlayQueue`` changes made on any thread."""

    _queueChanged = Signal()  # emitted from whichever thread changed the queue

    def __init__(self, queue: PlayQueue, parent=None):
        super().__init__(parent)
        self.queue = queue
        self._rows = queue.upcoming(SHOWN)
        # A queued connection when the decoder thread pops the next track.
        self._queueChanged.connect(self._reload)
        queue.subscribe(self._queueChanged.emit)

    def _reload(self) -> None:
        self.beginResetModel()
        self._rows = self.queue.upcoming(SHOWN)
        self.endResetModel()

    def queued_count(self) -> int:
        """Rows the listener queued (the first ones; only they can be moved or removed)."""
        return sum(1 for origin, _ in self._rows if origin == QUEUED)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        origin, item = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            by = f" — {item.artist}" if item.artist else ""
            return f"{item.title}{by}   {format_time(item.duration_s)}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.path
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self.accessible_text(origin, item)
        if role == ITEM_ROLE:
            return item
        if role == ORIGIN_ROLE:
            return origin
        return None

    def accessible_text(self, origin: str, item) -> str:
        """What a screen reader says for a row: title, artist, length and where it comes from."""
        parts = [item.title, self.tr("by {}").format(item.artist) if item.artist else "",
                 format_time(item.duration_s), self.tr(ORIGIN_WORDS.get(origin, ""))]
        return ", ".join(p for p in parts if p)

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not index.isValid():
            return base | Qt.ItemFlag.ItemIsDropEnabled
        if index.row() < self.queued_count():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base

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
        before = row if row >= 0 else (parent.row() if parent.isValid() else len(self._rows))
        self.queue.move(json.loads(bytes(data.data(MIME)).decode()), before)
        return False  # the queue moved the rows itself: the view must not remove the originals
