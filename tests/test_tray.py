"""The tray icon's menu, state and notifications."""

from __future__ import annotations

from PySide6.QtWidgets import QSystemTrayIcon

from player.tray import PlayerTray


def test_menu_entries_emit(qtbot):
    tray = PlayerTray()
    with qtbot.waitSignal(tray.playPauseRequested):
        tray.play_action.trigger()
    with qtbot.waitSignal(tray.nextRequested):
        tray.next_action.trigger()
    with qtbot.waitSignal(tray.radioToggled) as radio:
        tray.radio_action.trigger()
    assert radio.args == [True]
    texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert texts == ["Play", "Next", "Radio", "Show Encore", "Quit"]
    with qtbot.waitSignal(tray.quitRequested):
        tray.menu.actions()[-1].trigger()
    with qtbot.waitSignal(tray.showRequested):
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    tray.close()


def test_state_radio_and_tooltip(qtbot):
    tray = PlayerTray()
    tray.show_state("playing")
    assert tray.play_action.text() == "Pause"
    tray.show_state("paused")
    assert tray.play_action.text() == "Play"
    with qtbot.assertNotEmitted(tray.radioToggled):
        tray.set_radio(True)
    assert tray.radio_action.isChecked()
    with qtbot.assertNotEmitted(tray.notified):
        tray.show_track("Battle", "Wesnoth", "Soundtrack")  # notifications off
    assert tray.icon.toolTip() == "Battle\nWesnoth — Soundtrack"
    tray.show_track(None)
    assert tray.icon.toolTip() == "Encore"
    tray.close()


def test_notification_on_track_change(qtbot):
    tray = PlayerTray()
    tray.notifications = True
    with qtbot.waitSignal(tray.notified) as shown:
        tray.show_track("Battle", "Wesnoth")
    assert shown.args == ["Battle", "Wesnoth"]
    assert tray.show() == QSystemTrayIcon.isSystemTrayAvailable()
    tray.close()
