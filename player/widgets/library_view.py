"""The library pane: views (library, liked, recently played), a search field over the track table,
and a context menu."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTabBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.library.catalog import TrackRow
from player.models.library import (
    ALBUM,
    ARTIST,
    CLUSTER,
    DURATION,
    GENRE,
    ISSUES,
    LAST_PLAYED,
    LIKED,
    LOUDNESS,
    PLAYS,
    TITLE,
    VIEWS,
    LibraryModel,
)
from player.resources import icon

#: Column widths in pixels (title and album stretch).
WIDTHS = {LIKED: 34, ARTIST: 150, GENRE: 80, DURATION: 86, PLAYS: 52, LAST_PLAYED: 106,
          LOUDNESS: 94, CLUSTER: 70, ISSUES: 100}
VIEW_TITLES = {"all": "Library", "liked": "Liked", "recent": "Recently played"}


class LibraryView(QWidget):
    """Views, table and search.

    Signals
    -------
    playRequested(TrackRow)
        Double-click, Enter or *Play*: play it and continue through the rows as shown.
    playNextRequested(list), queueRequested(list)
    radioRequested(TrackRow), moreLikeRequested(TrackRow)
        *Start radio* and *More like this*.
    likeRequested(TrackRow, bool)
        The heart cell was clicked, or *Like* / *Unlike* chosen.
    """

    playRequested = Signal(object)
    playNextRequested = Signal(object)
    queueRequested = Signal(object)
    radioRequested = Signal(object)
    moreLikeRequested = Signal(object)
    likeRequested = Signal(object, bool)

    def __init__(self, model: LibraryModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.tabs = QTabBar(objectName="views", drawBase=False, expanding=False)
        for view in VIEWS:
            self.tabs.addTab(VIEW_TITLES[view])
        self.tabs.currentChanged.connect(lambda i: model.set_view(VIEWS[i]))
        self.search = QLineEdit(placeholderText="Search title, artist, album, genre  (Ctrl+F)",
                                clearButtonEnabled=True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        # Filter once typing pauses briefly, not per keystroke of a fast typist.
        self._debounce = QTimer(self, singleShot=True, interval=80)
        self._debounce.timeout.connect(lambda: model.set_filter(self.search.text()))
        self.search.textChanged.connect(self._debounce.start)
        self.table = QTableView(objectName="library")
        self._setup_table()
        top = QHBoxLayout()
        top.addWidget(self.tabs)
        top.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 0)
        layout.addLayout(top)
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
        for column in (TITLE, ALBUM):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        for column, width in WIDTHS.items():
            table.setColumnWidth(column, width)
        table.setColumnHidden(CLUSTER, True)  # the engine's view, not a listener's: room for titles
        table.doubleClicked.connect(self._activated)
        table.clicked.connect(self._clicked)
        table.installEventFilter(self)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._menu)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.table and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            index = self.table.currentIndex()
            if index.isValid():
                self._activated(index)
            return True
        return super().eventFilter(watched, event)

    def _activated(self, index) -> None:
        if index.column() != LIKED:  # a double-click on the heart is two likes, not a play
            self.playRequested.emit(self.model.track(index.row()))

    def _clicked(self, index) -> None:
        if index.column() == LIKED:
            track = self.model.track(index.row())
            self.likeRequested.emit(track, track.id not in self.model.history.liked)

    def show_view(self, view: str) -> None:
        """Switch to one of ``VIEWS``."""
        self.tabs.setCurrentIndex(VIEWS.index(view))

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
        """Play, queue, radio and heart actions for ``tracks`` (the first one for single-track
        actions)."""
        first = tracks[0]
        liked = first.id in self.model.history.liked
        actions = [("Play", lambda: self.playRequested.emit(first)),
                   ("Play next", lambda: self.playNextRequested.emit(tracks)),
                   ("Add to queue", lambda: self.queueRequested.emit(tracks)), None,
                   ("Start radio", lambda: self.radioRequested.emit(first)),
                   ("More like this", lambda: self.moreLikeRequested.emit(first)), None,
                   ("Unlike" if liked else "Like", lambda: self.likeRequested.emit(first, not liked))]
        menu = QMenu(self)
        for entry in actions:
            if entry is None:
                menu.addSeparator()
                continue
            action = QAction(entry[0], menu)
            action.triggered.connect(entry[1])
            menu.addAction(action)
        return menu
