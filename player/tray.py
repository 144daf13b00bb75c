"""The tray icon: play/pause, next, radio, show the window and quit; an optional desktop
notification when the track changes. It only emits what was asked and shows what it is told."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from player.resources import icon

NOTIFY_MS = 5000


class PlayerTray(QObject):
    """A ``QSystemTrayIcon`` with the player's menu.

    Signals
    -------
    playPauseRequested(), nextRequested(), showRequested(), quitRequested()
    radioToggled(bool)
        The menu's *Radio* was switched.
    notified(str, str)
        A notification was shown (title, text).
    """

    playPauseRequested = Signal()
    nextRequested = Signal()
    showRequested = Signal()
    quitRequested = Signal()
    radioToggled = Signal(bool)
    notified = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.notifications = False
        self.icon = QSystemTrayIcon(icon("encore"), self)
        self.icon.setToolTip("Encore")
        self.menu = QMenu()
        self.play_action = self._action(self.tr("Play"), self.playPauseRequested, icon("play"))
        self.next_action = self._action(self.tr("Next"), self.nextRequested, icon("next"))
        self.radio_action = self._action(self.tr("Radio"), None, icon("radio"))
        self.radio_action.setCheckable(True)
        self.radio_action.toggled.connect(self.radioToggled)
        self.menu.addSeparator()
        self._action(self.tr("Show Encore"), self.showRequested)
        self._action(self.tr("Quit"), self.quitRequested)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)

    def _action(self, text: str, signal, action_icon: QIcon | None = None) -> QAction:
        action = QAction(text, self.menu)
        if action_icon is not None:
            action.setIcon(action_icon)
        if signal is not None:
            action.triggered.connect(signal)
        self.menu.addAction(action)
        return action

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:  # a left click
            self.showRequested.emit()
        elif reason == QSystemTrayIcon.ActivationReason.MiddleClick:
            self.playPauseRequested.emit()

    def show(self) -> bool:
        """Show the icon; ``False`` when the desktop has no system tray (nothing is shown)."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return False
        self.icon.show()
        return True

    def show_state(self, state: str) -> None:
        """``"playing"``, ``"paused"`` or ``"stopped"``: the first entry offers the opposite."""
        playing = state == "playing"
        self.play_action.setText(self.tr("Pause") if playing else self.tr("Play"))
        self.play_action.setIcon(icon("pause" if playing else "play"))

    def set_radio(self, on: bool) -> None:
        """Reflect the radio's state (without emitting ``radioToggled``)."""
        self.radio_action.blockSignals(True)
        self.radio_action.setChecked(on)
        self.radio_action.blockSignals(False)

    def show_track(self, title: str | None, artist: str = "", album: str = "") -> None:
        """The playing track in the tooltip (``None``: nothing plays), and a notification if
        ``notifications`` is on."""
        if title is None:
            self.icon.setToolTip("Encore")
            return
        by = " — ".join(p for p in (artist, album) if p)
        self.icon.setToolTip(f"{title}\n{by}" if by else title)
        if self.notifications:
            self.icon.showMessage(title, by, icon("encore"), NOTIFY_MS)
            self.notified.emit(title, by)

    def close(self) -> None:
        """Remove the icon (at exit)."""
        self.icon.hide()
        self.menu.deleteLater()
