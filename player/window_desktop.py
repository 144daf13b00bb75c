"""The window's ties to the desktop and to the listener's settings: the settings dialog and what
it changes (output device, ReplayGain, radio variety, theme, notifications, watched folders), the
tray icon and MPRIS. The window works without any of them; ``start`` adds the tray and MPRIS."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtDBus import QDBusConnection
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from core.audio.covers import cached_cover, cover_cache_dir
from core.events import CAP_SPAN
from core.library.watch import LibraryWatcher
from core.playback.source import PlayItem
from core.similarity.radio import caps_check, group_keys
from player.mpris import MprisService, WindowControls, follow, start_mpris
from player.resources import style_sheet
from player.settings import Settings, load_settings, save_settings, settings_path
from player.settings_dialog import SettingsDialog
from player.tray import PlayerTray

log = logging.getLogger("encore.player.desktop")


def varied(picks: list[dict], recent: list[PlayItem], *, max_per_artist: int,
           max_per_album: int) -> list[dict]:
    """The radio's picks with those that would break the listener's caps moved last.

    Parameters
    ----------
    picks : list of dict
        Recommendation dicts in the worker's order (``path``, ``artist``, ``album``).
    recent : list of PlayItem
        Tracks played, newest last.
    max_per_artist, max_per_album : int
        At most this many of one artist / album in any ``CAP_SPAN`` consecutive tracks (0: no cap).

    Notes
    -----
    The worker sequences its picks with the caps the session's events carry
    (``Desktop.radio_caps``); this keeps picks sent before the listener changed them in line.
    """
    keys = [group_keys({"path": i.path, "artist": i.artist, "album": i.album})
            for i in recent[-(CAP_SPAN - 1):]]

    fits = caps_check(keys, max_per_artist or None, max_per_album or None)
    # stable: the worker's order within each
    return sorted(picks, key=lambda pick: not fits(group_keys(pick)))


def resolved_theme(theme: str) -> str:
    """``"dark"`` or ``"light"``; ``"system"`` asks Qt for the desktop's colour scheme (dark when
    it does not say)."""
    if theme != "system":
        return theme
    scheme = QGuiApplication.styleHints().colorScheme()
    return "light" if scheme == scheme.Light else "dark"


def apply_theme(theme: str) -> None:
    """Restyle the application (every window follows at once)."""
    app = QApplication.instance()
    if app is not None:
        app.setStyleSheet(style_sheet(resolved_theme(theme)))


class Desktop(QObject):
    """Settings, tray, MPRIS and the folder watcher of a ``MainWindow``.

    Parameters
    ----------
    window : MainWindow
        Its ``backend.config`` says where the settings are stored.

    Signals
    -------
    libraryChanged()
        The folder watcher imported, removed or moved files (the window reloads).
    """

    libraryChanged = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.path = settings_path(window.backend.config)
        self.preferences: Settings = load_settings(self.path)
        self.dialog: SettingsDialog | None = None
        self.tray: PlayerTray | None = None
        self.mpris: MprisService | None = None
        self.watcher: LibraryWatcher | None = None
        self._device = self.preferences.output_device  # the device the engine was opened with
        self._picks: list[dict] = []
        self._starting: threading.Thread | None = None
        self._closed = False
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._scheme_changed)
        # The window makes its bridge and transport bar after this object: wire them once it is built.
        QTimer.singleShot(0, self, self.follow_device)

    def _scheme_changed(self) -> None:
        if self.preferences.theme == "system":
            apply_theme("system")

    # -- what the settings change --------------------------------------------------------------
    def play_item(self, row) -> PlayItem:
        """A library row as something to play, with the ReplayGain the settings ask for."""
        prefs = self.preferences
        if prefs.replaygain == "off":
            return replace(row.play_item(), gain=1.0)
        return row.play_item(preamp_db=prefs.preamp_db, album=prefs.replaygain == "album")

    @property
    def radio_caps(self) -> tuple[int, int]:
        """The listener's radio variety caps (per artist, per album; 0: none), as events carry
        them to the worker."""
        return self.preferences.radio_max_per_artist, self.preferences.radio_max_per_album

    def set_radio_picks(self, picks: list[dict]) -> None:
        """The worker's next radio picks, ordered for the listener's variety caps."""
        self._picks = list(picks)
        per_artist, per_album = self.radio_caps
        self.window.radio.set_picks(varied(self._picks, self.window.queue.history(CAP_SPAN),
                                           max_per_artist=per_artist, max_per_album=per_album))

    def open_settings(self) -> SettingsDialog:
        """File → Settings…"""
        self.dialog = SettingsDialog(self.preferences, self.window.backend.store, self.window)
        self.dialog.applied.connect(self.apply)
        self.dialog.foldersChanged.connect(self.restart_watcher)
        self.dialog.show()
        return self.dialog

    def apply(self, preferences: Settings) -> None:
        """Use and store new settings. ReplayGain applies from the next track queued or played;
        the radio's caps reorder the picks already sent at once and reach the worker with the
        next event (looser caps take effect from its answer); the theme at once; the output
        device at once when nothing plays, else when playback next stops."""
        old, self.preferences = self.preferences, preferences
        try:
            save_settings(preferences, self.path)
        except OSError as exc:
            self.window.statusBar().showMessage(f"Settings not saved: {exc}", 8000)
        if preferences.theme != old.theme:
            apply_theme(preferences.theme)
        if self.tray is not None:
            self.tray.notifications = preferences.notifications
        self.window.session.caps = self.radio_caps  # the worker's next picks follow them
        self.set_radio_picks(self._picks)
        self.switch_device()

    def switch_device(self) -> None:
        """Reopen the engine on the chosen device if nothing plays (the engine opens its device
        once); a playing track keeps its device until playback stops (the window calls this again
        then). A device the window was given by its caller (tests, benchmarks) stays."""
        wanted, bridge = self.preferences.output_device, self.window.bridge
        if wanted == self._device or self.window.device_fixed:
            return
        if bridge.status.state != "stopped":
            self.window.statusBar().showMessage("The new output device is used once playback stops",
                                                8000)
            return
        bridge.use_device(wanted)
        self._device = wanted

    def follow_device(self) -> None:
        """Show in the transport bar, for as long as it lasts, that no sound device works (the
        engine then plays silently), from now on."""
        bridge, transport = self.window.bridge, self.window.transport
        bridge.deviceProblemChanged.connect(transport.show_device_problem)
        transport.show_device_problem(bridge.device_problem)

    # -- folders -------------------------------------------------------------------------------
    def start_watcher(self) -> None:
        """Follow the remembered folders whose watch box is checked (in the background: it asks
        the database which ones)."""
        if self._closed:
            return
        self.watcher = LibraryWatcher(self.window.backend.store, self._rescanned)
        self._starting = threading.Thread(target=self._start_watching, args=(self.watcher,),
                                          name="encore-watch-start", daemon=True)
        self._starting.start()

    def _start_watching(self, watcher: LibraryWatcher) -> None:
        try:
            watcher.start()
        except Exception as exc:  # the database may be down: the player runs on without it
            log.warning("not following the library folders: %s", exc)

    @staticmethod
    def _stop_watching(watcher: LibraryWatcher, starting: threading.Thread) -> None:
        starting.join()  # a watcher is stopped once it has started (or failed to)
        watcher.stop()

    def _rescanned(self, report) -> None:  # the watcher's thread
        if report.imported or report.removed or report.moved:
            self.libraryChanged.emit()

    def restart_watcher(self) -> None:
        """The settings changed the folders or their watch boxes."""
        self.stop_watcher()
        self.start_watcher()

    def stop_watcher(self) -> None:
        """Stop following the folders (a running rescan is cancelled)."""
        if self.watcher is not None:
            watcher, self.watcher = self.watcher, None
            threading.Thread(target=self._stop_watching, args=(watcher, self._starting),
                             name="encore-watch-stop", daemon=True).start()

    # -- tray and MPRIS ------------------------------------------------------------------------
    def start(self, *, connection: QDBusConnection | None = None) -> None:
        """Add the tray icon and MPRIS (``connection``: a bus other than the session bus)."""
        self.start_tray()
        self.start_mpris(connection)

    def start_tray(self) -> PlayerTray:
        """The tray icon, wired to the window (shown only where the desktop has a tray)."""
        w, tray = self.window, PlayerTray(self)
        tray.notifications = self.preferences.notifications
        tray.playPauseRequested.connect(w.bridge.toggle)
        tray.nextRequested.connect(w.next_track)
        tray.showRequested.connect(WindowControls(w).raise_window)
        tray.quitRequested.connect(w.close)
        tray.radioToggled.connect(w.transport.radio_button.setChecked)
        w.transport.radioToggled.connect(tray.set_radio)
        tray.set_radio(w.radio.enabled)
        w.bridge.stateChanged.connect(tray.show_state)
        w.bridge.stateChanged.connect(lambda state: state == "stopped" and tray.show_track(None))
        w.bridge.trackStarted.connect(lambda item: tray.show_track(item.title, item.artist, item.album))
        tray.show()
        self.tray = tray
        return tray

    def start_mpris(self, connection: QDBusConnection | None = None) -> MprisService | None:
        """Publish the player on D-Bus (none: logged once, the player runs on)."""
        self.mpris = start_mpris(WindowControls(self.window), self, connection=connection)
        if self.mpris is not None:
            follow(self.mpris, self.window.bridge, self._art_path)
        return self.mpris

    def _art_path(self, item: PlayItem) -> str | None:
        try:
            path = cached_cover(item.path, cover_cache_dir(self.window.backend.config))
        except OSError:
            return None
        return str(path) if path is not None else None

    def close(self) -> None:
        """At exit: the watcher and the tray icon go."""
        self._closed = True
        self.stop_watcher()
        if self.tray is not None:
            self.tray.close()
