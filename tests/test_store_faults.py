"""The store under a database SIGKILL: iteration errors are ``StoreError``s, acknowledged writes
survive; a worker SIGKILLed between storing an event and applying it loses no count."""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest

from core.errors import StoreError
from core.events import PlayEvent
from core.store.mongo import MongoStore
from core.store.session_state import session_state
from tests.test_import_faults import private_db  # noqa: F401 (a fixture)


def test_an_error_while_iterating_is_a_store_error(private_db):  # noqa: F811
    store = MongoStore(private_db.uri, "iterate", timeout_ms=1000)
    store.tracks.insert_many([{"_id": f"{i:05d}", "path": f"/m/{i}.ogg"} for i in range(1200)])
    rows = store.iter_tracks({}, {"path": 1}, batch_size=100)
    assert next(rows)["_id"] == "00000"
    private_db.kill()  # the server dies under an open cursor
    with pytest.raises(StoreError, match="database error while reading tracks"):
        for _ in rows:
            pass
    store.close()


def test_acknowledged_writes_survive_a_database_sigkill(private_db):  # noqa: F811
    store = MongoStore(private_db.uri, "durable", timeout_ms=5000)
    store.ensure_schema()
    frames = np.zeros((2, 27), dtype=np.float32)
    for i in range(300):
        store.record_play({"event_id": f"e{i}", "session_id": "s", "track_id": "t", "ts": i})
    tracks = [({"_id": f"{i:016x}", "path": f"/m/{i}.ogg", "source_path": f"/m/{i}.ogg"},
               frames.tobytes(), [2, 27]) for i in range(200)]
    for start in range(0, 200, 8):
        assert store.put_tracks(tracks[start:start + 8]) == {}
    private_db.kill()  # at once: no checkpoint after the last acknowledgement
    store.close()
    private_db.start()
    store = MongoStore(private_db.uri, "durable", timeout_ms=5000)
    assert store.plays.count_documents({}) == 300
    assert store.count_tracks({"complete": True}) == 200 and store.frames.count_documents({}) == 200
    store.close()


#: Records one event in a process that SIGKILLs itself as soon as the play is stored, before
#: any of its effects (counters, likes, seeds) is written.
KILLED_AFTER_STORING = """
import os, signal, sys
from core.events import PlayEvent
from core.store.mongo import MongoStore
from core.store.session_state import session_state

uri, db, kind, track, ts = sys.argv[1:]
state = session_state(MongoStore(uri, db))


class Dead:
    def __getattr__(self, name):
        os.kill(os.getpid(), signal.SIGKILL)


state.stats = state.likes = state.sessions = Dead()
state.record(PlayEvent(kind, track, "s1", float(ts)))
"""


def _killed_after_storing(store, uri: str, event: PlayEvent) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_STORING, uri, store.db.name,
                           event.type, event.track_id, repr(event.ts)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert store.plays.count_documents({"event_id": event.event_id}) == 1  # stored, not applied


def test_a_crash_between_storing_and_counting_loses_no_count(store, mongo_uri):
    state = session_state(store)
    play, skip = PlayEvent("play", "t1", "s1", 10.0), PlayEvent("skip", "t1", "s1", 20.0, 3.0)
    for event in (play, skip):
        _killed_after_storing(store, mongo_uri, event)
        state.record(event)  # the re-delivery
        state.record(event)  # and one more: still counted once
    assert state.counters(["t1"])["t1"] == {"plays": 1, "skips": 1, "last_played": 10.0,
                                             "last_skipped": 20.0}
    # a count missed with no re-delivery at all comes right with the track's next play
    _killed_after_storing(store, mongo_uri, PlayEvent("play", "t1", "s1", 30.0))
    state.record(PlayEvent("play", "t1", "s1", 40.0))
    assert state.counters(["t1"])["t1"]["plays"] == 3


def test_a_crash_between_storing_and_applying_loses_no_seed_or_like(store, mongo_uri):
    state = session_state(store)
    seed, like = PlayEvent("seed", "a", "s1", 1.0), PlayEvent("like", "a", "s1", 2.0)
    for event in (seed, like):
        _killed_after_storing(store, mongo_uri, event)
        state.record(event)
    view = state.view("s1")
    assert view.seeds == ["a"] and view.liked == {"a"}
    state.record(PlayEvent("play", "c", "s1", 3.0))
    state.record(PlayEvent("seed", "d", "s1", 4.0))  # a seed after a play starts over
    state.record(seed)  # the old seed delivered again does not join the new seed set
    view = state.view("s1")
    assert view.seeds == ["d"] and view.seed_ts == 4.0
