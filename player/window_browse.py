"""The window's library area: the welcome page while the library is empty, else the Tracks,
Browse and Playlists tabs; and where dropped files go."""

from __future__ import annotations

import os

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QFrame, QScrollArea, QStackedWidget, QTabWidget, QWidget

from core.library.catalog import TrackRow
from player.covers import CoverLoader
from player.widgets.browser import BrowserPane
from player.widgets.playlists import PlaylistsPane
from player.widgets.welcome import WelcomePage

TRACKS, BROWSE, PLAYLISTS = 0, 1, 2


def tr(text: str) -> str:
    """``text`` through Qt's translator (context ``LibraryPages``)."""
    return QCoreApplication.translate("LibraryPages", text)


def import_root(paths: list[str]) -> str:
    """The folder to import for dropped ``paths``: the one folder dropped, or the folder that holds
    every dropped file and folder (files already in the library are skipped, so a wider folder
    costs one ``stat`` per file it holds).

    Raises
    ------
    ValueError
        For an empty list.
    """
    if not paths:
        raise ValueError("nothing was dropped")
    folders = [p if os.path.isdir(p) else os.path.dirname(p) for p in paths]
    return os.path.commonpath(folders)


class LibraryPages(QStackedWidget):
    """The welcome page, or the track list, the browse pane and the playlists as tabs.

    Parameters
    ----------
    tracks : QWidget
        The library's track list (first tab).
    covers : CoverLoader
        Album covers of the browse pane.

    Signals
    -------
    importRequested()
        The welcome page's *Import a folder…*.
    pathsDropped(list)
        Files or folders dropped on the welcome page.
    """

    importRequested = Signal()
    pathsDropped = Signal(list)

    def __init__(self, tracks: QWidget, covers: CoverLoader, parent: QWidget | None = None):
        super().__init__(parent)
        self.welcome = WelcomePage()
        self.browser = BrowserPane(covers)
        self.browser.setAccessibleName(tr("Browse"))
        self.playlists = PlaylistsPane()
        self.playlists.setAccessibleName(tr("Playlists"))
        self.tabs = QTabWidget(objectName="libraryTabs", documentMode=True)
        self.tabs.tabBar().setDrawBase(False)  # the style sheet draws the selected tab's line
        self.tabs.addTab(tracks, tr("Tracks"))
        self.tabs.addTab(self.browser, tr("Browse"))
        self.tabs.addTab(self.playlists, tr("Playlists"))
        # Tracks dragged over a tab open it, so they can be dropped on a playlist.
        self.tabs.tabBar().setChangeCurrentOnDrag(True)
        self.tabs.tabBar().setAcceptDrops(True)
        self.tabs.setAccessibleName(tr("Library"))
        # Scrolled, so the page does not set a minimum size for the whole window.
        self.welcome_area = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.welcome_area.setWidget(self.welcome)
        self.addWidget(self.tabs)
        self.addWidget(self.welcome_area)
        self.welcome.importRequested.connect(self.importRequested)
        self.welcome.pathsDropped.connect(self.pathsDropped)

    def append(self, rows: list[TrackRow]) -> None:
        """A loader batch for the browse pane (rows with ``tags`` bring their track numbers,
        discs and years: ``BrowseIndex`` reads them)."""
        self.browser.append(rows)

    def clear(self) -> None:
        """Before a reload."""
        self.browser.clear()

    def show_loaded(self, total: int) -> None:
        """The library finished loading: the welcome page if it is empty, else the tabs."""
        self.browser.flush()
        self.setCurrentWidget(self.welcome_area if total == 0 else self.tabs)

    def showing_welcome(self) -> bool:
        """Whether the welcome page is shown."""
        return self.currentWidget() is self.welcome_area

    def show_tracks(self) -> None:
        """The Tracks tab (search and the views live there)."""
        self.tabs.setCurrentIndex(TRACKS)

    def show_browse(self) -> None:
        """The Browse tab."""
        if not self.showing_welcome():
            self.tabs.setCurrentIndex(BROWSE)

    def show_playlists(self) -> None:
        """The Playlists tab."""
        if not self.showing_welcome():
            self.tabs.setCurrentIndex(PLAYLISTS)
