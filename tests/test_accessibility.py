"""Accessibility through Qt's accessibility layer on a real window: names on the transport
controls, recommendations read as title, artist, score and reason, queue rows with where they come
from, Tab moving the focus from pane to pane, and F6 / Shift+F6 jumping between panes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from tests import test_player_desktop as desktop_tests

# The desktop tests' fixtures: one tagged album with a cover, and a shown window over it.
album_folder, album_store, open_window = (desktop_tests.album_folder, desktop_tests.album_store,
                                        desktop_tests.open_window)
NAME = QAccessible.Text.Name
REC = {"id": "r1", "title": "Night Drive", "artist": "Tester", "album": "Test Album", "score": 0.874,
       "why": "same tempo and a similar sound", "path": "/m/night.flac"}


def spoken(widget: QWidget) -> str:
    """The name a screen reader announces for ``widget``."""
    return QAccessible.queryAccessibleInterface(widget).text(NAME)


def spoken_rows(view) -> list[str]:
    """The names a screen reader announces for the rows of a list view."""
    iface = QAccessible.queryAccessibleInterface(view)
    return [iface.child(i).text(NAME) for i in range(iface.childCount())
            if iface.child(i).role() == QAccessible.Role.ListItem]


def test_controls_recommendations_and_queue_rows_have_spoken_names(open_window, album_store,
                                                                   qtbot):
    window = open_window(album_store)
    t = window.transport
    controls = {t.prev_button: "Previous", t.play_button: "Play", t.next_button: "Next",
                t.shuffle_button: "Shuffle the list", t.repeat_button: "Repeat: off",
                t.radio_button: "Radio", t.like_button: "Like", t.more_button: "More like this",
                t.seek: "Position in the track", t.volume: "Volume"}
    assert {spoken(w): name for w, name in controls.items()} == {n: n for n in controls.values()}
    t.cycle_repeat()
    assert spoken(t.repeat_button) == "Repeat: the whole list"

    window.sidebar.show_recommendations([REC], "worker")
    assert spoken(window.sidebar.list) == "Recommendations"
    assert spoken_rows(window.sidebar.list) == [
        "Night Drive, by Tester, 87% match: same tempo and a similar sound"]

    row = window.library.track(0)
    window.add_to_queue([row])
    qtbot.waitUntil(lambda: window.queue_view.model.rowCount() == 1, timeout=5000)
    assert spoken(window.queue_view.list) == "Up next"
    assert spoken_rows(window.queue_view.list)[0] == f"{row.title}, by Tester, 0:06, queued"
    assert spoken(window.queue_view.now) == "Nothing playing"


def _pane(window, widget: QWidget) -> str:
    panes = {"search": window.library_view.search, "tracks": window.library_view.table,
             "sidebar": window.sidebar, "queue": window.queue_view, "transport": window.transport}
    return next((name for name, pane in panes.items()
                 if pane is widget or pane.isAncestorOf(widget)), "other")


def test_tab_moves_the_focus_through_search_tracks_sidebar_queue_and_transport(open_window,
                                                                             album_store,
                                                                             qtbot):
    window = open_window(album_store)
    window.activateWindow()
    window.library_view.search.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.library_view.search, timeout=5000)
    visited: list[str] = []
    for _ in range(30):
        pane = _pane(window, QApplication.focusWidget())
        if not visited or visited[-1] != pane:
            visited.append(pane)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert visited[:5] == ["search", "tracks", "sidebar", "queue", "transport"]


def test_f6_jumps_from_pane_to_pane_and_shift_f6_back(open_window, album_store, qtbot):
    window = open_window(album_store)
    window.activateWindow()
    window.library_view.search.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.library_view.search, timeout=5000)

    def walk(key: str, times: int) -> list[str]:
        seen = []
        for _ in range(times):
            QTest.keySequence(QApplication.focusWidget(), key)
            seen.append(_pane(window, QApplication.focusWidget()))
        return seen

    assert walk("F6", 4) == ["sidebar", "queue", "transport", "tracks"]
    assert walk("Shift+F6", 2) == ["transport", "queue"]
    window.transport.volume.setFocus()  # from any control of a pane, not only its first
    assert walk("Shift+F6", 1) == ["queue"]
    window.pages.show_browse()  # another page of the library pane: its own view takes the focus
    assert walk("F6", 2) == ["transport", "other"]
    assert QApplication.focusWidget() is window.browser.list
