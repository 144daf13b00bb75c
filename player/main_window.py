"""The main window: library (tracks and browse), queue, recommendations and transport, wired to the
engine. Menus, the library area and the desktop (settings, tray, MPRIS) live in ``window_*``."""

from __future__ import annotations

import time

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from core.audio.covers import cover_cache_dir
from core.library.catalog import TrackRow
from core.playback.listening import ListeningSession
from core.playback.playqueue import QUEUED, RADIO, PlayQueue
from core.playback.source import PlayItem
from player.backend import Backend
from player.bridge import PlaybackBridge
from player.covers import CoverLoader
from player.dialogs import ServicesDialog, services_text
from player.feed import RecommendationFeed
from player.history import ListeningHistory
from player.loader import LibraryLoader
from player.models.library import LibraryModel
from player.models.queue import SHOWN, QueueModel
from player.radio import Radio
from player.resources import icon
from player.supervisor import WorkerSupervisor
from player.widgets.health import HealthLabel
from player.widgets.library_view import LibraryView
from player.widgets.queue_view import QueueView
from player.widgets.sidebar import RecommendationSidebar
from player.widgets.transport import COVER, TransportBar
from player.widgets.welcome import DropTarget
from player.window_browse import LibraryPages, import_root
from player.window_desktop import Desktop
from player.window_menus import build_menus
from player.window_playlists import WindowPlaylists
from player.window_state import restore_queue, restore_state, save_state
from player.wizard import ImportWizard

#: Tracks the sidebar and the radio never offer again within a session (the play window).
RECENT = 50
SIDEBAR_SIZE = 5


