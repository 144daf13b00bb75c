"""The store under a database SIGKILL: iteration errors are ``StoreError``s, acknowledged writes
survive."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import StoreError
from core.store.mongo import MongoStore
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
