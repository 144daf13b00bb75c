"""The Playlists tab: the playlists on the left (create, rename in place, delete, drop tracks on
one), the chosen playlist's entries on the right (play from a row, drag to reorder, Delete removes);
and the drag source that lets library rows be dragged onto a playlist."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QDrag,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.library.catalog import TrackRow
from player.models.playlists import (
    ALBUM,
    ARTIST,
    DURATION,
    NUMBER,
    PLAYLIST_ROLE,
    TITLE,
    PlaylistListModel,
    PlaylistTracksModel,
    dropped_tracks,
    total_time,
    tr,
    tracks_mime,
)
from player.widgets.tables import track_table

WIDTHS = {NUMBER: 44, ARTIST: 170, DURATION: 86}
#: Height of a playlist's row in the list.
LIST_ROW = 30


class TrackDragSource(QObject):
    """Lets the selected rows of a track table be dragged (as library track ids) onto a playlist,
    without the table's model taking part in drag and drop.

    Parameters
    ----------
    view : QAbstractItemView
        The table; its viewport gets the event filter.
    selected : callable
        The selected tracks, in order.
    """

    def __init__(self, view: QAbstractItemView, selected: Callable[[], list[TrackRow]]):
        super().__init__(view)
        self.view, self.selected = view, selected
        self._pressed: QPoint | None = None
        self._kept = False
        #: Track ids of the last drag started.
        self.dragged: list[str] = []
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            pos = event.position().toPoint()
            index = self.view.indexAt(pos)
            self._pressed = pos if index.isValid() else None
            # A press on a row of a multi-row selection would select that row alone: keep the
            # selection for the drag (a release without a drag selects the row, as Qt does).
            self._kept = (index.isValid() and event.modifiers() == Qt.KeyboardModifier.NoModifier
                          and self.view.selectionModel().isSelected(index)
                          and len(self.view.selectionModel().selectedRows()) > 1)
            return self._kept
        if kind == QEvent.Type.MouseButtonRelease and self._pressed is not None:
            index, kept = self.view.indexAt(self._pressed), self._kept
            self._pressed, self._kept = None, False
            if kept:  # the view saw no press: its release would act on an older one
                self.view.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)
            return kept
        if kind == QEvent.Type.MouseMove and self._pressed is not None \
                and event.buttons() & Qt.MouseButton.LeftButton \
                and (event.position().toPoint() - self._pressed).manhattanLength() \
                >= QApplication.startDragDistance():
            self._pressed, self._kept = None, False
            self.start()
            return True
        return False

    def start(self) -> Qt.DropAction:
        """Drag the selected tracks (returns when they are dropped or the drag is cancelled)."""
        self.dragged = [t.id for t in self.selected()]
        if not self.dragged:
            return Qt.DropAction.IgnoreAction
        drag = QDrag(self.view)
        drag.setMimeData(tracks_mime(self.dragged))
        return drag.exec(Qt.DropAction.CopyAction)


class RoomyDelegate(QStyledItemDelegate):
    """Rows of ``LIST_ROW`` pixels (the style sheet keeps drawing them, selection included)."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), LIST_ROW))


