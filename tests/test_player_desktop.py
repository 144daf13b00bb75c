"""The main window with its desktop parts wired in, offscreen, on the real database: the welcome
page and drop import on first run, the Browse tab playing an album in track order with its cover,
the settings dialog changing playback and the theme, the tray, and MPRIS driven by gdbus on a
private session bus."""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from dataclasses import replace
from pathlib import Path

import mutagen
import pytest
from PySide6.QtCore import QMimeData, QPoint, QSettings, Qt, QUrl
from PySide6.QtDBus import QDBusConnection
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from core.bus.memory import InProcessBus
from core.config import Config
from core.playback.playqueue import CONTINUE
from core.playback.source import PlayItem
from core.presence import running_players
from core.store.mongo import MongoStore
from player.backend import Backend
from player.main_window import MainWindow
from player.mpris import SERVICE
from player.resources import style_sheet
from player.settings import load_settings, settings_path
from player.widgets.browser import HEADER_COVER
from player.widgets.transport import COVER
from player.window_browse import import_root
from player.window_desktop import varied
from tests import test_mpris
from tests.audio import music_like, write
from tests.stores import imported_store
from tests.test_player_faults import launch_player, player_env
from tests.waiting import wait_for

NULL = {"device": "null"}
#: File names whose leading numbers, titles and paths give three different orders.
ALBUM = {"2 Alpha.flac": 2, "10 Bravo.flac": 10, "1 Zulu.flac": 1}
RED = QColor(220, 30, 40)
bus_address = test_mpris.bus_address  # a private dbus-daemon


@pytest.fixture(scope="module")
def album_folder(tmp_path_factory) -> Path:
    """One tagged album of three short tracks, with a red ``cover.png`` beside them."""
    folder = tmp_path_factory.mktemp("music") / "Test Album"
    for i, name in enumerate(ALBUM):
        path = write(folder / name, music_like(i, seconds=6.0, seed=i), 22050)
        audio = mutagen.File(path, easy=True)
        audio["title"], audio["artist"], audio["album"] = name[:-5].split(" ", 1)[1], "Tester", "Test Album"
        audio["tracknumber"], audio["date"] = str(ALBUM[name]), "2019-04-01"
        audio.save()
    image = QImage(300, 300, QImage.Format.Format_RGB32)
    image.fill(RED)
    image.save(str(folder / "cover.png"))
    return folder


@pytest.fixture(scope="module")
def album_store(mongo_uri, album_folder):
    with imported_store(mongo_uri, album_folder, "encore_desk", jobs=1) as store:
        yield store


@pytest.fixture
def open_window(qtbot, mongo_uri, tmp_path):
    """``open_window(store, playback=NULL)``: a shown window over ``store`` (in-process bus), its
    library loaded (``playback=None``: the settings choose the device)."""
    made = []

    def make(store: MongoStore, playback: dict | None = NULL) -> MainWindow:
        config = Config(tmp_path / "data", None, mongo_uri, db_name=store.db.name)
        bus = InProcessBus(store)
        window = MainWindow(Backend(config, mongo_uri, store, bus),
                            QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat),
                            playback=playback)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: "Loading" not in window.status_label.text(), timeout=10000)
        made.append((window, bus))
        return window

    yield make
    for window, bus in made:
        window.close()
        bus.close()


