"""The Playlists tab of the real main window, offscreen, on the real database: create, rename in
place, delete after asking; add from the context menus and by dropping library rows on a playlist;
reorder by a drop; save the queue; import an M3U8 with a missing entry and a unicode path; export
XSPF and read it back; play through a playlist, passing over a track that left the library."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import mutagen
import pytest
from PySide6.QtCore import QMimeData, QPoint, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QCheckBox, QMessageBox

from core.bus.memory import InProcessBus
from core.config import Config
from core.playback.playqueue import CONTINUE
from core.playlists.store import Playlists
from player.backend import Backend
from player.main_window import MainWindow
from player.models.playlists import MISSING_COLOR, tracks_mime
from player.window_browse import PLAYLISTS
from tests.audio import music_like, write
from tests.stores import imported_store

NULL = {"device": "null"}
#: File name -> title; the last one has a path that is not ASCII.
TRACKS = {"01 one.flac": "One", "02 two.flac": "Two", "03 three.flac": "Three",
          "04 Четыре ♪.flac": "Четыре"}


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("music") / "Mix"
    for i, (name, title) in enumerate(TRACKS.items()):
        path = write(folder / name, music_like(i, seconds=4.0, seed=i), 22050)
        audio = mutagen.File(path, easy=True)
        audio["title"], audio["artist"], audio["album"] = title, "Tester", "Mix"
        audio["tracknumber"] = str(i + 1)
        audio.save()
    return folder


@pytest.fixture
def library(mongo_uri, music):
    """A fresh database holding the four tracks (a test may delete one)."""
    with imported_store(mongo_uri, music, "encore_pl", jobs=1) as store:
        yield store


@pytest.fixture
def window(qtbot, mongo_uri, library, tmp_path):
    config = Config(tmp_path / "data", None, mongo_uri, db_name=library.db.name)
    bus = InProcessBus(library)
    made = MainWindow(Backend(config, mongo_uri, library, bus),
                      QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat), playback=NULL)
    qtbot.addWidget(made)
    made.resize(1200, 800)
    made.show()
    qtbot.waitUntil(lambda: made.library.total() == len(TRACKS) and "Loading" not in
                    made.status_label.text(), timeout=10000)
    made.pages.show_playlists()
    yield made
    made.close()
    bus.close()


def row(window: MainWindow, title: str):
    return next(r for r in window.library.visible_tracks() if r.title == title)


def names(window: MainWindow) -> list[str]:
    return [p.name for p in window.pages.playlists.playlists.playlists]


def entries(window: MainWindow) -> list[str]:
    """Titles of the shown playlist's entries (``None``: missing)."""
    return [e.row.title if e.row is not None else None for e in window.pages.playlists.tracks.entries]


ACTIONS = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction


def hover(window: MainWindow, widget, pos: QPoint, mime: QMimeData) -> QPoint:
    """Drag ``mime`` over ``widget`` at ``pos`` as the platform does: events to the window's
    QWindow, which Qt routes to the widget under the cursor. Returns the window's point."""
    at = widget.mapTo(window, pos)
    handle, left, none = window.windowHandle(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(handle, QDragEnterEvent(at, ACTIONS, mime, left, none))
    QApplication.sendEvent(handle, QDragMoveEvent(at, ACTIONS, mime, left, none))
    return at


def drop(window: MainWindow, widget, pos: QPoint, mime: QMimeData) -> bool:
    """``hover``, then drop there; whether the widget took it."""
    at = hover(window, widget, pos, mime)
    dropped = QDropEvent(at.toPointF(), ACTIONS, mime, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.windowHandle(), dropped)
    return dropped.isAccepted()


def menu_action(window: MainWindow, text: str):
    return next(a for m in window.menuBar().actions() for a in m.menu().actions() if a.text() == text)


def submenu_action(menu, text: str):
    sub = next(a.menu() for a in menu.actions() if a.menu() is not None and a.text() == "Add to playlist")
    return next(a for a in sub.actions() if a.text() == text)


def test_create_rename_in_place_and_delete_after_asking(window, qtbot):
    pane, playlists = window.pages.playlists, window.playlists
    assert pane.hint.isVisible()  # nothing yet: the hint says how to start
    created = playlists.create()
    assert names(window) == ["New playlist"] and pane.current_id() == created.id
    assert pane.list.state() == QAbstractItemView.State.EditingState  # named in place
    editor = pane.list.focusWidget()
    editor.setText("Road trip")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: names(window) == ["Road trip"])
    assert pane.title.text() == "Road trip" and pane.summary.text() == "0 tracks · 0:00"
    playlists.create(edit=False)
    assert names(window) == ["New playlist", "Road trip"]
    # F2 renames; a taken name is refused in a plain message, nothing changes.
    pane.list.setFocus()
    qtbot.keyClick(pane.list, Qt.Key.Key_F2)
    assert pane.list.state() == QAbstractItemView.State.EditingState
    pane.list.focusWidget().setText("Road trip")
    qtbot.keyClick(pane.list.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: playlists.message is not None)
    assert playlists.message.text() == "Could not rename the playlist."
    assert "already exists" in playlists.message.informativeText()
    assert "Traceback" not in playlists.message.informativeText()
    playlists.message.close()
    assert playlists.message is None
    # Delete asks first; Cancel keeps it, Delete deletes it.
    pane.list.activateWindow()
    pane.list.setFocus()
    qtbot.waitUntil(pane.list.hasFocus)
    qtbot.keyClick(pane.list, Qt.Key.Key_Delete)
    assert playlists.message.text() == "Delete the playlist “New playlist”?"
    playlists.message.button(QMessageBox.StandardButton.Cancel).click()
    assert names(window) == ["New playlist", "Road trip"]
    pane.list.setFocus()
    qtbot.waitUntil(pane.list.hasFocus)
    qtbot.keyClick(pane.list, Qt.Key.Key_Delete)
    playlists.message.button(QMessageBox.StandardButton.Yes).click()
    assert names(window) == ["Road trip"]
    assert [p.name for p in Playlists(window.backend.store).list()] == ["Road trip"]
    # One made elsewhere (``encore playlist``) shows when the tab opens again.
    Playlists(window.backend.store).create("From the command line")
    window.pages.show_tracks()
    window.pages.show_playlists()
    assert names(window) == ["From the command line", "Road trip"]


def test_add_to_playlist_from_the_library_browse_and_queue_menus(window, qtbot):
    target = window.playlists.create(name="Mine", edit=False)
    menu = window.library_view.context_menu([row(window, "Two"), row(window, "One")])
    submenu_action(menu, "Mine").trigger()
    window.pages.show_browse()
    menu = window.browser.context_menu([window.browser.tracks.tracks[2]])
    submenu_action(menu, "Mine").trigger()
    window.add_to_queue([row(window, "Четыре")])
    window.queue_view.list.setCurrentIndex(window.queue_view.model.index(0))
    submenu_action(window.queue_view.context_menu(), "Mine").trigger()
    assert [window.library.find(t).title for t in Playlists(window.backend.store).get(target.id).tracks] \
        == ["Two", "One", "Three", "Четыре"]
    assert window.statusBar().currentMessage() == "Added 1 track to “Mine”"
    # "New playlist…" makes one holding the tracks, and names it in place.
    submenu_action(window.library_view.context_menu([row(window, "Three")]), "New playlist…").trigger()
    assert window.pages.tabs.currentIndex() == PLAYLISTS
    assert names(window) == ["Mine", "New playlist"] and entries(window) == ["Three"]


def test_library_rows_dropped_on_a_playlist_are_added(window, qtbot):
    window.playlists.create(name="A", edit=False)
    window.playlists.create(name="B", edit=False)
    table = window.library_view.table
    table.selectRow(0)
    table.selectionModel().select(window.library.index(2, 0), table.selectionModel().SelectionFlag.Select
                                  | table.selectionModel().SelectionFlag.Rows)
    chosen = window.library_view.selected()
    assert len(chosen) == 2
    # What the table's drag carries (TrackDragSource), dropped on "B" in the list.
    mime = tracks_mime([t.id for t in chosen])
    window.pages.show_playlists()
    pane = window.pages.playlists
    b = pane.list.visualRect(pane.playlists.index(1)).center()
    assert drop(window, pane.list.viewport(), b, mime)
    assert entries(window) == [t.title for t in chosen] and pane.title.text() == "B"
    # Below the last playlist there is nothing to drop on.
    empty = QPoint(10, pane.list.viewport().height() - 5)
    assert not drop(window, pane.list.viewport(), empty, mime)


