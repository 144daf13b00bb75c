"""The main window: library, queue, recommendations and transport, wired to the engine."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from core.audio.tags import cover_art
from core.library.catalog import TrackRow
from core.playback.listening import ListeningSession
from core.playback.playqueue import PlayQueue
from core.playback.source import PlayItem
from player.backend import Backend
from player.bridge import PlaybackBridge
from player.dialogs import ServicesDialog, services_text, show_about
from player.feed import RecommendationFeed
from player.loader import LibraryLoader
from player.models.library import LibraryModel
from player.models.queue import QueueModel
from player.resources import icon
from player.widgets.library_view import LibraryView
from player.widgets.queue_view import QueueView
from player.widgets.sidebar import RecommendationSidebar
from player.widgets.transport import TransportBar
from player.wizard import ImportWizard

SEEK_STEP_S = 5.0


class MainWindow(QMainWindow):
    """Composes the views; every decision about audio, data or events is the engine's.

    Parameters
    ----------
    backend : Backend
        Store, event bus and configuration.
    settings : QSettings
        Geometry, volume and queue survive restarts here.
    playback : dict, optional
        Options of the playback engine (device, buffer sizes).
    feed_timeout_s : float, optional
        How long the sidebar waits for the worker.
    """

    def __init__(self, backend: Backend, settings: QSettings, *, playback: dict | None = None,
                 feed_timeout_s: float | None = None):
        super().__init__()
        self.backend, self.settings = backend, settings
        self.setWindowTitle("Encore")
        self.setWindowIcon(icon("encore"))
        self.queue = PlayQueue()
        self.bridge = PlaybackBridge(self.queue, self, **(playback or {}))
        self.session = ListeningSession(backend.bus)
        kwargs = {} if feed_timeout_s is None else {"timeout_s": feed_timeout_s}
        self.feed = RecommendationFeed(backend.store, self.session.session_id, bootstrap=backend.bootstrap,
                                       bus=backend.bus, parent=self, **kwargs)
        self.library = LibraryModel(self)
        self.library_view = LibraryView(self.library)
        self.queue_view = QueueView(QueueModel(self.queue, self))
        self.sidebar = RecommendationSidebar()
        self.transport = TransportBar()
        self.status_label = QLabel("Loading library…", objectName="statusText")
        self.wizard: ImportWizard | None = None
        self._layout()
        self._menus()
        self._connect()
        self._restore()
        self.reload_library()

    # -- construction ------------------------------------------------------------------------
    def _layout(self) -> None:
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.sidebar)
        side.addWidget(self.queue_view)
        side.setSizes([420, 260])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.library_view)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 340])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.transport)
        self.setCentralWidget(central)
        self.statusBar().addWidget(self.status_label, 1)

    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Import folder…", self.open_import_wizard, QKeySequence("Ctrl+I"))
        file.addSeparator()
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        play = bar.addMenu("&Playback")
        self._action(play, "Play/Pause", self.bridge.toggle, QKeySequence(Qt.Key.Key_Space))
        self._action(play, "Next", self.next_track, QKeySequence("Ctrl+Right"))
        self._action(play, "Previous", self.previous_track, QKeySequence("Ctrl+Left"))
        self._action(play, "Seek forward", lambda: self.seek_by(SEEK_STEP_S), QKeySequence(Qt.Key.Key_Right))
        self._action(play, "Seek back", lambda: self.seek_by(-SEEK_STEP_S), QKeySequence(Qt.Key.Key_Left))
        library = bar.addMenu("&Library")
        self._action(library, "&Find…", self.library_view.focus_search, QKeySequence.StandardKey.Find)
        self._action(library, "&Reload", self.reload_library, QKeySequence.StandardKey.Refresh)
        self._action(library, "&Services status", self.show_services)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About Encore", lambda: show_about(self))

    def _action(self, menu, text: str, slot, shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(shortcut)
            # Window-wide, but a focused text field keeps Space and the arrows.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        menu.addAction(action)
        return action

    def _connect(self) -> None:
        t, b = self.transport, self.bridge
        t.playPauseClicked.connect(b.toggle)
        t.nextClicked.connect(self.next_track)
        t.previousClicked.connect(self.previous_track)
        t.seekRequested.connect(b.seek)
        t.volumeChanged.connect(b.set_volume)
        b.positionChanged.connect(t.show_position)
        b.stateChanged.connect(self._state_changed)
        b.trackStarted.connect(self._track_started)
        b.errorOccurred.connect(lambda message: self.statusBar().showMessage(f"Playback: {message}", 8000))
        self.library_view.playRequested.connect(self.play_row)
        self.library_view.playNextRequested.connect(
            lambda rows: self.queue.insert_next(r.play_item() for r in rows))
        self.library_view.queueRequested.connect(lambda rows: self.queue.add(r.play_item() for r in rows))
        self.feed.waiting.connect(self.sidebar.show_waiting)
        self.feed.received.connect(self.sidebar.show_recommendations)
        self.feed.problem.connect(self.sidebar.show_problem)
        self.sidebar.queueRequested.connect(lambda rec: self._queue_rec(rec, next_up=False))
        self.sidebar.playNextRequested.connect(lambda rec: self._queue_rec(rec, next_up=True))
        QShortcut(QKeySequence("Ctrl+F"), self, self.library_view.focus_search)

    # -- playback ----------------------------------------------------------------------------
    def play_row(self, row: TrackRow) -> None:
        """Play a library row now."""
        self.play_item(row.play_item())

    def play_item(self, item: PlayItem) -> None:
        """Play now; leaving the current track early counts as a skip."""
        self._leaving()
        self.bridge.play(item)

    def next_track(self) -> None:
        """Next in the queue."""
        if len(self.queue):
            self._leaving()
        self.bridge.next()

    def previous_track(self) -> None:
        """Restart, or the track before."""
        self.bridge.previous()

    def seek_by(self, delta_s: float) -> None:
        """Left/Right arrow."""
        status = self.bridge.status
        if status.item is not None:
            self.bridge.seek(max(0.0, status.position_s + delta_s))

    def _leaving(self) -> None:
        status = self.bridge.status
        if status.item is not None:
            self.session.left(status.item, status.position_s)

    def _track_started(self, item: PlayItem) -> None:
        self.session.started(item)
        self.feed.track_started(item)
        self.transport.show_item(item, self._cover(item))
        self.setWindowTitle(f"{item.title} — Encore")

    def _cover(self, item: PlayItem) -> bytes | None:
        try:
            return cover_art(item.path)
        except OSError:
            return None

    def _state_changed(self, state: str) -> None:
        self.transport.show_state(state)
        if state == "stopped":
            self.transport.show_item(None)
            self.setWindowTitle("Encore")

    def _queue_rec(self, rec: dict, *, next_up: bool) -> None:
        row = self.library.find(rec["id"])
        if row is None:
            self.statusBar().showMessage("That track is no longer in the library", 5000)
            return
        if next_up:
            self.queue.insert_next([row.play_item()])
        else:
            self.queue.add([row.play_item()])
        self.statusBar().showMessage(f"Queued “{row.title}”", 3000)

    # -- library -----------------------------------------------------------------------------
    def reload_library(self) -> None:
        """Read the library from the store (in the background)."""
        self.library.clear()
        self.status_label.setText("Loading library…")
        loader = LibraryLoader(self.backend.store, self)
        loader.batch.connect(self.library.append)
        loader.done.connect(self._library_loaded)
        loader.failed.connect(lambda message: self.status_label.setText(f"Library unavailable: {message}"))
        loader.start()

    def _library_loaded(self, total: int) -> None:
        self.status_label.setText(f"{total:,} tracks" if total else
                                  "The library is empty: File → Import folder… to add music.")
        if not len(self.queue):
            self._restore_queue()

    def open_import_wizard(self) -> ImportWizard:
        """File → Import folder…"""
        self.wizard = ImportWizard(self.backend.store, str(self.backend.config.library_dir), parent=self)
        self.wizard.finished.connect(lambda _result: self.reload_library())
        self.wizard.show()
        return self.wizard

    def show_services(self) -> None:
        """Library → Services status."""
        ServicesDialog(services_text(self.backend.config, self.backend.bootstrap,
                                     self.backend.mongo_uri), self).exec()

    # -- persistence -------------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        splitter = s.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        volume = int(s.value("playback/volume", 80))
        self.transport.volume.setValue(volume)
        self.bridge.set_volume(volume / 100)

    def _restore_queue(self) -> None:
        ids = self.settings.value("playback/queue", []) or []
        rows = [self.library.find(i) for i in ([ids] if isinstance(ids, str) else ids)]
        self.queue.add(r.play_item() for r in rows if r is not None)

    def save_settings(self) -> None:
        """Window, volume and queue."""
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("playback/volume", self.transport.volume.value())
        s.setValue("playback/queue", [item.track_id for item in self.queue.items()])
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        if self.wizard is not None:
            self.wizard.reject()
        self._leaving()
        self.feed.close()
        self.bridge.close()
        super().closeEvent(event)
