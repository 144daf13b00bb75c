"""The browse pane: artists, albums (a list or a cover grid), genres and folders beside the tracks of
the chosen one, with an album header (cover, artist, year, length)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QMenu,
    QSplitter,
    QTabBar,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.library.catalog import TrackRow
from player.covers import CoverLoader
from player.models.browse import (
    CATEGORIES,
    ENTRY_ROLE,
    BrowseIndex,
    Details,
    Entry,
    EntryListModel,
    TrackListModel,
    album_summary,
)
from player.resources import icon
from player.widgets.tables import track_table

HEADER_COVER, GRID_COVER, LIST_COVER = 132, 132, 36
GRID_CELL = GRID_COVER + 28
#: Beside a grid's columns: its scroll bar and frame.
GRID_MARGIN = 24
#: While a load delivers batches, the list is refreshed once they pause (not once per batch).
REFRESH_MS = 250


class AlbumHeader(QWidget):
    """Cover, name, artist and "year · tracks · length" of the open entry."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="albumHeader")
        self.cover = QLabel(objectName="albumCover", alignment=Qt.AlignmentFlag.AlignCenter)
        self.cover.setFixedSize(HEADER_COVER, HEADER_COVER)
        self.title = QLabel(objectName="albumTitle", wordWrap=True)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.7)
        font.setBold(True)
        self.title.setFont(font)
        self.artist = QLabel(objectName="albumArtist")
        self.summary = QLabel(objectName="albumSummary")
        text = QVBoxLayout()
        text.addStretch(1)
        for label in (self.title, self.artist, self.summary):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.addWidget(label)
        text.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 8)
        layout.setSpacing(16)
        layout.addWidget(self.cover)
        layout.addLayout(text, 1)

    def show_entry(self, entry: Entry | None, details: Details | None, category_name: str) -> None:
        """Describe ``entry`` (``None``: nothing chosen)."""
        self.title.setText(entry.name if entry else "")
        if entry is None or details is None or entry.category != "albums":
            self.artist.setText(category_name)
            self.summary.setText(details.detail if details else "")
        else:
            self.artist.setText(details.artist)
            self.summary.setText(album_summary(entry, details))
        self.setAccessibleName(self.title.text())

    def show_cover(self, pixmap) -> None:
        """The album's cover, or the placeholder."""
        if pixmap is None:
            pixmap = icon("cover").pixmap(HEADER_COVER, HEADER_COVER)
        self.cover.setPixmap(pixmap)