class PlaylistList(QListView):
    """The playlists; library tracks dropped on one are added to it.

    Signals
    -------
    tracksDropped(str, list)
        Playlist id and the dropped track ids.
    """

    tracksDropped = Signal(str, list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="playlistList")
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)

    def _target(self, event: QDropEvent) -> str | None:
        index = self.indexAt(event.position().toPoint())
        if not index.isValid() or not dropped_tracks(event.mimeData()):
            return None
        return index.data(PLAYLIST_ROLE).id

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_tracks(event.mimeData()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        target = self._target(event)
        if target is None:
            event.ignore()
            return
        self.setCurrentIndex(self.indexAt(event.position().toPoint()))  # shows where it goes
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        target = self._target(event)
        if target is None:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.tracksDropped.emit(target, dropped_tracks(event.mimeData()))


class PlaylistsPane(QWidget):
    """Playlists beside the chosen playlist's entries.

    Signals
    -------
    newRequested(), importRequested(), exportRequested()
        The buttons (*New*, *Import…*, *Export…*).
    chosen(str)
        The playlist now shown (``""``: none).
    deleteRequested(str)
        Delete (or *Delete* in the menu) on a playlist; the controller asks first.
    playRequested(int)
        Enter or a double-click on an entry (its row); the list's Enter plays from the top.
    removeRequested(list)
        Delete on entries: their positions.
    playNextRequested(list), queueRequested(list)
        Entries' tracks for *Play next* and *Add to queue*.
    """

    newRequested = Signal()
    importRequested = Signal()
    exportRequested = Signal()
    chosen = Signal(str)
    deleteRequested = Signal(str)
    playRequested = Signal(int)
    removeRequested = Signal(list)
    playNextRequested = Signal(list)
    queueRequested = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="playlistsPane")
        self.playlists = PlaylistListModel(self)
        self.tracks = PlaylistTracksModel(self)
        self.list = self._playlist_list()
        self.table = self._track_table()
        self.title = QLabel(objectName="albumTitle", wordWrap=True)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.summary = QLabel(objectName="albumSummary")
        self.hint = QLabel(tr("No playlist yet. Create one with “New”, or right-click tracks and "
                              "choose “Add to playlist”."), objectName="sidebarHint", wordWrap=True)
        self._layout()

    # -- construction --------------------------------------------------------------------------
    def _button(self, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, toolTip=tip)
        button.setAccessibleName(tip)
        button.clicked.connect(lambda: slot())
        return button

    def _playlist_list(self) -> PlaylistList:
        view = PlaylistList()
        view.setModel(self.playlists)
        view.setAccessibleName(tr("Playlists"))
        view.setItemDelegate(RoomyDelegate(view))
        view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)  # F2
        view.selectionModel().currentChanged.connect(lambda cur, _prev: self._choose(cur))
        view.activated.connect(lambda _index: self.playRequested.emit(0))
        self._shortcut(view, QKeySequence.StandardKey.Delete, self._delete_current)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(
            lambda pos: self.playlist_menu().exec(view.viewport().mapToGlobal(pos)))
        return view

    def _track_table(self) -> QTableView:
        table = track_table("playlistTracks", self.tracks)
        table.setAccessibleName(tr("Playlist tracks"))
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        table.setDefaultDropAction(Qt.DropAction.MoveAction)
        table.setDropIndicatorShown(True)
        header = table.horizontalHeader()
        for column in (TITLE, ALBUM):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        for column, width in WIDTHS.items():
            table.setColumnWidth(column, width)
        table.activated.connect(lambda index: self.playRequested.emit(index.row()))
        self._shortcut(table, QKeySequence.StandardKey.Delete, self.remove_selected)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._track_menu)
        return table

    def _shortcut(self, view: QWidget, key, slot: Callable) -> None:
        shortcut = QShortcut(key, view)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(slot)

    def _layout(self) -> None:
        heading = QLabel(tr("Playlists"), objectName="sidebarTitle")
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        top.addWidget(self._button(tr("New"), tr("New playlist"), self.newRequested.emit))
        bottom = QHBoxLayout()
        bottom.addWidget(self._button(tr("Import…"), tr("Import a playlist file"),
                                      self.importRequested.emit))
        bottom.addWidget(self._button(tr("Export…"), tr("Export the playlist to a file"),
                                      self.exportRequested.emit))
        bottom.addStretch(1)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addWidget(self.list, 1)
        column.addWidget(self.hint)
        column.addLayout(bottom)
        right = QWidget(objectName="browseDetail")
        detail = QVBoxLayout(right)
        detail.setContentsMargins(12, 4, 0, 0)
        head = QHBoxLayout()
        names = QVBoxLayout()
        names.addWidget(self.title)
        names.addWidget(self.summary)
        head.addLayout(names, 1)
        self.play_button = self._button(tr("Play"), tr("Play the playlist from the start"),
                                        lambda: self.playRequested.emit(0))
        head.addWidget(self.play_button, 0, Qt.AlignmentFlag.AlignBottom)
        detail.addLayout(head)
        detail.addWidget(self.table, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([240, 760])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 0)
        layout.addWidget(self.splitter, 1)

    # -- state ---------------------------------------------------------------------------------
    def current_id(self) -> str | None:
        """The id of the playlist shown."""
        playlist = self.list.currentIndex().data(PLAYLIST_ROLE)
        return playlist.id if playlist is not None else None

    def select(self, playlist_id: str | None) -> None:
        """Show a playlist (``None`` or unknown: the first one, if any)."""
        row = self.playlists.row_of(playlist_id) if playlist_id else None
        row = 0 if row is None and self.playlists.playlists else row
        self.hint.setVisible(row is None)
        if row is None:
            self._choose(self.playlists.index(-1))
            return
        self.list.setCurrentIndex(self.playlists.index(row))
        self._choose(self.playlists.index(row))  # also when it was current already

    def rename_current(self) -> None:
        """F2: edit the chosen playlist's name in place."""
        if self.list.currentIndex().isValid():
            self.list.setFocus()
            self.list.edit(self.list.currentIndex())

    def show_entries(self) -> None:
        """Title and "tracks · length" of the chosen playlist (after ``tracks`` changed)."""
        playlist = self.list.currentIndex().data(PLAYLIST_ROLE)
        self.title.setText(playlist.name if playlist is not None else "")
        self.summary.setText(total_time([e.row for e in self.tracks.entries])
                             if playlist is not None else "")
        self.table.setAccessibleDescription(self.title.text())

    def _choose(self, index) -> None:
        playlist = index.data(PLAYLIST_ROLE) if index.isValid() else None
        self.chosen.emit(playlist.id if playlist is not None else "")

    def _delete_current(self) -> None:
        playlist_id = self.current_id()
        if playlist_id is not None:
            self.deleteRequested.emit(playlist_id)

    def selected_rows(self) -> list[int]:
        """Selected entries' rows, in order."""
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def remove_selected(self) -> None:
        """Delete: the selected entries leave the playlist."""
        rows = self.selected_rows()
        if rows:
            self.removeRequested.emit([self.tracks.entries[r].position for r in rows])

    # -- menus ---------------------------------------------------------------------------------
    def playlist_menu(self) -> QMenu:
        """*Play*, *Rename*, *Export…* and *Delete* for the chosen playlist."""
        return _menu(self, [(tr("Play"), lambda: self.playRequested.emit(0)),
                            (tr("Rename"), self.rename_current),
                            (tr("Export…"), self.exportRequested),
                            (tr("Delete…"), self._delete_current)])

    def _track_menu(self, pos) -> None:
        rows = self.selected_rows()
        if rows:
            self.track_menu(rows).exec(self.table.viewport().mapToGlobal(pos))

    def track_menu(self, rows: list[int]) -> QMenu:
        """*Play*, *Play next*, *Add to queue* and *Remove from playlist* for entries at ``rows``."""
        kept = [self.tracks.entries[r].row for r in rows if self.tracks.entries[r].row is not None]
        return _menu(self, [(tr("Play"), lambda: self.playRequested.emit(rows[0])),
                            (tr("Play next"), lambda: self.playNextRequested.emit(kept)),
                            (tr("Add to queue"), lambda: self.queueRequested.emit(kept)),
                            (tr("Remove from playlist"), self.remove_selected)])


def _menu(parent: QWidget, entries: list[tuple[str, Callable]]) -> QMenu:
    menu = QMenu(parent)
    for text, slot in entries:
        action = QAction(text, menu)
        action.triggered.connect(slot)
        menu.addAction(action)
    return menu
