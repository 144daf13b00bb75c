"""The store keeps any path a filesystem allows and refuses bad documents one by one."""

from __future__ import annotations

import os

import numpy as np

FRAMES = np.zeros((3, 27), dtype=np.float32)


def _track(track_id: str, path: str, **extra) -> tuple[dict, bytes, list[int]]:
    doc = {"_id": track_id, "path": path, "source_path": path, "title": "t",
           "file": {"size": 10, "mtime": 1.5}, "indexed": False, **extra}
    return doc, FRAMES.tobytes(), list(FRAMES.shape)


def test_a_non_utf8_path_is_stored_and_read_back_exactly(store):
    raw = b"/music/caf\xe9/\xff\xfe song.ogg"
    path = os.fsdecode(raw)  # as os.walk hands it to the import
    assert store.put_tracks([_track("a" * 16, path), _track("b" * 16, "/music/plain é.ogg")]) == {}
    stored = store.get_track(path)
    assert os.fsencode(stored["path"]) == raw and os.fsencode(stored["source_path"]) == raw
    assert "path_raw" not in stored
    assert store.get_track("/music/plain é.ogg")["_id"] == "b" * 16
    # Readable as text in the database itself, for any other client.
    assert store.tracks.find_one({"_id": "a" * 16})["path"] == "/music/caf\\xe9/\\xff\\xfe song.ogg"
    by_row = {d["_id"]: d["path"] for d in store.iter_tracks({}, {"path": 1})}
    assert by_row["a" * 16] == path
    assert [d["path"] for d in store.candidate_docs(ids=["a" * 16])] == [path]
    assert set(store.file_states()) == {path, "/music/plain é.ogg"}


def test_bad_documents_are_refused_one_by_one(store):
    tracks = [_track("a" * 16, "/m/a.ogg"),
              _track("b" * 16, "/m/b.ogg", tags={"tracknumber": 99999999999999999999}),
              _track("c" * 16, "/m/a.ogg")]  # the path of another track
    refused = store.put_tracks(tracks)
    assert set(refused) == {"b" * 16, "c" * 16}
    assert "OverflowError" in refused["b" * 16]
    assert "another track already has this path" in refused["c" * 16]
    assert [d["_id"] for d in store.iter_tracks({}, {"_id": 1})] == ["a" * 16]
    assert store.frames.count_documents({}) == 1  # no frames without their track
    assert store.get_track("/m/a.ogg")["complete"] is True