def drag_onto(window: MainWindow, widget, paths: list[Path]) -> bool:
    """Drop ``paths`` on ``widget`` the way the platform does: events to the window's QWindow,
    which Qt routes to the widget under the cursor that accepts drops."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = widget.mapTo(window, QPoint(widget.width() // 2, widget.height() // 2))
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    handle = window.windowHandle()
    enter = QDragEnterEvent(pos, actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(handle, enter)
    dropped = QDropEvent(pos.toPointF(), actions, data, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(handle, dropped)
    return dropped.isAccepted()


def menu_action(window: MainWindow, text: str):
    actions = [a for m in window.menuBar().actions() for a in m.menu().actions()]
    return next(a for a in actions if a.text() == text)


def playing(window: MainWindow) -> str | None:
    item = window.bridge.status.item
    return item.title if item is not None else None


def test_first_run_shows_the_welcome_page_and_an_import_fills_the_library(open_window, store, qtbot,
                                                                          album_folder):
    window = open_window(store)
    assert window.pages.showing_welcome()
    qtbot.mouseClick(window.pages.welcome.import_button, Qt.MouseButton.LeftButton)
    assert window.wizard is not None and window.wizard.isVisible()
    window.wizard.reject()
    assert drag_onto(window, window.pages.welcome.drop_area, [album_folder / "1 Zulu.flac"])
    wizard = window.wizard
    assert wizard.isVisible() and wizard.folder_page.path.text() == str(album_folder)
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=120000)
    wizard.accept()
    qtbot.waitUntil(lambda: window.library.total() == 3, timeout=10000)
    qtbot.waitUntil(lambda: not window.pages.showing_welcome())
    assert window.browser.entries.rowCount() == 1


def test_files_dropped_on_the_track_list_open_the_wizard_on_their_folder(open_window, album_store,
                                                                         album_folder, tmp_path):
    window = open_window(album_store)
    other = write(tmp_path / "elsewhere" / "song.wav", music_like(0, seconds=1.0), 22050)
    assert drag_onto(window, window.library_view.table, [album_folder, other])
    assert window.wizard.folder_page.path.text() == str(Path(import_root([str(album_folder), str(other)])))
    assert import_root([str(other)]) == str(other.parent)
    window.wizard.reject()


def test_browse_plays_an_album_in_track_order_with_its_cover(open_window, album_store, qtbot):
    window = open_window(album_store)
    window.pages.show_browse()
    browser = window.browser
    qtbot.waitUntil(lambda: browser.entries.rowCount() == 1, timeout=5000)
    assert browser.entry is not None and browser.entry.name == "Test Album"
    titles = [t.title for t in browser.tracks.tracks]
    assert titles == ["Zulu", "Alpha", "Bravo"]  # by track number, not title or path
    # The album's cover is read from one of its tracks (whichever the store listed first).
    qtbot.waitUntil(lambda: any(browser.covers.is_known(t.path, HEADER_COVER) for t in browser.tracks.tracks),
                    timeout=10000)
    header = browser.header.cover.pixmap().toImage()
    assert header.pixelColor(header.width() // 2, header.height() // 2) == RED
    table = browser.table
    rect = table.visualRect(browser.tracks.index(1, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: playing(window) == "Alpha", timeout=5000)
    assert [(o, i.title) for o, i in window.queue.upcoming() if o == CONTINUE] == [(CONTINUE, "Bravo")]
    qtbot.waitUntil(lambda: window.covers.is_known(window.bridge.current.path, COVER), timeout=10000)
    shown = window.transport.cover.pixmap().toImage()
    assert shown.pixelColor(shown.width() // 2, shown.height() // 2) == RED
    menu = browser.context_menu([browser.tracks.tracks[0]])
    next(a for a in menu.actions() if a.text() == "Add to queue").trigger()
    assert [i.title for i in window.queue.items()] == ["Zulu"]


def test_settings_dialog_changes_replaygain_and_theme_and_is_stored_in_the_data_dir(open_window,
                                                                                    album_store, qtbot):
    window = open_window(album_store)
    row = window.library.track(0)
    assert window.item_of(row).gain != pytest.approx(1.0)
    menu_action(window, "&Settings…").trigger()
    dialog = window.desktop.dialog
    assert dialog.isVisible()
    dialog.replaygain.setCurrentIndex(dialog.replaygain.findData("off"))
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    try:
        dialog.accept()
        assert QApplication.instance().styleSheet() == style_sheet("light")
        stored = load_settings(settings_path(window.backend.config))
        assert (stored.replaygain, stored.theme) == ("off", "light")
        window.play_row(row)
        qtbot.waitUntil(lambda: window.bridge.current is not None, timeout=5000)
        assert window.bridge.current.gain == 1.0
    finally:
        QApplication.instance().setStyleSheet(style_sheet("dark"))


def test_the_radio_caps_set_in_the_settings_travel_with_the_sessions_events(open_window,
                                                                           album_store, qtbot):
    """The worker sequences the radio, so the listener's caps must reach it: every event of the
    session carries them from the moment the dialog is accepted."""
    window = open_window(album_store)
    track = window.library.track(0).id
    window.session.liked(track, True)
    menu_action(window, "&Settings…").trigger()
    dialog = window.desktop.dialog
    dialog.per_artist.setValue(3)
    dialog.per_album.setValue(0)
    dialog.accept()
    window.session.liked(track, False)
    mine = {"session_id": window.session.session_id, "type": {"$in": ["like", "unlike"]}}
    qtbot.waitUntil(lambda: album_store.db.plays.count_documents(mine) == 2, timeout=10000)
    stored = {d["type"]: d.get("caps") for d in album_store.db.plays.find(mine)}
    assert stored == {"like": [2, 2], "unlike": [3, 0]}


def test_the_output_device_changes_when_nothing_plays(open_window, album_store, qtbot, capture):
    window = open_window(album_store, playback=None)  # the default device: the capture file
    desktop, row = window.desktop, window.library.track(0)
    desktop.apply(replace(desktop.preferences, output_device="null"))  # stopped: at once
    window.play_row(row)
    qtbot.waitUntil(lambda: window.bridge.status.position_s > 0.5, timeout=10000)
    assert not capture.exists()  # it sounds on the null device
    desktop.apply(replace(desktop.preferences, output_device=None))
    assert "once playback stops" in window.statusBar().currentMessage()
    window.bridge.engine.stop()
    qtbot.waitUntil(lambda: window.bridge.status.state == "stopped", timeout=5000)
    window.play_row(row)  # back on the default device
    qtbot.waitUntil(lambda: capture.exists() and capture.stat().st_size > 0, timeout=10000)


def test_a_folder_added_in_the_settings_is_followed_and_new_files_appear(open_window, store, qtbot,
                                                                         tmp_path):
    window = open_window(store)
    folder = tmp_path / "followed"
    folder.mkdir()
    dialog = window.desktop.open_settings()
    assert dialog.add_folder(str(folder))  # foldersChanged: the watcher restarts on it
    qtbot.waitUntil(lambda: window.desktop.watcher is not None
                    and window.desktop.watcher.roots == [str(folder)], timeout=10000)
    dialog.reject()
    write(folder / "new song.wav", music_like(2, seconds=4.0), 22050)
    qtbot.waitUntil(lambda: window.library.total() == 1, timeout=120000)
    qtbot.waitUntil(lambda: not window.pages.showing_welcome())


def test_tray_drives_the_window_and_shows_the_track(open_window, album_store, qtbot):
    window = open_window(album_store)
    tray = window.desktop.start_tray()
    window.add_to_queue([window.library.track(r) for r in range(3)])
    tray.play_action.trigger()
    qtbot.waitUntil(lambda: playing(window) is not None, timeout=5000)
    first = playing(window)
    qtbot.waitUntil(lambda: first in tray.icon.toolTip())
    qtbot.waitUntil(lambda: tray.play_action.text() == "Pause")
    tray.next_action.trigger()
    qtbot.waitUntil(lambda: playing(window) not in (None, first), timeout=5000)
    tray.radio_action.trigger()  # on -> off
    assert not window.transport.radio_button.isChecked() and not window.radio.enabled
    window.transport.radio_button.click()
    assert tray.radio_action.isChecked()
    next(a for a in tray.menu.actions() if a.text() == "Quit").trigger()
    assert not window.isVisible()


@pytest.mark.skipif(shutil.which("dbus-daemon") is None or shutil.which("gdbus") is None,
                    reason="needs dbus-daemon and gdbus")
def test_mpris_clients_drive_the_real_window(open_window, album_store, qtbot, bus_address):
    window = open_window(album_store)
    name = f"desk-{uuid.uuid4().hex[:8]}"
    connection = QDBusConnection.connectToBus(bus_address, name)
    try:
        assert window.desktop.start_mpris(connection) is not None
        window.add_to_queue([window.library.track(r) for r in range(3)])
        titles = [window.library.track(r).title for r in range(3)]
        player = "org.mpris.MediaPlayer2.Player"
        assert test_mpris.get(qtbot, bus_address, player, "PlaybackStatus") == "(<'Stopped'>,)"
        test_mpris.gdbus(qtbot, bus_address, f"{player}.PlayPause")
        qtbot.waitUntil(lambda: playing(window) == titles[0], timeout=5000)
        qtbot.waitUntil(lambda: window.desktop.mpris.status == "Playing", timeout=5000)
        assert f"'xesam:title': <'{titles[0]}'>" in test_mpris.get(qtbot, bus_address, player, "Metadata")
        test_mpris.gdbus(qtbot, bus_address, f"{player}.Next")
        qtbot.waitUntil(lambda: playing(window) == titles[1], timeout=5000)
        test_mpris.gdbus(qtbot, bus_address, f"{player}.Previous")  # in the first 3 s: the one before
        qtbot.waitUntil(lambda: playing(window) == titles[0], timeout=5000)
        test_mpris.gdbus(qtbot, bus_address, f"{player}.PlayPause")
        qtbot.waitUntil(lambda: window.bridge.status.state == "paused", timeout=5000)
        assert test_mpris.get(qtbot, bus_address, player, "PlaybackStatus") == "(<'Paused'>,)"
    finally:
        connection.unregisterObject(test_mpris.PATH)
        connection.unregisterService(SERVICE)
        QDBusConnection.disconnectFromBus(name)


def test_radio_picks_that_break_the_listeners_caps_go_last():
    played = [PlayItem("p1", "/m/a/1.ogg", "One", "Ann", "First"),
              PlayItem("p2", "/m/b/2.ogg", "Two", "Bob", "Second")]
    picks = [{"id": "x", "path": "/m/a/3.ogg", "artist": "Ann", "album": "First"},
             {"id": "y", "path": "/m/c/4.ogg", "artist": "Cy", "album": "Third"},
             {"id": "z", "path": "/m/b/5.ogg", "artist": "Bob", "album": "Other"}]
    order = lambda **caps: [p["id"] for p in varied(picks, played, **caps)]  # noqa: E731
    assert order(max_per_artist=2, max_per_album=2) == ["x", "y", "z"]  # the worker's order
    assert order(max_per_artist=1, max_per_album=0) == ["y", "x", "z"]
    assert order(max_per_artist=0, max_per_album=1) == ["y", "z", "x"]
    assert order(max_per_artist=0, max_per_album=0) == ["x", "y", "z"]


def test_the_started_player_keeps_its_state_in_the_data_dir_and_accepts_remote_commands(
        mongo_uri, kafka, tmp_path):
    """``encore`` as a process: window state under ENCORE_DATA_DIR (nothing under ~/.config), one
    line for the missing session bus, and the remote's heartbeat while it runs (gone after)."""
    env = {k: v for k, v in player_env(mongo_uri, kafka, tmp_path).items()
           if k != "DBUS_SESSION_BUS_ADDRESS"}
    store = MongoStore(mongo_uri, env["ENCORE_DB"])
    log_path = tmp_path / "player.log"
    proc = launch_player(env, log_path, "--no-worker")
    try:
        wait_for(lambda: running_players(store), 20, what="the remote's heartbeat")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        code = proc.wait(30)
    output = log_path.read_text()
    assert code == 0, output
    assert (tmp_path / "data" / "window.ini").exists()
    assert not (tmp_path / ".config").exists()
    assert output.count("no D-Bus session bus") == 1, output
    assert not running_players(store)
    store.client.drop_database(store.db.name)
