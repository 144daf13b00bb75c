"""The queue pane: drag to reorder, Delete to remove, a Clear button."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from player.models.queue import QueueModel


class QueueView(QWidget):
    """Upcoming tracks."""

    def __init__(self, model: QueueModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.list = QListView(objectName="queue")
        self.list.setModel(model)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setDropIndicatorShown(True)
        self.title = QLabel("Queue", objectName="sidebarTitle")
        self.count = QLabel("", objectName="sidebarHint")
        clear = QPushButton("Clear")
        clear.clicked.connect(model.queue.clear)
        remove = QShortcut(QKeySequence.StandardKey.Delete, self.list)
        remove.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove.activated.connect(self.remove_selected)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.count, 1)
        head.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(head)
        layout.addWidget(self.list, 1)
        model.modelReset.connect(self._count)
        self._count()

    def _count(self) -> None:
        n = self.model.rowCount()
        self.count.setText(f"{n} track{'s' if n != 1 else ''}" if n else "empty")

    def remove_selected(self) -> None:
        """Drop the selected tracks from the queue."""
        self.model.queue.remove(i.row() for i in self.list.selectionModel().selectedRows())
