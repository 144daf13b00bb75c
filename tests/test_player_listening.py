"""The listening flow through the player's real widgets: play through the list as shown, shuffle,
repeat, the radio's gapless continuation, skips, likes, "More like this" and what the sidebar
may show. Events go through the in-process bus (the real fallback) into the real database."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QSettings, Qt

from core.bus.memory import InProcessBus
from core.playback.playqueue import CONTINUE, RADIO
from player.models.library import LIKED, LOUDNESS, PLAYS
from player.models.queue import ITEM_ROLE
from player.widgets.sidebar import heart_rect
from tests import test_player_ui as ui
from tests.audio import from_first_sound, played_frames
from tests.test_player_ui import click_header, double_click_row

# The player tests' fixtures: the imported generated library and a window factory over it.
library, make_window = ui.library, ui.make_window

BUFFERED = {"buffer_s": 60, "prefill_s": 60}  # whole tracks ahead: the ALSA file device is not paced


@pytest.fixture
def bus(library):
    bus = InProcessBus(library)
    yield bus
    bus.close()


def loaded(qtbot, window) -> None:
    """Until the listening history has arrived too (it follows the rows)."""
    qtbot.waitUntil(lambda: "tracks" in window.status_label.text(), timeout=10000)


def events(bus, store, window) -> list[tuple[str, str]]:
    """``(type, track id)`` the session stored, in event order."""
    assert bus.flush(30)
    docs = store.plays.find({"session_id": window.session.session_id}, sort=[("ts", 1)])
    return [(d["type"], d["track_id"]) for d in docs]


def menu_action(window, tracks, text: str) -> None:
    next(a for a in window.library_view.context_menu(tracks).actions() if a.text() == text).trigger()


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def playing(window) -> str | None:
    item = window.bridge.status.item
    return item.track_id if item is not None else None


def test_double_click_plays_through_the_sorted_list_and_previous_goes_back(make_window, bus, qtbot):
    window = make_window(bus)
    library_order = [t.id for t in window.library.visible_tracks()]
    window.library_view.set_column_shown(LOUDNESS, True)  # hidden by default
    click_header(qtbot, window.library_view.table.horizontalHeader(), LOUDNESS)
    shown = [t.id for t in window.library.visible_tracks()]
    assert shown != library_order
    double_click_row(qtbot, window, 3)
    qtbot.waitUntil(lambda: playing(window) == shown[3], timeout=5000)
    model = window.queue_view.model
    assert [model.data(model.index(r), ITEM_ROLE).track_id for r in range(model.rowCount())] == shown[4:]
    for expected in shown[4:7]:
        click(qtbot, window.transport.next_button)
        qtbot.waitUntil(lambda expected=expected: playing(window) == expected, timeout=5000)
    click(qtbot, window.transport.prev_button)  # within 3 s: the track before
    qtbot.waitUntil(lambda: playing(window) == shown[5], timeout=5000)
    window.bridge.seek(4.0)
    qtbot.waitUntil(lambda: window.bridge.status.position_s >= 4.0, timeout=5000)
    click(qtbot, window.transport.prev_button)  # after 3 s: the same track from its start
    qtbot.waitUntil(lambda: window.bridge.status.position_s < 2.0, timeout=5000)
    assert playing(window) == shown[5]
    table = window.library_view.table
    table.setFocus()
    table.setCurrentIndex(window.library.index(10, 1))
    qtbot.keyClick(table, Qt.Key.Key_Return)  # Enter plays the row, and the list goes on from it
    qtbot.waitUntil(lambda: playing(window) == shown[10], timeout=5000)
    assert [i.track_id for o, i in window.queue.upcoming() if o == CONTINUE] == shown[11:]


def test_shuffle_plays_each_once_repeat_all_and_one_and_they_are_remembered(make_window, bus, qtbot,
                                                                           tmp_path):
    settings = QSettings(str(tmp_path / "modes.ini"), QSettings.Format.IniFormat)
    window = make_window(bus, settings=settings)
    t = window.transport
    click(qtbot, t.radio_button)  # radio off: the end of the list is the end
    click(qtbot, t.shuffle_button)
    double_click_row(qtbot, window, 0)
    first = window.library.track(0).id
    qtbot.waitUntil(lambda: playing(window) == first, timeout=5000)
    order = [first]
    for _ in range(15):
        click(qtbot, t.next_button)
        qtbot.waitUntil(lambda: playing(window) not in order, timeout=5000)
        order.append(playing(window))
    assert sorted(order) == sorted(r.id for r in window.library.visible_tracks())
    assert order != [r.id for r in window.library.visible_tracks()]
    assert not window.queue.upcoming()  # repeat off: the round is over
    click(qtbot, t.repeat_button)  # repeat all: a new round
    assert window.queue.repeat == "all"
    click(qtbot, t.next_button)
    qtbot.waitUntil(lambda: playing(window) != order[-1], timeout=5000)
    click(qtbot, t.repeat_button)  # repeat one: the track plays again when it ends
    assert window.queue.repeat == "one" and t.repeat_button.toolTip() == "Repeat: this track"
    again, serial = playing(window), window.bridge.status.serial
    window.bridge.seek(7.5)
    qtbot.waitUntil(lambda: window.bridge.status.serial > serial, timeout=8000)
    assert playing(window) == again
    window.close()
    reopened = make_window(bus, settings=QSettings(str(tmp_path / "modes.ini"), QSettings.Format.IniFormat))
    rt = reopened.transport
    assert rt.shuffle_button.isChecked() and reopened.queue.shuffle
    assert rt.repeat == "one" and reopened.queue.repeat == "one"
    assert not rt.radio_button.isChecked() and not reopened.radio.enabled


def decoded_with_gain(row) -> np.ndarray:
    y, _ = sf.read(row.path, dtype="float32", always_2d=True)
    return (np.repeat(y, 2, axis=1) if y.shape[1] == 1 else y) * np.float32(row.play_item().gain)


def test_when_the_queue_empties_the_radio_continues_without_a_gap(make_window, bus, qtbot, capture):
    window = make_window(bus, playback=BUFFERED)
    loaded(qtbot, window)
    window.transport.volume.setValue(100)
    assert window.transport.radio_button.isChecked()  # on by default
    seed, queued = window.library.track(4), window.library.track(9)
    picks = set()
    window.feed.radioPicks.connect(lambda docs: picks.update(d["id"] for d in docs))
    menu_action(window, [seed], "More like this")
    qtbot.waitUntil(lambda: window.sidebar.list.count() == 5, timeout=20000)
    menu_action(window, [queued], "Add to queue")
    assert [o for o, _ in window.queue.upcoming()] == ["queued", RADIO]  # the radio waits behind it
    click(qtbot, window.transport.play_button)
    # The unpaced file device may play a track between two polls: ask the engine, not the window.
    qtbot.waitUntil(lambda: window.bridge.engine.status().serial >= 2, timeout=20000)
    click(qtbot, window.transport.radio_button)  # off: let playback end so the capture is flushed
    qtbot.waitUntil(lambda: not window.bridge.engine.output_open, timeout=60000)
    played = played_frames(capture)
    first = from_first_sound(decoded_with_gain(queued))
    np.testing.assert_array_equal(played[: len(first)], first)
    after = played[len(first):]
    # Whatever the radio chose, its samples follow the last sample of the queued track at once.
    follower = next((row for row in window.library.visible_tracks() if row.id != queued.id
                     and np.array_equal(after[: 2048], decoded_with_gain(row)[:2048])), None)
    assert follower is not None, "the next samples are not the start of any track: a gap or noise"
    np.testing.assert_array_equal(after[: len(decoded_with_gain(follower))], decoded_with_gain(follower))
    assert follower.id in picks


def test_only_leaving_early_by_choice_is_a_skip(make_window, bus, qtbot, library):
    window = make_window(bus)
    rows = window.library.visible_tracks()
    double_click_row(qtbot, window, 0)
    qtbot.waitUntil(lambda: window.bridge.status.state == "playing", timeout=5000)
    window.library_view.table.setFocus()
    qtbot.keyClick(window.library_view.table, Qt.Key.Key_Right)  # seeks: neither a play nor a skip
    qtbot.waitUntil(lambda: window.bridge.status.position_s >= 5.0, timeout=5000)
    qtbot.keyClick(window.library_view.table, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: window.bridge.status.position_s < 3.0, timeout=5000)
    click(qtbot, window.transport.next_button)  # Next early: a skip
    qtbot.waitUntil(lambda: playing(window) == rows[1].id, timeout=5000)
    window.bridge.seek(7.6)  # let it end by itself: not a skip
    qtbot.waitUntil(lambda: playing(window) == rows[2].id, timeout=8000)
    double_click_row(qtbot, window, 6)  # choosing another track early: a skip
    qtbot.waitUntil(lambda: playing(window) == rows[6].id, timeout=5000)
    window.close()  # quitting mid-track: not a skip
    assert events(bus, library, window) == [
        ("play", rows[0].id), ("skip", rows[0].id), ("play", rows[1].id), ("play", rows[2].id),
        ("skip", rows[2].id), ("play", rows[6].id)]


def test_likes_are_published_and_shown_at_once_in_every_place(make_window, bus, qtbot, library):
    window = make_window(bus)
    loaded(qtbot, window)
    track = window.library.track(2)
    window.play_row(track)
    qtbot.waitUntil(lambda: playing(window) == track.id, timeout=5000)
    click(qtbot, window.transport.like_button)
    assert track.id in window.library.history.liked
    index = window.library.index(2, LIKED)
    assert window.library.data(index, Qt.ItemDataRole.ToolTipRole).startswith("Liked")
    window.library_view.show_view("liked")
    assert track.id in [t.id for t in window.library.visible_tracks()]
    assert all(t.id in window.library.history.liked for t in window.library.visible_tracks())
    window.library_view.show_view("all")
    other = window.library.track(5)
    rect = window.library_view.table.visualRect(window.library.index(5, LIKED))
    qtbot.mouseClick(window.library_view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert other.id in window.library.history.liked
    click(qtbot, window.transport.like_button)  # unlike the playing track
    assert track.id not in window.library.history.liked and not window.transport.like_button.isChecked()
    sidebar = window.sidebar
    assert bus.flush(30)  # the likes' own recommendations may refill the sidebar: let them land
    qtbot.waitUntil(lambda: sidebar.list.count() > 0, timeout=20000)
    heart = heart_rect(sidebar.list.visualItemRect(sidebar.list.item(0)))
    with qtbot.waitSignal(sidebar.likeRequested) as liked:
        qtbot.mouseClick(sidebar.list.viewport(), Qt.MouseButton.LeftButton, pos=heart.center())
    rec, heart_on = liked.args  # a heart that was already set is cleared instead
    qtbot.waitUntil(lambda: not sidebar._click.isActive())  # a click that would queue has fired
    assert (rec["id"] in window.library.history.liked) == heart_on and not window.queue.items()
    stored = [e for e in events(bus, library, window) if e[0] in ("like", "unlike")]
    assert stored == [("like", track.id), ("like", other.id), ("unlike", track.id),
                      ("like" if heart_on else "unlike", rec["id"])]
    again = make_window(bus)  # a new session reads the hearts the events stored
    loaded(qtbot, again)
    assert track.id not in again.library.history.liked
    assert (rec["id"] in again.library.history.liked) == heart_on
    assert other.id in again.library.history.liked or other.id == rec["id"]


def test_more_like_this_fills_the_sidebar_and_start_radio_plays_from_it(make_window, bus, qtbot):
    window = make_window(bus)
    assert "computed in this process" in window.health.text()  # no broker: the status bar says so
    seed = window.library.track(7)
    menu_action(window, [seed], "More like this")
    sidebar = window.sidebar
    qtbot.waitUntil(lambda: sidebar.list.count() == 5, timeout=20000)
    assert seed.title in sidebar.title.text()
    recs = sidebar.recommendations()
    assert seed.id not in [r["id"] for r in recs] and all(r.get("why") for r in recs)
    assert "match" in sidebar.list.item(0).toolTip()
    click(qtbot, window.transport.radio_button)  # off; Start radio turns it on again
    menu_action(window, [seed], "Start radio")
    qtbot.waitUntil(lambda: playing(window) == seed.id, timeout=5000)
    assert window.transport.radio_button.isChecked()
    qtbot.waitUntil(lambda: [o for o, _ in window.queue.upcoming()] == [RADIO], timeout=20000)


def test_queued_and_recent_tracks_never_appear_in_the_sidebar(make_window, bus, qtbot):
    window = make_window(bus)
    sidebar = window.sidebar
    seen_docs = []
    window.feed.received.connect(lambda recs, _source: seen_docs.append(recs))
    double_click_row(qtbot, window, 0)
    for _ in range(4):
        qtbot.waitUntil(lambda: sidebar.list.count() > 0, timeout=20000)
        rec = sidebar.recommendations()[0]
        window.enqueue(rec["id"])  # queued: it must leave the sidebar at once
        assert rec["id"] not in [r["id"] for r in sidebar.recommendations()]
        click(qtbot, window.transport.next_button)
        qtbot.waitUntil(lambda rec=rec: playing(window) == rec["id"], timeout=5000)
        recent = {i.track_id for i in window.queue.history()}
        qtbot.waitUntil(lambda: sidebar.list.count() > 0, timeout=20000)
        shown = {r["id"] for r in sidebar.recommendations()}
        queued = {i.track_id for o, i in window.queue.upcoming() if o != CONTINUE}
        assert not shown & (recent | queued)
    assert len(seen_docs) >= 4


def test_recently_played_lists_the_latest_first_with_play_counts(make_window, bus, qtbot):
    window = make_window(bus)
    loaded(qtbot, window)
    rows = window.library.visible_tracks()
    for row in (rows[3], rows[8], rows[3]):
        window.play_row(row)
        qtbot.waitUntil(lambda row=row: [i.track_id for i in window.queue.history()[-1:]] == [row.id],
                        timeout=5000)
    window.library_view.show_view("recent")
    shown = [t.id for t in window.library.visible_tracks()]
    assert shown[:2] == [rows[3].id, rows[8].id]
    plays = window.library.data(window.library.index(0, PLAYS))
    assert int(plays) >= 2
    assert window.library_view.tabs.tabText(window.library_view.tabs.currentIndex()) == "Recently played"


def test_a_track_queued_from_another_thread_lands_in_the_queue(make_window, bus, qtbot):
    import threading

    window = make_window(bus)
    track = window.library.track(11)
    sender = threading.Thread(target=window.enqueueRequested.emit, args=(track.id,))
    sender.start()  # as a remote-control listener would, off the Qt thread
    sender.join()
    qtbot.waitUntil(lambda: [i.track_id for i in window.queue.items()] == [track.id], timeout=5000)
