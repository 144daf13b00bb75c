"""The player's real widgets, offscreen, against the real database, broker, worker and PortAudio."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QModelIndex, QPoint, QSettings, Qt
from PySide6.QtWidgets import QApplication

from core.bus.outbox import EventPublisher, Outbox
from core.config import Config
from core.playback.source import replaygain_factor
from core.worker import RecommenderWorker
from player.backend import Backend
from player.main_window import MainWindow
from player.models.library import LOUDNESS, TITLE
from player.wizard import ImportWizard
from tests.audio import from_first_sound, music_like, played_frames, sine, write
from tests.stores import imported_store

NULL = {"device": "null"}


@pytest.fixture(scope="module")
def library(mongo_uri, generated_library):
    """An imported, indexed copy of the generated library (shared by this module's tests)."""
    with imported_store(mongo_uri, generated_library, "encore_ui") as store:
        yield store


@pytest.fixture
def make_window(qtbot, library, mongo_uri, tmp_path):
    """``make_window(bus=..., playback=..., feed_timeout_s=...)``: a shown main window whose
    library has finished loading. Windows are closed at the end."""
    made = []

    def make(bus, *, playback=None, settings=None, **kwargs) -> MainWindow:
        config = Config(tmp_path / "data", None, mongo_uri, db_name=library.db.name)
        backend = Backend(config, mongo_uri, library, bus)
        settings = settings or QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(backend, settings, playback=playback or NULL, **kwargs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.library.total() == library.count_tracks(), timeout=10000)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()


@pytest.fixture
def unreachable_bus(tmp_path):
    """A publisher pointed at a port where no broker listens."""
    bus = EventPublisher("127.0.0.1:9", "music_topic", Outbox(tmp_path / "outbox.jsonl"))
    yield bus
    bus.close()


def row_of(window: MainWindow, name: str) -> int:
    model = window.library
    return next(r for r in range(model.rowCount()) if model.track(r).path.endswith(name))


def click_header(qtbot, header, column: int) -> None:
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def double_click_row(qtbot, window: MainWindow, row: int) -> None:
    table = window.library_view.table
    # the row must be laid out on screen first: a click on a table still being laid out (the
    # library page shown after loading) can land nowhere, which the full suite met now and then
    qtbot.waitUntil(lambda: table.isVisible() and table.viewport().rect().contains(
        table.visualRect(window.library.index(row, TITLE))), timeout=10000)
    rect = table.visualRect(window.library.index(row, TITLE))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_play_by_double_click_sends_replaygained_samples_to_portaudio(make_window, unreachable_bus,
                                                                      qtbot, capture, library):
    # Whole tracks are buffered first: the ALSA file device is not paced in real time.
    window = make_window(unreachable_bus, playback={"buffer_s": 60, "prefill_s": 60})
    window.transport.volume.setValue(100)
    row = row_of(window, "piece 2-0.wav")
    double_click_row(qtbot, window, row)
    qtbot.waitUntil(lambda: window.bridge.status.serial == 1, timeout=10000)
    qtbot.waitUntil(lambda: not window.bridge.engine.output_open, timeout=30000)
    track = window.library.track(row)
    doc = library.get_track(track.id)
    gain = replaygain_factor(doc["replaygain"]["track_gain_db"], doc["replaygain"]["track_peak"])
    assert gain != pytest.approx(1.0, abs=0.05)  # the check below would not see a missing gain
    decoded, _ = sf.read(track.path, dtype="float32", always_2d=True)
    expected = from_first_sound(np.repeat(decoded, 2, axis=1) if decoded.shape[1] == 1 else decoded)
    np.testing.assert_array_equal(played_frames(capture)[: len(expected)], expected * np.float32(gain))


def test_keys_and_slider_seek(make_window, unreachable_bus, qtbot):
    window = make_window(unreachable_bus)
    window.play_row(window.library.track(0))
    qtbot.waitUntil(lambda: window.bridge.status.state == "playing", timeout=5000)
    window.library_view.table.setFocus()
    qtbot.keyClick(window.library_view.table, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.bridge.status.position_s >= 5.0, timeout=3000)
    assert window.bridge.status.position_s < 6.0
    slider = window.transport.seek
    slider.setSliderDown(True)
    slider.setValue(15)  # tenths of a second
    slider.setSliderDown(False)  # release: seek
    qtbot.waitUntil(lambda: 1.5 <= window.bridge.status.position_s < 2.5, timeout=3000)
    qtbot.keyClick(window.library_view.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.bridge.status.state == "paused", timeout=2000)
    assert window.transport.play_button.toolTip().startswith("Play")


def test_queue_from_context_menu_reorder_remove_and_next(make_window, unreachable_bus, qtbot):
    window = make_window(unreachable_bus)
    tracks = [window.library.track(r) for r in range(4)]
    menu = window.library_view.context_menu(tracks[:3])
    next(a for a in menu.actions() if a.text() == "Add to queue").trigger()
    next(a for a in window.library_view.context_menu([tracks[3]]).actions()
         if a.text() == "Play next").trigger()
    ids = lambda: [i.track_id for i in window.queue.items()]  # noqa: E731
    assert ids() == [tracks[3].id, tracks[0].id, tracks[1].id, tracks[2].id]
    model = window.queue_view.model
    qtbot.waitUntil(lambda: model.rowCount() == 4)
    # Drag the last row to the top: the same calls the list view makes on a drop.
    mime = model.mimeData([model.index(3)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert ids() == [tracks[2].id, tracks[3].id, tracks[0].id, tracks[1].id]
    qtbot.waitUntil(lambda: model.data(model.index(0)).startswith(tracks[2].title))
    view = window.queue_view.list
    view.setFocus()
    view.setCurrentIndex(model.index(1))
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert ids() == [tracks[2].id, tracks[0].id, tracks[1].id]
    qtbot.mouseClick(window.transport.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.bridge.status.item is not None, timeout=5000)
    assert window.bridge.status.item.track_id == tracks[2].id
    assert ids() == [tracks[0].id, tracks[1].id]


def test_worker_recommendations_appear_and_clicks_queue(make_window, kafka, library, qtbot, tmp_path):
    topic = f"ui_{uuid.uuid4().hex[:6]}"
    worker = RecommenderWorker(kafka, library, topic=topic, group=topic)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    bus = EventPublisher(kafka, topic, Outbox(tmp_path / "outbox.jsonl"))
    try:
        window = make_window(bus, feed_timeout_s=60)
        first = window.library.track(0)
        window.play_row(first)
        # Paused early, the decoder never reaches the end of this 8 s track, so it does not take
        # what the clicks below queue as the next track before the test can look.
        qtbot.waitUntil(lambda: window.bridge.status.state == "playing", timeout=5000)
        qtbot.keyClick(window.library_view.table, Qt.Key.Key_Space)
        sidebar = window.sidebar
        qtbot.waitUntil(lambda: sidebar.list.count() == 5, timeout=40000)
        assert "recommender worker" in sidebar.hint.text()
        assert not sidebar.warning.isVisible()
        recs = sidebar.recommendations()
        assert first.id not in [r["id"] for r in recs]
        rect = sidebar.list.visualItemRect(sidebar.list.item(0))
        qtbot.mouseClick(sidebar.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.waitUntil(lambda: [i.track_id for i in window.queue.items()] == [recs[0]["id"]])
        # A queued track leaves the sidebar.
        qtbot.waitUntil(lambda: recs[0]["id"] not in [r["id"] for r in sidebar.recommendations()])
        second = sidebar.recommendations()[0]
        rect = sidebar.list.visualItemRect(sidebar.list.item(0))
        # A real double-click: the first click's "queue" waits out the interval and is dropped.
        qtbot.mouseClick(sidebar.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(sidebar.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        # The pending single click is decided (dropped by the double-click) before looking.
        qtbot.waitUntil(lambda: not sidebar._click.isActive())
        qtbot.waitUntil(lambda: [i.track_id for i in window.queue.items()] == [second["id"], recs[0]["id"]])
        # Leaving the track early is a skip; the next one's recommendations replace the list.
        window.next_track()
        session = window.session.session_id
        events = lambda: {(p["type"], p["track_id"]) for p in library.plays.find({"session_id": session})}  # noqa: E731
        qtbot.waitUntil(lambda: events() >= {("play", first.id), ("skip", first.id), ("play", second["id"])},
                        timeout=20000)
        qtbot.waitUntil(lambda: sidebar.list.count() == 5 and second["id"] not in
                        [r["id"] for r in sidebar.recommendations()], timeout=20000)
    finally:
        worker.stop_event.set()
        thread.join(10)
        bus.close()


@pytest.mark.parametrize("broker", ["down", "no worker"])
def test_unreachable_worker_shows_a_message_and_library_recommendations(make_window, unreachable_bus, kafka,
                                                                        qtbot, tmp_path, broker):
    bus = unreachable_bus if broker == "down" else EventPublisher(
        kafka, f"nobody_{uuid.uuid4().hex[:6]}", Outbox(tmp_path / "own.jsonl"))
    try:
        window = make_window(bus, feed_timeout_s=1.5)
        ticks = []
        window.startTimer(50)
        window.timerEvent = lambda _event: ticks.append(time.monotonic())
        window.play_row(window.library.track(3))
        sidebar = window.sidebar
        qtbot.waitUntil(lambda: sidebar.warning.isVisible() and sidebar.list.count() == 5, timeout=10000)
        expected = "unreachable" if broker == "down" else "did not answer"
        assert expected in sidebar.warning.text()
        assert "from the library" in sidebar.hint.text()
        assert len(ticks) >= 10 and np.diff(ticks).max() < 0.5  # the UI never froze
    finally:
        if bus is not unreachable_bus:
            bus.close()


def test_search_filters_and_headers_sort(make_window, unreachable_bus, qtbot):
    window = make_window(unreachable_bus)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.library_view.search.hasFocus()
    qtbot.keyClicks(window.library_view.search, "PIECE kind1")
    # The untagged pieces of kind 1 (their album falls back to the folder name)
    qtbot.waitUntil(lambda: window.library.rowCount() == 2)
    assert {window.library.track(r).album for r in range(2)} == {"kind1"}
    window.library_view.search.clear()
    qtbot.waitUntil(lambda: window.library.rowCount() == 16)
    # Every piece lasts 8 s, so sort on columns whose values differ (and are not in library order),
    # with real clicks on the header (an emitted sectionClicked sorts nothing).
    header = window.library_view.table.horizontalHeader()
    window.library_view.set_column_shown(LOUDNESS, True)  # hidden by default
    for column, key in ((TITLE, lambda t: t.title.casefold()), (LOUDNESS, lambda t: t.lufs)):
        before = [key(window.library.track(r)) for r in range(16)]
        assert len(set(before)) > 8 and before != sorted(before)
        click_header(qtbot, header, column)
        shown = [key(window.library.track(r)) for r in range(16)]
        assert shown == sorted(before) or shown == sorted(before, reverse=True)
        click_header(qtbot, header, column)  # the other direction
        assert [key(window.library.track(r)) for r in range(16)] == shown[::-1]
        window.library_view.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)


def test_volume_queue_and_geometry_survive_a_restart(make_window, unreachable_bus, qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "restart.ini"), QSettings.Format.IniFormat)
    window = make_window(unreachable_bus, settings=settings)
    window.resize(780, 540)  # inside the offscreen screen (800x600), above the minimum size
    window.transport.volume.setValue(37)
    queued = [window.library.track(r) for r in (5, 2)]
    window.queue.add(t.play_item() for t in queued)
    window.close()
    again = make_window(unreachable_bus, settings=QSettings(str(tmp_path / "restart.ini"),
                                                            QSettings.Format.IniFormat))
    assert again.transport.volume.value() == 37
    assert again.bridge.engine.volume == pytest.approx(0.37)
    assert (again.width(), again.height()) == (780, 540)
    qtbot.waitUntil(lambda: [i.track_id for i in again.queue.items()] == [t.id for t in queued])


@pytest.fixture
def import_folder(tmp_path) -> Path:
    root = tmp_path / "to-import"
    for i in range(3):
        write(root / f"song {i}.wav", music_like(i, seconds=4.0, seed=i), 22050)
    write(root / "clipped.wav", np.clip(sine(440, seconds=3.0, sr=22050, peak_dbfs=6), -1, 1), 22050)
    (root / "corrupt.flac").write_bytes(b"fLaC" + b"\0" * 300)
    (root / "notes.txt").write_text("not music")
    return root


def run_wizard(qtbot, store, folder: Path, tmp_path, *, cancel_after: int | None = None) -> ImportWizard:
    wizard = ImportWizard(store, str(tmp_path / "managed"), folder=str(folder), jobs=1)
    qtbot.addWidget(wizard)
    wizard.show()
    assert wizard.currentPage() is wizard.folder_page and wizard.folder_page.isComplete()
    wizard.next()
    assert wizard.currentPage() is wizard.options_page
    wizard.next()
    progress = wizard.progress_page
    if cancel_after is not None:
        qtbot.waitUntil(lambda: progress.bar.value() >= cancel_after, timeout=60000)
        qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=120000)
    return wizard


def summary_rows(wizard: ImportWizard) -> dict[str, list[str]]:
    tree = wizard.summary_page.details
    groups = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    return {g.text(0).split(" (")[0]: [g.child(j).text(0) for j in range(g.childCount())] for g in groups}


def test_wizard_imports_a_folder_and_reports(qtbot, store, import_folder, tmp_path):
    wizard = run_wizard(qtbot, store, import_folder, tmp_path)
    assert store.count_tracks() == 4
    assert "4 imported" in wizard.summary_page.headline.text()
    rows = summary_rows(wizard)
    assert rows["Skipped"] == ["corrupt.flac"]
    skipped = wizard.summary_page.details.topLevelItem(0).child(0)
    assert skipped.text(1).startswith("file is damaged")
    assert skipped.toolTip(1) != skipped.text(1)  # the technical detail stays in the tooltip
    assert "clipped.wav" in rows["Quality issues"]
    assert all(d["indexed"] for d in store.iter_tracks({}, {"indexed": 1}))


def test_wizard_cancel_keeps_a_consistent_library_that_a_later_import_resumes(qtbot, store,
                                                                             import_folder, tmp_path):
    for i in range(3, 8):
        write(import_folder / f"more {i}.wav", music_like(i % 4, seconds=4.0, seed=i), 22050)
    wizard = run_wizard(qtbot, store, import_folder, tmp_path, cancel_after=1)
    assert "cancelled" in wizard.summary_page.headline.text()
    first = store.count_tracks()
    assert 1 <= first < 9
    wizard.close()
    again = run_wizard(qtbot, store, import_folder, tmp_path)
    assert store.count_tracks() == 9
    assert f"{first} already in the library" in again.summary_page.headline.text()


def test_sidebar_waits_with_a_message_before_anything_plays(make_window, unreachable_bus):
    window = make_window(unreachable_bus)
    assert window.sidebar.list.count() == 0
    assert "Play a track" in window.sidebar.hint.text()
    assert not window.sidebar.warning.isVisible()
    start = time.monotonic()
    window.close()  # the broker is unreachable: closing must not wait for the Kafka clients
    assert time.monotonic() - start < 1.5


def test_qt_binding_keeps_none_alive_across_model_resets(qtbot):
    """PySide6 6.12.0 dropped a reference to None per model reset and per processEvents; on
    Python 3.11 a long session then crashed (none_dealloc). The dependency pin keeps it out."""
    from player.models.library import LibraryModel

    model = LibraryModel()
    before = sys.getrefcount(None)
    for _ in range(500):
        model.set_filter("x")
        QApplication.processEvents()
    assert sys.getrefcount(None) >= before - 50
