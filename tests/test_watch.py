"""The library watcher: real files created, renamed and deleted in a watched folder."""

import os
import queue
import threading
import time

from core.errors import ImportLockedError, StoreError
from core.library.analyse import track_id
from core.library.folders import add_folder
from core.library.lock import import_lock
from core.library.watch import LibraryWatcher
from core.store.mongo import MongoStore
from tests.audio import music_like, write
from tests.test_import_faults import PrivateDB

DEADLINE_S = 240  # imports start analysis processes; a loaded machine is slow


def _next_change(reports: queue.Queue):
    """The next report that changed something (a batch may also be empty: events of a write
    can straddle the quiet period)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        report = reports.get(timeout=max(0.1, deadline - time.monotonic()))
        if report.imported or report.removed or report.moved:
            return report


def test_watcher_follows_new_renamed_and_deleted_files(store, tmp_path):
    root = tmp_path / "music"
    root.mkdir()
    add_folder(store, root)
    reports, errors = queue.Queue(), []
    watcher = LibraryWatcher(store, reports.put, quiet_s=0.5, on_error=errors.append, jobs=1)
    watcher.start()
    try:
        song = write(tmp_path / "staging" / "song.wav", music_like(0, seed=1), 22050)
        os.rename(song, root / "song.wav")  # appears complete, as a finished download does
        assert _next_change(reports).imported == [str(root / "song.wav")]
        store.record_play({"event_id": "e1", "track_id": track_id(root / "song.wav"), "ts": 1.0,
                           "session_id": "s", "type": "play"})

        (root / "sub").mkdir()
        os.rename(root / "song.wav", root / "sub" / "renamed.wav")
        report = _next_change(reports)
        assert report.moved == [(str(root / "song.wav"), str(root / "sub" / "renamed.wav"))]
        assert store.plays.find_one({"event_id": "e1"})["track_id"] == track_id(
            root / "sub" / "renamed.wav")

        os.unlink(root / "sub" / "renamed.wav")
        assert _next_change(reports).removed == [str(root / "sub" / "renamed.wav")]
        assert store.count_tracks() == 0
    finally:
        watcher.stop()
    assert errors == []


def test_a_failed_rescan_is_tried_again(store, tmp_path):
    root = tmp_path / "music"
    root.mkdir()
    reports, errors = queue.Queue(), queue.Queue()
    watcher = LibraryWatcher(store, reports.put, folders=[str(root)], quiet_s=0.3,
                             on_error=errors.put, jobs=1, retry_s=1.0)
    watcher.start()
    try:
        with import_lock(store, threading.Event()):  # another import is running
            song = write(tmp_path / "staging" / "song.wav", music_like(1, seed=2), 22050)
            os.rename(song, root / "song.wav")
            assert isinstance(errors.get(timeout=DEADLINE_S), ImportLockedError)
        assert _next_change(reports).imported == [str(root / "song.wav")]
    finally:
        watcher.stop()


def test_watcher_survives_a_database_crash(tmp_path):
    root = tmp_path / "music"
    root.mkdir()
    db = PrivateDB(tmp_path / "db")  # a server of this test's own, to SIGKILL
    db.start()
    store = MongoStore(db.uri, "watched", timeout_ms=2000)
    reports, errors = queue.Queue(), queue.Queue()
    watcher = LibraryWatcher(store, reports.put, folders=[str(root)], quiet_s=0.3,
                             on_error=errors.put, jobs=1, retry_s=1.0)
    watcher.start()
    try:
        db.kill()
        song = write(tmp_path / "staging" / "song.wav", music_like(2, seed=3), 22050)
        os.rename(song, root / "song.wav")
        assert isinstance(errors.get(timeout=DEADLINE_S), StoreError)
        db.start()  # same port and files: the retry finds it back
        assert _next_change(reports).imported == [str(root / "song.wav")]
    finally:
        watcher.stop()
        store.close()
        db.stop()
