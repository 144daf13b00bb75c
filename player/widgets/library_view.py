"""The library pane: a search field over the track table, with a context menu."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.library.catalog import TrackRow
from player.models.library import LibraryModel
from player.resources import icon

#: Column widths in pixels (title and album stretch).
WIDTHS = {1: 170, 3: 100, 4: 82, 5: 104, 6: 74, 7: 110}


class LibraryView(QWidget):
    """Table and search.

    Signals
    -------
    playRequested(TrackRow)
    playNextRequested(list)
    queueRequested(list)
    """

    playRequested = Signal(object)
    playNextRequested = Signal(object)
    queueRequested = Signal(object)

    def __init__(self, model: LibraryModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.search = QLineEdit(placeholderText="Search title, artist, album, genre  (Ctrl+F)",
                                clearButtonEnabled=True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        # Filter once typing pauses briefly, not per keystroke of a fast typist.
        self._debounce = QTimer(self, singleShot=True, interval=80)
        self._debounce.timeout.connect(lambda: model.set_filter(self.search.text()))
        self.search.textChanged.connect(self._debounce.start)
        self.table = QTableView(objectName="library")
        self._setup_table()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)

    def _setup_table(self) -> None:
        table = self.table
        table.setModel(self.model)
        table.setSortingEnabled(True)
        table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # library order until a header is clicked
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        # Fixed row heights: the view never measures 50,000 rows.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(28)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        for column in (0, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        for column, width in WIDTHS.items():
            table.setColumnWidth(column, width)
        table.doubleClicked.connect(lambda index: self.playRequested.emit(self.model.track(index.row())))
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._menu)

    def selected(self) -> list[TrackRow]:
        """Selected tracks in view order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.track(r) for r in rows]

    def focus_search(self) -> None:
        """Ctrl+F."""
        self.search.setFocus()
        self.search.selectAll()

    def _menu(self, pos) -> None:
        tracks = self.selected()
        if tracks:
            self.context_menu(tracks).exec(self.table.viewport().mapToGlobal(pos))

    def context_menu(self, tracks: list[TrackRow]) -> QMenu:
        """Play / Play next / Add to queue for ``tracks``."""
        menu = QMenu(self)
        actions = [("Play", lambda: self.playRequested.emit(tracks[0])),
                   ("Play next", lambda: self.playNextRequested.emit(tracks)),
                   ("Add to queue", lambda: self.queueRequested.emit(tracks))]
        for text, slot in actions:
            action = QAction(text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
        return menu
