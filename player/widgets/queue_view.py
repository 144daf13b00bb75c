"""The queue pane: "Now playing", then "Up next" (queued tracks, drag to reorder, Delete to remove,
Clear and Save buttons, a context menu; then the list's continuation and the radio's pick),
durations aligned right."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from core.playback.playqueue import CONTINUE, QUEUED, RADIO
from core.playback.source import PlayItem
from player.models.library import format_time
from player.models.queue import ITEM_ROLE, ORIGIN_ROLE, QueueModel

TAGS = {RADIO: ("radio", "#5eead4"), QUEUED: ("", "#e9e7f2")}
DURATION_W = 44


def draw_track_line(painter: QPainter, rect: QRect, item: PlayItem, color: str, tag: str = "") -> None:
    """``Title — Artist`` elided on the left, the duration right-aligned in a fixed column."""
    metrics = painter.fontMetrics()
    duration = QRect(rect.right() - DURATION_W, rect.top(), DURATION_W, rect.height())
    text = QRect(rect.left(), rect.top(), rect.width() - DURATION_W - 8, rect.height())
    if tag:
        width = metrics.horizontalAdvance(tag) + 10
        painter.setPen(QColor("#5eead4"))
        painter.drawText(QRect(text.left(), text.top(), width, text.height()),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, tag)
        text.setLeft(text.left() + width)
    by = f" — {item.artist}" if item.artist else ""
    painter.setPen(QColor(color))
    painter.drawText(text, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                     metrics.elidedText(item.title + by, Qt.TextElideMode.ElideRight, text.width()))
    painter.setPen(QColor("#a8a3bd"))
    painter.drawText(duration, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                     format_time(item.duration_s))


class QueueDelegate(QStyledItemDelegate):
    """One line per track; the continuation is dimmer, the radio's pick is tagged."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(option.rect.width(), 28)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, QColor("#3b2f63"))
        tag, color = TAGS.get(index.data(ORIGIN_ROLE), ("", "#a8a3bd"))
        draw_track_line(painter, option.rect.adjusted(8, 0, -8, 0), index.data(ITEM_ROLE), color, tag)
        painter.restore()


class NowPlaying(QWidget):
    """The track that sounds, in the same layout as the rows below it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.item: PlayItem | None = None
        self.setFixedHeight(30)
        self.show_item(None)  # its accessible name

    def show_item(self, item: PlayItem | None) -> None:
        """``None``: nothing plays."""
        self.item = item
        self.setAccessibleName(self.tr("Now playing: {}").format(item.title) if item
                               else self.tr("Nothing playing"))
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        rect = self.rect().adjusted(8, 0, -8, 0)
        if self.item is None:
            painter.setPen(QColor("#7c7794"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter, self.tr("Nothing playing"))
            return
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        draw_track_line(painter, rect, self.item, "#ffffff")


class QueueView(QWidget):
    """Now playing and upcoming tracks.

    Signals
    -------
    saveRequested()
        *Save queue as playlist…* (the button or the context menu).
    contextMenuBuilt(QMenu, list)
        A context menu for these track ids is about to show: add to it (*Add to playlist*).
    """

    saveRequested = Signal()
    contextMenuBuilt = Signal(object, object)

    def __init__(self, model: QueueModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.list = QListView(objectName="queue")
        self.list.setAccessibleName(self.tr("Up next"))
        self.list.setModel(model)
        self.list.setItemDelegate(QueueDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setDropIndicatorShown(True)
        self.now = NowPlaying()
        self.title = QLabel(self.tr("Up next"), objectName="sidebarTitle")
        self.count = QLabel("", objectName="sidebarHint")
        clear = QPushButton(self.tr("Clear"), toolTip=self.tr("Remove the tracks you queued"))
        clear.clicked.connect(model.queue.clear)
        save = QPushButton(self.tr("Save…"), toolTip=self.tr("Save the queue as a playlist"))
        save.setAccessibleName(self.tr("Save queue as playlist"))
        save.clicked.connect(self.saveRequested)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(
            lambda pos: self.context_menu().exec(self.list.viewport().mapToGlobal(pos)))
        remove = QShortcut(QKeySequence.StandardKey.Delete, self.list)
        remove.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove.activated.connect(self.remove_selected)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.count, 1)
        head.addWidget(save)
        head.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(QLabel(self.tr("Now playing"), objectName="sidebarTitle"))
        layout.addWidget(self.now)
        layout.addLayout(head)
        layout.addWidget(self.list, 1)
        model.modelReset.connect(self._count)
        self._count()

    def _count(self) -> None:
        origins = [self.model.data(self.model.index(r), ORIGIN_ROLE) for r in range(self.model.rowCount())]
        parts = [self.tr("{} queued").format(origins.count(QUEUED))] if QUEUED in origins else []
        if CONTINUE in origins:
            parts.append(self.tr("{} more from the list").format(origins.count(CONTINUE)))
        if RADIO in origins:
            parts.append(self.tr("then the radio"))
        self.count.setText(", ".join(parts) or self.tr("empty"))

    def context_menu(self) -> QMenu:
        """*Remove* (queued rows), *Save queue as playlist…*, and what ``contextMenuBuilt`` adds
        for the selected tracks."""
        rows = sorted({i.row() for i in self.list.selectionModel().selectedRows()})
        menu = QMenu(self)
        if any(r < self.model.queued_count() for r in rows):
            menu.addAction(QAction(self.tr("Remove"), menu, triggered=self.remove_selected))
        menu.addAction(QAction(self.tr("Save queue as playlist…"), menu, triggered=self.saveRequested))
        if rows:
            menu.addSeparator()
            self.contextMenuBuilt.emit(menu, [self.model.data(self.model.index(r), ITEM_ROLE).track_id
                                              for r in rows])
        return menu

    def remove_selected(self) -> None:
        """Drop the selected queued tracks (the continuation and the radio are not a queue)."""
        queued = self.model.queued_count()
        self.model.queue.remove(i.row() for i in self.list.selectionModel().selectedRows()
                                if i.row() < queued)