class BrowserPane(QWidget):
    """Browse the library by artist, album, genre or folder.

    Parameters
    ----------
    covers : CoverLoader, optional
        Album covers (none: the placeholder picture).

    Signals
    -------
    playRequested(list, int)
        Play these tracks (the open entry, in order) from the given index.
    playNextRequested(list), queueRequested(list)
        Tracks for *Play next* and *Add to queue*.
    entryOpened(str, str)
        Category and key of the entry now shown.
    contextMenuBuilt(QMenu, list)
        A context menu for these tracks is about to show: add to it (*Add to playlist*).
    """

    playRequested = Signal(object, int)
    playNextRequested = Signal(object)
    queueRequested = Signal(object)
    entryOpened = Signal(str, str)
    contextMenuBuilt = Signal(object, object)

    def __init__(self, covers: CoverLoader | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.covers = covers
        self.index = BrowseIndex()
        self._entry: Entry | None = None
        self._refresh = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh.timeout.connect(lambda: self.show_category(self.category))
        self.titles = {"artists": self.tr("Artists"), "albums": self.tr("Albums"),
                       "genres": self.tr("Genres"), "folders": self.tr("Folders")}
        self._build()
        if covers is not None:
            covers.ready.connect(self._cover_ready)

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        self.tabs = QTabBar(objectName="browseTabs", drawBase=False, expanding=False)
        self.tabs.setAccessibleName(self.tr("Browse by"))
        for category in CATEGORIES:
            self.tabs.addTab(self.titles[category])
        self.tabs.currentChanged.connect(lambda i: self.show_category(CATEGORIES[i]))
        self.grid_button = QToolButton(text=self.tr("Covers"), checkable=True, checked=True,
                                       toolTip=self.tr("Show albums as a grid of covers"))
        self.grid_button.setAccessibleName(self.tr("Album covers grid"))
        self.grid_button.toggled.connect(self._layout_list)
        self.entries = EntryListModel(self)
        self.entries.decoration = self._decoration
        self.entries.describe = lambda entry: self.index.details(entry).detail
        self.list = QListView(objectName="browseList")
        self.list.setModel(self.entries)
        self.list.setUniformItemSizes(True)
        # Thousands of album covers are laid out a screenful at a time, between events.
        self.list.setLayoutMode(QListView.LayoutMode.Batched)
        self.list.setBatchSize(200)
        self.list.setAccessibleName(self.tr("Browse list"))
        self.list.selectionModel().currentChanged.connect(lambda cur, _prev: self._open(cur))
        self.list.activated.connect(lambda _index: self._play_from(0))
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(lambda pos: self._menu(self.list, pos, entry=True))
        self.header = AlbumHeader()
        self.tracks = TrackListModel(self)
        self.table = self._track_table()
        detail = QWidget(objectName="browseDetail")
        column = QVBoxLayout(detail)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.header)
        column.addWidget(self.table, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(0, 1)  # a resize keeps the proportions set below
        self.splitter.setStretchFactor(1, 1)
        top = QHBoxLayout()
        top.addWidget(self.tabs)
        top.addStretch(1)
        top.addWidget(self.grid_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.tabs.setCurrentIndex(CATEGORIES.index("albums"))

    def _track_table(self) -> QTableView:
        table = track_table("browseTracks", self.tracks)
        table.setAccessibleName(self.tr("Tracks"))
        header = table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.setColumnWidth(0, 52)
        table.setColumnWidth(2, 150)
        table.setColumnWidth(3, 86)
        table.activated.connect(lambda index: self._play_from(index.row()))
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(lambda pos: self._menu(table, pos, entry=False))
        return table

    def _layout_list(self) -> None:
        grid = self.grid_button.isChecked() and self.category == "albums"
        view = self.list
        view.setViewMode(QListView.ViewMode.IconMode if grid else QListView.ViewMode.ListMode)
        size = GRID_COVER if grid else (LIST_COVER if self.category == "albums" else 0)
        view.setIconSize(QSize(size, size))
        view.setGridSize(QSize(GRID_CELL, GRID_COVER + 44) if grid else QSize())
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setMovement(QListView.Movement.Static)
        view.setWordWrap(grid)
        view.setSpacing(0 if grid else 2)
        width = self.width() or 1000
        # The grid gets whole columns of covers (no empty strip beside them), about half the pane.
        left = (max(1, int(width * 0.55) // GRID_CELL) * GRID_CELL + GRID_MARGIN if grid
                else int(width * 0.28))
        self.splitter.setSizes([left, width - left])

    # -- data ----------------------------------------------------------------------------------
    @property
    def category(self) -> str:
        """The category shown."""
        return CATEGORIES[max(0, self.tabs.currentIndex())]

    def set_rows(self, rows: list[TrackRow], tags: Mapping[str, Mapping] | None = None) -> None:
        """Browse ``rows`` (``tags``: track id → stored tags, for track numbers and years)."""
        self._refresh.stop()
        self.index = BrowseIndex(rows, tags)
        self.show_category(self.category)

    def append(self, rows: list[TrackRow], tags: Mapping[str, Mapping] | None = None) -> None:
        """A batch from the library loader: filed now, listed once the batches pause."""
        self.index.add(rows, tags)
        self._refresh.start()

    def flush(self) -> None:
        """List what the batches brought now (the load finished: no need to wait for a pause)."""
        if self._refresh.isActive():
            self._refresh.stop()
            self.show_category(self.category)

    def clear(self) -> None:
        """Forget the rows (before a reload)."""
        self.set_rows([])

    def show_category(self, category: str) -> None:
        """Show one of ``CATEGORIES``; the entry open before stays open if it is still there."""
        if self.tabs.currentIndex() != CATEGORIES.index(category):
            self.tabs.setCurrentIndex(CATEGORIES.index(category))  # comes back here
            return
        self.grid_button.setVisible(category == "albums")
        self._layout_list()
        key = self._entry.key if self._entry and self._entry.category == category else None
        self.entries.set_entries(self.index.entries(category))
        self.open_entry(category, key)

    def open_entry(self, category: str, key: str | None) -> bool:
        """Select and open an entry (``None`` or an unknown key: the first one)."""
        row = self.entries.row_of(key) if key is not None else None
        row = 0 if row is None and self.entries.entries else row
        if row is None:
            self._show(None)
            return False
        index = self.entries.index(row)
        self.list.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._open(index)  # also when it was current already
        return True

    def _open(self, index) -> None:
        entry = index.data(ENTRY_ROLE) if index.isValid() else None
        if entry is not None and entry == self._entry:
            return
        self._show(entry)

    def _show(self, entry: Entry | None) -> None:
        self._entry = entry
        self.tracks.set_tracks(self.index.tracks(entry) if entry else [], self.index.position)
        self.table.setColumnHidden(2, entry is not None and entry.category == "artists")
        details = self.index.details(entry) if entry else None
        self.header.show_entry(entry, details, self.titles[self.category])
        self.header.cover.setVisible(entry is not None and entry.category == "albums")
        if entry is not None and entry.category == "albums":
            self.header.show_cover(self._cover(entry, HEADER_COVER))
        if entry is not None:
            self.entryOpened.emit(entry.category, entry.key)

    @property
    def entry(self) -> Entry | None:
        """The entry shown."""
        return self._entry

    # -- covers --------------------------------------------------------------------------------
    def _cover(self, entry: Entry, size: int):
        if self.covers is None:
            return None
        return self.covers.thumbnail(self.index.rows[entry.rows[0]].path, size)

    def _decoration(self, entry: Entry):
        if entry.category != "albums":
            return None
        size = self.list.iconSize().width()
        return self._cover(entry, size) or icon("cover")

    def _cover_ready(self, track: str, size: int) -> None:
        entry = self._entry
        if entry is not None and entry.category == "albums" and size == HEADER_COVER \
                and self.index.rows[entry.rows[0]].path == track:
            self.header.show_cover(self.covers.thumbnail(track, size))
        if self.entries.entries:  # the view repaints only what it shows
            self.entries.dataChanged.emit(self.entries.index(0),
                                          self.entries.index(len(self.entries.entries) - 1))

    # -- actions -------------------------------------------------------------------------------
    def _play_from(self, row: int) -> None:
        if self.tracks.tracks:
            self.playRequested.emit(list(self.tracks.tracks), row)

    def selected(self) -> list[TrackRow]:
        """Selected tracks of the open entry, in order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.tracks.tracks[r] for r in rows]

    def _menu(self, view: QAbstractItemView, pos, *, entry: bool) -> None:
        tracks = list(self.tracks.tracks) if entry else self.selected()
        if tracks:
            self.context_menu(tracks, start=0 if entry else self.tracks.tracks.index(tracks[0])) \
                .exec(view.viewport().mapToGlobal(pos))

    def context_menu(self, tracks: list[TrackRow], *, start: int = 0) -> QMenu:
        """*Play*, *Play next* and *Add to queue* for ``tracks``."""
        menu = QMenu(self)
        for text, slot in ((self.tr("Play"), lambda: self._play_from(start)),
                           (self.tr("Play next"), lambda: self.playNextRequested.emit(tracks)),
                           (self.tr("Add to queue"), lambda: self.queueRequested.emit(tracks))):
            action = QAction(text, menu)
            action.triggered.connect(slot)
            menu.addAction(action)
        menu.addSeparator()
        self.contextMenuBuilt.emit(menu, tracks)
        return menu
