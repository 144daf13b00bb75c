"""The library pane: views (library, liked, recently played), a search field over the track table,
a context menu, and a column chooser on the header (remembered in the settings)."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from core.library.catalog import TrackRow
from player.models.library import (
    ALBUM,
    ALBUM_ARTIST,
    ARTIST,
    CLUSTER,
    COLUMNS,
    DEFAULT_COLUMNS,
    DISC,
    DURATION,
    GENRE,
    LAST_PLAYED,
    LIKED,
    LOUDNESS,
    NUMBER,
    PLAYS,
    QUALITY,
    TITLE,
    VIEWS,
    YEAR,
    LibraryModel,
)
from player.resources import icon
from player.widgets.tables import track_table

#: Column widths in pixels (title and album stretch).
WIDTHS = {NUMBER: 44, LIKED: 34, ARTIST: 150, ALBUM_ARTIST: 150, YEAR: 58, DISC: 50, GENRE: 80,
          DURATION: 86, PLAYS: 52, LAST_PLAYED: 106, LOUDNESS: 94, CLUSTER: 70, QUALITY: 34}
#: Settings key of the shown columns (their names, so a new column does not shift old choices).
COLUMNS_KEY = "library/columns"
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
    contextMenuBuilt(QMenu, list)
        A context menu for these tracks is about to show: add to it (*Add to playlist*).
    """

    playRequested = Signal(object)
    playNextRequested = Signal(object)
    queueRequested = Signal(object)
    radioRequested = Signal(object)
    moreLikeRequested = Signal(object)
    likeRequested = Signal(object, bool)
    contextMenuBuilt = Signal(object, object)

    def __init__(self, model: LibraryModel, settings: QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.settings = settings
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
        self.table = track_table("library", model)
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
        table.setSortingEnabled(True)
        table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # library order until a header is clicked
        header = table.horizontalHeader()
        for column in (TITLE, ALBUM):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        for column, width in WIDTHS.items():
            table.setColumnWidth(column, width)
        shown = self._saved_columns()
        for column in range(len(COLUMNS)):
            table.setColumnHidden(column, column not in shown)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
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

    def _saved_columns(self) -> set[int]:
        names = self.settings.value(COLUMNS_KEY) if self.settings is not None else None
        if names is None:
            return set(DEFAULT_COLUMNS)
        if isinstance(names, str):  # an INI file gives a one-item list back as its item
            names = [names]
        return {COLUMNS.index(n) for n in names if n in COLUMNS} | {TITLE}

    def shown_columns(self) -> list[int]:
        """The columns shown, in model order."""
        return [c for c in range(len(COLUMNS)) if not self.table.isColumnHidden(c)]

    def set_column_shown(self, column: int, shown: bool) -> None:
        """Show or hide a column and remember the choice (Title always shows)."""
        self.table.setColumnHidden(column, not shown and column != TITLE)
        if self.settings is not None:
            self.settings.setValue(COLUMNS_KEY, [COLUMNS[c] for c in self.shown_columns()])

    def _header_menu(self, pos) -> None:
        menu = self.column_menu()
        menu.exec(self.table.horizontalHeader().viewport().mapToGlobal(pos))
        menu.deleteLater()

    def column_menu(self) -> QMenu:
        """The header's context menu: every column, checked when shown."""
        menu = QMenu(self)
        for column, name in enumerate(COLUMNS):
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(column))
            action.setEnabled(column != TITLE)  # a table needs something to show
            action.toggled.connect(partial(self.set_column_shown, column))
        return menu

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
        menu.addSeparator()
        self.contextMenuBuilt.emit(menu, tracks)
        return menu