def test_entries_reorder_by_drag_and_delete_removes(window, qtbot):
    titles = ["One", "Two", "Three", "Четыре"]
    window.playlists.create([row(window, t).id for t in titles], "Order", edit=False)
    pane = window.pages.playlists
    assert entries(window) == titles
    # Drag the last two entries above the first: the view's own drop handling.
    mime = pane.tracks.mimeData([pane.tracks.index(2, 0), pane.tracks.index(3, 0)])
    top = pane.table.visualRect(pane.tracks.index(0, 1))
    drop(window, pane.table.viewport(), QPoint(top.center().x(), top.top() + 2), mime)
    assert entries(window) == ["Three", "Четыре", "One", "Two"]
    pane.table.setFocus()
    pane.table.selectRow(1)
    qtbot.keyClick(pane.table, Qt.Key.Key_Delete)
    assert entries(window) == ["Three", "One", "Two"]
    stored = Playlists(window.backend.store).get("Order").tracks
    assert [window.library.find(t).title for t in stored] == ["Three", "One", "Two"]


def test_save_queue_as_playlist(window, qtbot):
    window.playlists.save_queue()
    assert window.playlists.message.text() == "The queue is empty."
    window.playlists.message.close()
    window.play_row(row(window, "One"))  # the rest of the list follows it
    window.add_to_queue([row(window, "Четыре")])
    qtbot.waitUntil(lambda: window.bridge.current is not None, timeout=5000)
    menu_action(window, "&Save queue as playlist…").trigger()
    assert names(window) == ["Saved queue"]
    assert entries(window) == ["One", "Четыре", "Two", "Three", "Четыре"]


def test_import_m3u8_reports_the_missing_entry_and_keeps_unicode_paths(window, qtbot, music, tmp_path):
    playlist = tmp_path / "lists" / "Ünïcode mix.m3u8"
    playlist.parent.mkdir()
    # The last entry is relative: it resolves from the playlist's folder.
    lines = ["#EXTM3U", "#EXTINF:4,Tester - Четыре", str(music / "04 Четыре ♪.flac"),
             str(music / "gone.flac"), os.path.relpath(music / "02 two.flac", playlist.parent)]
    playlist.write_text("\n".join(lines) + "\n", encoding="utf-8")
    window.playlists.import_file(str(playlist))
    qtbot.waitUntil(lambda: window.playlists.message is not None, timeout=10000)
    message = window.playlists.message
    assert message.text() == "Imported “Ünïcode mix”: 2 tracks."
    assert message.informativeText() == "1 entry could not be added (see the details):"
    assert message.detailedText() == f"{music / 'gone.flac'} — file not found"
    assert names(window) == ["Ünïcode mix"] and entries(window) == ["Четыре", "Two"]
    message.close()
    # A file that is not a playlist: a plain message, no traceback.
    bad = tmp_path / "notes.xspf"
    bad.write_text("hello")
    window.playlists.import_file(str(bad))
    qtbot.waitUntil(lambda: window.playlists.message is not None, timeout=10000)
    assert window.playlists.message.text() == "Could not import the playlist."
    assert window.playlists.message.informativeText().startswith("not an XSPF playlist")


def test_export_xspf_and_read_it_back(window, qtbot, tmp_path):
    titles = ["Четыре", "One"]
    window.playlists.create([row(window, t).id for t in titles], "Out", edit=False)
    dest = tmp_path / "exported" / "out.xspf"
    dest.parent.mkdir()
    dialog = window.playlists.choose_export()  # the file dialog, as the menu opens it
    dialog.findChild(QCheckBox).setChecked(True)  # relative paths
    dialog.selectFile(str(dest))
    dialog.accept()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == f"Exported “Out” to {dest}",
                    timeout=10000)
    ns = {"x": "http://xspf.org/ns/0/"}
    root = ET.parse(dest).getroot()
    assert root.findtext("x:title", namespaces=ns) == "Out"
    locations = [e.text for e in root.iterfind("x:trackList/x:track/x:location", ns)]
    assert all(not loc.startswith(("file:", "/")) for loc in locations)  # relative
    dialog = window.playlists.choose_import()
    dialog.selectFile(str(dest))
    dialog.accept()
    qtbot.waitUntil(lambda: len(names(window)) == 2, timeout=10000)
    assert names(window) == ["Out", "Out (2)"] and entries(window) == titles
    assert window.playlists.message is None  # nothing missing: nothing to say
    window.playlists.export_file(str(tmp_path / "out.txt"))
    qtbot.waitUntil(lambda: window.playlists.message is not None, timeout=10000)
    assert window.playlists.message.text() == "Could not export the playlist."
    assert "unknown playlist format" in window.playlists.message.informativeText()