class MainWindow(QMainWindow):
    """Composes the views; every decision about audio, data or events is the engine's.

    Parameters
    ----------
    backend : Backend
        Store, event bus and configuration (the settings live in its data folder).
    settings : QSettings
        Geometry, volume and queue survive restarts here (``player.settings.window_state``).
    playback : dict, optional
        Options of the playback engine (device, buffer sizes); by default the device is the one
        chosen in the settings.
    feed_timeout_s : float, optional
        How long the sidebar waits for the worker.

    Signals
    -------
    enqueueRequested(str)
        Queue a library track by id; safe to emit from any thread (remote control).
    """

    enqueueRequested = Signal(str)

    def __init__(self, backend: Backend, settings: QSettings, *, playback: dict | None = None,
                 feed_timeout_s: float | None = None):
        super().__init__()
        self.backend, self.settings = backend, settings
        self.setWindowTitle("Encore")
        self.setWindowIcon(icon("encore"))
        self.desktop = Desktop(self)
        self.device_fixed = playback is not None and "device" in playback
        self.queue = PlayQueue()
        self.bridge = PlaybackBridge(self.queue, self, **{
            "device": self.desktop.preferences.output_device, **(playback or {})})
        self.session = ListeningSession(backend.bus, caps=self.desktop.radio_caps)
        kwargs = {} if feed_timeout_s is None else {"timeout_s": feed_timeout_s}
        self.feed = RecommendationFeed(backend.store, self.session.session_id, bootstrap=backend.bootstrap,
                                       bus=backend.bus, parent=self, **kwargs)
        self.covers = CoverLoader(cover_cache_dir(backend.config), parent=self)
        self.library = LibraryModel(self)
        self.library_view = LibraryView(self.library, settings)
        self.pages = LibraryPages(self.library_view, self.covers)
        self.browser = self.pages.browser
        self.queue_view = QueueView(QueueModel(self.queue, self))
        self.sidebar = RecommendationSidebar()
        self.sidebar.liked = self.library.history.liked
        self.transport = TransportBar()
        self.radio = Radio(self.queue, self._item_for, lambda: self.excluded_ids(radio=False), self)
        self.status_label = QLabel("Loading library…", objectName="statusText")
        self.health = HealthLabel()
        self.drops = DropTarget(self)
        self.wizard: ImportWizard | None = None
        self._recs: tuple[list[dict], str] = ([], "")
        self.playlists = WindowPlaylists(self, self.pages.playlists)
        self.supervisor = (WorkerSupervisor(backend.spawn_worker, self)
                           if backend.spawn_worker is not None else None)
        self._layout()
        build_menus(self)
        self._connect()
        restore_state(self)
        self._watch_health()
        self.reload_library()

    # -- construction ------------------------------------------------------------------------
    def _layout(self) -> None:
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.addWidget(self.sidebar)
        self.side.addWidget(self.queue_view)
        self.side.setSizes([420, 260])
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.pages)
        self.splitter.addWidget(self.side)
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
        self.statusBar().addPermanentWidget(self.health)
        # The style sheet paints these panels' backgrounds (the light theme keeps them dark).
        for panel in (self.sidebar, self.queue_view, self.transport):
            panel.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.drops.watch(self)

    def _connect(self) -> None:
        self._connect_playback()
        self._connect_views()
        self._connect_library()

    def _connect_playback(self) -> None:
        t, b = self.transport, self.bridge
        t.playPauseClicked.connect(b.toggle)
        t.nextClicked.connect(self.next_track)
        t.previousClicked.connect(self.previous_track)
        t.seekRequested.connect(b.seek)
        t.volumeChanged.connect(b.set_volume)
        t.shuffleToggled.connect(self.queue.set_shuffle)
        t.repeatChanged.connect(self.queue.set_repeat)
        t.radioToggled.connect(self.radio.set_enabled)
        t.likeToggled.connect(self._like_current)
        t.moreLikeClicked.connect(self.more_like_current)
        b.positionChanged.connect(t.show_position)
        b.stateChanged.connect(self._state_changed)
        b.trackStarted.connect(self._track_started)
        b.errorOccurred.connect(lambda message: self.statusBar().showMessage(f"Playback: {message}", 8000))
        b.stateChanged.connect(lambda state: state == "stopped" and self.desktop.switch_device())
        self.covers.ready.connect(self._cover_ready)

    def _connect_views(self) -> None:
        lv = self.library_view
        lv.playRequested.connect(self.play_row)
        lv.playNextRequested.connect(self.play_next)
        lv.queueRequested.connect(self.add_to_queue)
        lv.radioRequested.connect(self.start_radio)
        lv.moreLikeRequested.connect(lambda row: self.more_like(self.item_of(row)))
        lv.likeRequested.connect(lambda row, liked: self.set_liked(row.id, liked))
        self.feed.waiting.connect(self.sidebar.show_waiting)
        self.feed.received.connect(self._recommendations)
        self.feed.radioPicks.connect(self.desktop.set_radio_picks)
        self.feed.problem.connect(self.sidebar.show_problem)
        self.sidebar.queueRequested.connect(lambda rec: self._queue_rec(rec, next_up=False))
        self.sidebar.playNextRequested.connect(lambda rec: self._queue_rec(rec, next_up=True))
        self.sidebar.likeRequested.connect(lambda rec, liked: self.set_liked(rec["id"], liked))
        self.queue_view.model.modelReset.connect(self._show_sidebar)
        self.enqueueRequested.connect(lambda track_id: self.enqueue(track_id))

    def _connect_library(self) -> None:
        self.browser.playRequested.connect(self.play_tracks)
        self.browser.playNextRequested.connect(self.play_next)
        self.browser.queueRequested.connect(self.add_to_queue)
        for view in (self.library_view, self.browser, self.queue_view):
            view.contextMenuBuilt.connect(self.playlists.add_menu)
        self.queue_view.saveRequested.connect(self.playlists.save_queue)
        self.pages.importRequested.connect(lambda: self.open_import_wizard())
        self.pages.pathsDropped.connect(self.import_paths)
        self.drops.pathsDropped.connect(self.import_paths)
        self.desktop.libraryChanged.connect(self.reload_library)

    def _watch_health(self) -> None:
        self.feed.problem.connect(lambda problem: self.health.report("feed", problem))
        if self.backend.bootstrap is None:
            self.health.report("bus", "no Kafka broker, so recommendations are computed in this "
                               "process")
        if self.supervisor is not None:
            self.supervisor.problem.connect(lambda problem: self.health.report("worker", problem))
            self.supervisor.start()

    # -- playback ----------------------------------------------------------------------------
    def item_of(self, row: TrackRow) -> PlayItem:
        """A library row as something to play (with the ReplayGain the settings ask for)."""
        return self.desktop.play_item(row)

    def play_row(self, row: TrackRow) -> None:
        """Play a library row now and continue through the rows as shown (sorted, filtered)."""
        rows = self.library.visible_tracks()
        index = next((i for i, r in enumerate(rows) if r.id == row.id), None)
        if index is None:  # not shown (any more): play it alone
            rows, index = [row], 0
        self.play_tracks(rows, index)

    def play_tracks(self, rows: list[TrackRow], start: int) -> None:
        """Play ``rows[start]`` now and continue through ``rows`` in their order (an album in disc
        and track order, from the browse pane)."""
        self._leave_for(self.queue.start([self.item_of(r) for r in rows], start))

    def play_next(self, rows: list[TrackRow]) -> None:
        """*Play next*: ``rows`` before what is queued."""
        self.queue.insert_next(self.item_of(r) for r in rows)

    def add_to_queue(self, rows: list[TrackRow]) -> None:
        """*Add to queue*."""
        self.queue.add(self.item_of(r) for r in rows)

    def play_item(self, item: PlayItem) -> None:
        """Play ``item`` now, on its own; the radio (if on) continues from it."""
        self.queue.play_alone(item)
        self._leave_for(item)

    def _leave_for(self, item: PlayItem) -> None:
        """Leaving the current track early for another one is a skip."""
        self._left(self.bridge.status)
        self.bridge.play(item)

    def next_track(self) -> None:
        """Next: what the queue, the list or the radio has; leaving early is a skip."""
        status = self.bridge.status
        if self.bridge.next():
            self._left(status)

    def previous_track(self) -> None:
        """Restart, or the track before (going back is not a skip)."""
        self.bridge.previous()

    def seek_by(self, delta_s: float) -> None:
        """Left/Right arrow."""
        status = self.bridge.status
        if status.item is not None:
            self.bridge.seek(max(0.0, status.position_s + delta_s))

    def _left(self, status) -> None:
        if status.item is not None:
            self.session.left(status.item, status.position_s)

    def _track_started(self, item: PlayItem) -> None:
        self.session.started(item)
        self.library.history.note_play(item.track_id, time.time())
        self.library.history_changed(item.track_id)
        self.feed.expect(item)
        self.transport.show_item(item)
        self._show_cover(item)
        self.transport.show_liked(item.track_id in self.library.history.liked)
        self.queue_view.now.show_item(item)
        self.setWindowTitle(f"{item.title} — Encore")

    def _show_cover(self, item: PlayItem) -> None:
        """The playing track's cover, once the cover loader has it (off the UI thread)."""
        pixmap = self.covers.thumbnail(item.path, COVER)
        if pixmap is not None:
            self.transport.cover.setPixmap(pixmap)

    def _cover_ready(self, track: str, size: int) -> None:
        current = self.bridge.current
        if size == COVER and current is not None and current.path == track:
            self._show_cover(current)

    def _state_changed(self, state: str) -> None:
        self.transport.show_state(state)
        if state == "stopped":
            self.transport.show_item(None)
            self.queue_view.now.show_item(None)
            self.setWindowTitle("Encore")

    # -- radio, likes and recommendations ---------------------------------------------------
    def start_radio(self, row: TrackRow) -> None:
        """Play ``row`` and let the radio follow from it (the track seeds the session)."""
        self.transport.radio_button.setChecked(True)
        self.session.seeded(row.id)
        self.play_item(self.item_of(row))

    def more_like(self, item: PlayItem) -> None:
        """Show the top tracks like ``item``; the radio follows from it too."""
        self.session.seeded(item.track_id)
        self.feed.expect(item)

    def more_like_current(self) -> None:
        """More like the playing track."""
        if self.bridge.current is not None:
            self.more_like(self.bridge.current)

    def radio_from_current(self) -> None:
        """Seed the radio with the playing track; what follows it is the radio's."""
        item = self.bridge.current
        if item is not None:
            self.queue.play_alone(item)
            self.transport.radio_button.setChecked(True)
            self.more_like(item)

    def toggle_like_current(self) -> None:
        """Ctrl+L."""
        item = self.bridge.current
        if item is not None:
            self.set_liked(item.track_id, item.track_id not in self.library.history.liked)

    def _like_current(self, liked: bool) -> None:
        if self.bridge.current is not None:
            self.set_liked(self.bridge.current.track_id, liked)

    def set_liked(self, track_id: str, liked: bool) -> None:
        """Set the heart everywhere at once and publish a like (or unlike) event."""
        self.library.history.set_liked(track_id, liked)
        self.library.history_changed(track_id)
        self.sidebar.refresh_hearts()
        current = self.bridge.current
        if current is not None and current.track_id == track_id:
            self.transport.show_liked(liked)
        self.session.liked(track_id, liked)

    def excluded_ids(self, *, radio: bool = True) -> set[str]:
        """Tracks not to offer now: playing, queued (the radio's pick too if ``radio``) and played
        in the last ``RECENT`` tracks. The rest of the list being played through is not queued:
        excluding it would leave nothing to recommend while the whole library plays."""
        offered = (QUEUED, RADIO) if radio else (QUEUED,)
        ids = {i.track_id for origin, i in self.queue.upcoming(SHOWN) if origin in offered}
        ids |= {i.track_id for i in self.queue.history(RECENT)}
        ids |= {i.track_id for i in (self.bridge.current, self.queue.current) if i is not None}
        return ids

    def _recommendations(self, recs: list[dict], source: str) -> None:
        self._recs = (recs, source)
        self._show_sidebar()

    def _show_sidebar(self) -> None:
        recs, source = self._recs
        if not source:
            return  # nothing received yet: the sidebar keeps its hint
        excluded = self.excluded_ids()
        self.sidebar.show_recommendations([r for r in recs if r["id"] not in excluded][:SIDEBAR_SIZE],
                                          source)

    def _item_for(self, rec: dict) -> PlayItem | None:
        row = self.library.find(rec["id"])
        return self.item_of(row) if row is not None else None

    def enqueue(self, track_id: str, *, next_up: bool = False) -> bool:
        """Queue a library track by id (the sidebar's clicks; remote "queue this" commands).

        Returns
        -------
        bool
            ``False`` if the track is not in the library.
        """
        row = self.library.find(track_id)
        if row is None:
            return False
        (self.play_next if next_up else self.add_to_queue)([row])
        return True

    def _queue_rec(self, rec: dict, *, next_up: bool) -> None:
        if not self.enqueue(rec["id"], next_up=next_up):
            self.statusBar().showMessage("That track is no longer in the library", 5000)
            return
        self.statusBar().showMessage(f"Queued “{rec.get('title') or rec['id']}”", 3000)

    # -- library -----------------------------------------------------------------------------
    def reload_library(self) -> None:
        """Read the library from the store (in the background)."""
        self.library.clear()
        self.pages.clear()
        self.status_label.setText("Loading library…")
        loader = LibraryLoader(self.backend.store, self)
        loader.batch.connect(self.library.append)
        loader.batch.connect(self.pages.append)
        loader.history.connect(self._history_loaded)
        loader.done.connect(self._library_loaded)
        loader.failed.connect(lambda message: self.status_label.setText(f"Library unavailable: {message}"))
        loader.start()

    def _history_loaded(self, history: ListeningHistory) -> None:
        # This session's plays and hearts so far win over what the database had stored yet.
        for track_id, ts in self.library.history.last_played.items():
            history.last_played[track_id] = max(ts, history.last_played.get(track_id, 0.0))
        history.liked |= self.library.history.liked
        self.library.set_history(history)
        self.sidebar.liked = history.liked
        self.sidebar.refresh_hearts()

    def _library_loaded(self, total: int) -> None:
        self.status_label.setText(f"{total:,} tracks" if total else
                                  "The library is empty: File → Import folder… to add music.")
        self.pages.show_loaded(total)
        self.side.setVisible(total > 0)  # the welcome page has the window to itself
        if not len(self.queue):
            restore_queue(self)
        if self.desktop.watcher is None:
            self.desktop.start_watcher()
        self.playlists.library_loaded()

    def open_import_wizard(self, folder: str = "") -> ImportWizard:
        """File → Import folder… (``folder``: the folder to propose)."""
        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.reject()
        self.wizard = ImportWizard(self.backend.store, str(self.backend.config.library_dir),
                                   folder=folder, parent=self)
        self.wizard.finished.connect(lambda _result: self.reload_library())
        self.wizard.show()
        return self.wizard

    def import_paths(self, paths: list[str]) -> ImportWizard:
        """Files or folders were dropped: the import wizard opens on the folder holding them."""
        return self.open_import_wizard(import_root(paths))

    def find(self) -> None:
        """Library → Find: the search field of the Tracks tab."""
        self.pages.show_tracks()
        self.library_view.focus_search()

    def panes(self) -> list[tuple[QWidget, list[QWidget]]]:
        """The window's panes in F6 order: each pane, and the widgets to focus in it, first
        choice first (the first visible one is taken)."""
        return [(self.pages, [self.library_view.table, self.browser.list,
                              self.pages.playlists.list]),
                (self.sidebar, [self.sidebar.list]), (self.queue_view, [self.queue_view.list]),
                (self.transport, [self.transport.play_button])]

    def focus_pane(self, step: int) -> None:
        """F6 / Shift+F6: move the focus to the next (``step`` 1) or previous (-1) visible
        pane, as desktop players do; Tab still walks every control."""
        panes = [(pane, targets) for pane, targets in self.panes() if pane.isVisible()]
        if not panes:
            return
        focused = QApplication.focusWidget()
        current = next((i for i, (pane, _) in enumerate(panes)
                        if focused is not None and (pane is focused or pane.isAncestorOf(focused))),
                       -1 if step > 0 else 0)
        pane, targets = panes[(current + step) % len(panes)]
        # a page with none of the usual views (the welcome page): its first focusable control
        target = next((w for w in targets + pane.findChildren(QWidget)
                       if w.isVisible() and w.focusPolicy() & Qt.FocusPolicy.TabFocus), None)
        if target is not None:
            target.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_services(self) -> None:
        """Library → Services status."""
        ServicesDialog(services_text(self.backend.config, self.backend.bootstrap,
                                     self.backend.mongo_uri), self).exec()

    def closeEvent(self, event: QCloseEvent) -> None:
        save_state(self)
        if self.wizard is not None:
            self.wizard.reject()
        if self.supervisor is not None:
            self.supervisor.stop()
        self.desktop.close()
        self.covers.close()
        # Quitting is not a skip: no event for the track that was playing.
        self.feed.close()
        self.bridge.close()
        super().closeEvent(event)

