"""The main window's menu bar: every entry calls a method of the window (or of its views)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from player.dialogs import show_about

SEEK_STEP_S = 5.0


def tr(text: str) -> str:
    """``text`` through Qt's translator (context ``MainWindow``)."""
    return QCoreApplication.translate("MainWindow", text)


def add_action(window: QMainWindow, menu: QMenu, text: str, slot: Callable,
               shortcut: QKeySequence | None = None) -> QAction:
    """A menu entry; its shortcut works anywhere in the window, but a focused text field keeps
    Space and the arrows."""
    action = QAction(text, window)
    action.triggered.connect(slot)
    if shortcut is not None:
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    menu.addAction(action)
    return action


def build_menus(window) -> None:
    """File, Playback, Library, Playlist and Help menus of ``window`` (a ``MainWindow``)."""
    bar = window.menuBar()
    file = bar.addMenu(tr("&File"))
    add_action(window, file, tr("&Import folder…"), lambda: window.open_import_wizard(),
               QKeySequence("Ctrl+I"))
    add_action(window, file, tr("&Settings…"), lambda: window.desktop.open_settings(),
               QKeySequence("Ctrl+,"))
    file.addSeparator()
    add_action(window, file, tr("&Quit"), window.close, QKeySequence.StandardKey.Quit)
    play = bar.addMenu(tr("&Playback"))
    add_action(window, play, tr("Play/Pause"), window.bridge.toggle, QKeySequence(Qt.Key.Key_Space))
    add_action(window, play, tr("Next"), window.next_track, QKeySequence("Ctrl+Right"))
    add_action(window, play, tr("Previous"), window.previous_track, QKeySequence("Ctrl+Left"))
    add_action(window, play, tr("Seek forward"), lambda: window.seek_by(SEEK_STEP_S),
               QKeySequence(Qt.Key.Key_Right))
    add_action(window, play, tr("Seek back"), lambda: window.seek_by(-SEEK_STEP_S),
               QKeySequence(Qt.Key.Key_Left))
    play.addSeparator()
    add_action(window, play, tr("Like / unlike the playing track"), window.toggle_like_current,
               QKeySequence("Ctrl+L"))
    add_action(window, play, tr("More like the playing track"), window.more_like_current)
    add_action(window, play, tr("Start radio from the playing track"), window.radio_from_current)
    library = bar.addMenu(tr("&Library"))
    add_action(window, library, tr("&Find…"), window.find, QKeySequence.StandardKey.Find)
    add_action(window, library, tr("&Browse"), lambda: window.pages.show_browse(),
               QKeySequence("Ctrl+B"))
    add_action(window, library, tr("&Reload"), window.reload_library, QKeySequence.StandardKey.Refresh)
    add_action(window, library, tr("&Services status"), window.show_services)
    library.addSeparator()
    add_action(window, library, tr("Next pane"), lambda: window.focus_pane(1),
               QKeySequence(Qt.Key.Key_F6))
    add_action(window, library, tr("Previous pane"), lambda: window.focus_pane(-1),
               QKeySequence("Shift+F6"))
    window.playlists.add_menu_bar(bar)
    help_menu = bar.addMenu(tr("&Help"))
    add_action(window, help_menu, tr("&About Encore"), lambda: show_about(window))