def test_play_through_a_playlist_passing_over_a_track_that_left(window, qtbot, library, tmp_path):
    titles = ["Three", "One", "Two", "Четыре"]
    window.playlists.create([row(window, t).id for t in titles], "Set", edit=False)
    library.tracks.delete_one({"_id": row(window, "Two").id})  # its file was deleted
    window.reload_library()
    qtbot.waitUntil(lambda: window.library.total() == len(TRACKS) - 1, timeout=10000)
    qtbot.waitUntil(lambda: entries(window) == ["Three", "One", None, "Четыре"])
    pane = window.pages.playlists
    missing = pane.tracks.index(2, 1)
    assert missing.data(Qt.ItemDataRole.ForegroundRole) == MISSING_COLOR
    assert missing.data() == "Missing track"
    pane.table.setFocus()
    pane.table.setCurrentIndex(pane.tracks.index(1, 1))
    qtbot.keyClick(pane.table, Qt.Key.Key_Return)  # Enter plays from the row
    qtbot.waitUntil(lambda: window.bridge.current is not None and window.bridge.current.title == "One",
                    timeout=5000)
    assert [i.title for o, i in window.queue.upcoming() if o == CONTINUE] == ["Четыре"]
    qtbot.waitUntil(lambda: pane.tracks.index(1, 1).data(Qt.ItemDataRole.FontRole) is not None)
    assert pane.tracks.index(1, 1).data(Qt.ItemDataRole.FontRole).bold()  # the entry playing
    assert pane.tracks.index(0, 1).data(Qt.ItemDataRole.FontRole) is None
    window.next_track()
    qtbot.waitUntil(lambda: window.bridge.current.title == "Четыре", timeout=5000)
    # An export leaves the missing entry out, and says so.
    window.playlists.export_file(str(tmp_path / "set.m3u8"))
    qtbot.waitUntil(lambda: window.playlists.message is not None, timeout=10000)
    assert window.playlists.message.informativeText() == "1 entry left out: no longer in the library."
    assert (tmp_path / "set.m3u8").read_text(encoding="utf-8").count(".flac") == 3


def test_a_mouse_drag_of_library_rows_over_the_tab_onto_a_playlist(window, qtbot):
    window.playlists.create(name="A", edit=False)
    window.playlists.create(name="B", edit=False)
    window.pages.show_tracks()
    table, pane, tabs = window.library_view.table, window.pages.playlists, window.pages.tabs.tabBar()
    table.selectRow(1)
    table.selectionModel().select(window.library.index(3, 0), table.selectionModel().SelectionFlag.Select
                                  | table.selectionModel().SelectionFlag.Rows)
    chosen = window.library_view.selected()
    start = table.visualRect(window.library.index(1, 1)).center()
    QTest.mousePress(table.viewport(), Qt.MouseButton.LeftButton, pos=start)
    assert window.library_view.selected() == chosen  # the press kept the selection for the drag
    # The offscreen platform ends a drag at once: what it carried is dropped by hand below.
    QTest.mouseMove(table.viewport(), start + QPoint(0, 30))
    assert window.playlists.drag_sources[0].dragged == [t.id for t in chosen]
    mime = tracks_mime(window.playlists.drag_sources[0].dragged)
    hover(window, tabs, tabs.tabRect(PLAYLISTS).center(), mime)
    qtbot.waitUntil(lambda: window.pages.tabs.currentIndex() == PLAYLISTS)  # the hovered tab opens
    assert drop(window, pane.list.viewport(), pane.list.visualRect(pane.playlists.index(1)).center(), mime)
    assert pane.title.text() == "B" and entries(window) == [t.title for t in chosen]
