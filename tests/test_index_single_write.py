"""The library-wide index fits its models first, then writes each stale track once: one ``$set``
with every field and ``indexed``, the same documents as the index that wrote each part apart."""

from __future__ import annotations

import importlib.util
import subprocess
import uuid
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from pymongo import monitoring

from core.audio.loudness import album_gain
from core.library import index
from core.library.index import index_library
from core.library.pipeline import run_import
from core.similarity import audio_score, clustering, shingles
from core.store.mongo import MongoStore
from tests.command_listeners import StartedCommands

ROOT = Path(__file__).resolve().parents[1]
#: The last commit of the index that wrote shingles, clusters, scales, gains and ``indexed`` apart.
SEPARATE_WRITES = "5a843a8"
#: What the index writes; the analysed document without them is what an import stores.
INDEX_FIELDS = ("codebook_version", "kmeans_version", "audio", "cluster", "shingles", "minhash",
                "lsh", "replaygain.album_gain_db", "replaygain.album_peak")
#: Tracks in the library at each index run: a first fit, a few added (no refit: fewer than
#: ``REFIT_GROWTH`` more), then enough for every model to be refitted.
STAGES = (10, 12, 16)


class UpdateCounter(StartedCommands):
    """Counts ``update`` commands on the tracks (each a round trip, however many documents) of
    one database."""

    def __init__(self, db_name: str):
        self.db_name, self.updates = db_name, 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if (event.command_name == "update" and event.database_name == self.db_name
                and event.command["update"] == "tracks"):
            self.updates += 1


@pytest.fixture(scope="module")
def analysed(generated_library, mongo_uri) -> tuple[list[dict], list[dict]]:
    """Every generated track as the import stores it before the index, and its frames."""
    store = MongoStore(mongo_uri, f"encore_single_{uuid.uuid4().hex[:8]}")
    store.ensure_schema()
    try:
        assert len(run_import(str(generated_library), store, jobs=2).imported) == 16
        tracks = [_strip(d) for d in store.iter_tracks({}, by_id=True)]
        return tracks, list(store.iter_frames())
    finally:
        store.client.drop_database(store.db.name)
        store.close()


@pytest.fixture
def new_store(mongo_uri):
    """Fresh databases, dropped afterwards."""
    stores = []

    def make(listener: monitoring.CommandListener | None = None) -> MongoStore:
        name = f"encore_single_{uuid.uuid4().hex[:8]}"
        if listener:
            listener.db_name = name
        stores.append(MongoStore(mongo_uri, name))
        stores[-1].ensure_schema()
        return stores[-1]

    yield make
    for store in stores:
        store.client.drop_database(store.db.name)
        store.close()


def _strip(doc: dict) -> dict:
    doc = {key: value for key, value in doc.items() if key not in INDEX_FIELDS} | {"indexed": False}
    doc["replaygain"] = {k: v for k, v in doc["replaygain"].items() if k.startswith("track_")}
    return doc


def _add(store: MongoStore, analysed: tuple[list[dict], list[dict]], ids: slice) -> None:
    tracks, frames = analysed
    store.frames.insert_many([dict(d) for d in frames[ids]])
    store.tracks.insert_many([dict(d) for d in tracks[ids]])


def _staged(store: MongoStore, analysed, index_run) -> list[list[dict]]:
    """Every track's document after each stage's index run."""
    seen, added = [], 0
    for size in STAGES:
        _add(store, analysed, slice(added, size))
        added = size
        index_run(store)
        seen.append(list(store.iter_tracks({}, by_id=True)))
    return seen


def _module_at(commit: str, path: str):
    """A module's source at ``commit`` of the repository's history, loaded."""
    try:
        source = subprocess.run(["git", "show", f"{commit}:{path}"],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"commit {commit} is not in this checkout")
    name = f"{Path(path).stem}_at_{commit}"
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader=None))
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


def _separate_writes_index():
    """``index_library`` as it was before the single pass, with the audio scorer of then (three
    components, before the stereo image), from the repository's history."""
    module = _module_at(SEPARATE_WRITES, "core/library/index.py")
    module.audio_score = _module_at(SEPARATE_WRITES, "core/similarity/audio_score.py")
    return lambda store: module.index_library(_SeparateWritesStore(store))


def _before_stereo(doc: dict) -> dict:
    """A track as the three-component scorer indexed it: the stereo image's neighbour scale
    (the last) and standardised image dropped; the other scales are computed apart from it."""
    audio = {k: v for k, v in doc["audio"].items() if k != "stereo"}
    return doc | {"audio": audio | {"scale": audio["scale"][:-1]}}


class _SeparateWritesStore:
    """The store as that index used it: with ``mark_indexed`` (since removed, unused)."""

    def __init__(self, store: MongoStore):
        self._store = store

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def mark_indexed(self, versions: dict[str, int]) -> None:
        self._store.tracks.update_many({**versions, "indexed": {"$ne": True}},
                                       {"$set": {"indexed": True}})


def test_documents_equal_those_of_separate_writes(analysed, new_store):
    separate = _staged(new_store(), analysed, _separate_writes_index())
    single = _staged(new_store(), analysed, index_library)
    for before, after in zip(separate, single, strict=True):
        assert [d["_id"] for d in after] == [d["_id"] for d in before]
        for old, new in zip(before, after, strict=True):
            assert {k: v for k, v in _before_stereo(new).items() if k != "imported_at"} == \
                   {k: v for k, v in old.items() if k != "imported_at"}
    assert all(d["indexed"] and "audio" in d for d in single[-1])


def test_every_field_is_that_of_the_current_models(analysed, new_store):
    store = new_store()
    reports = []
    docs = _staged(store, analysed, lambda s: reports.append(index_library(s)))[-1]
    assert [(r["codebook_refit"], r["cluster_refit"]) for r in reports] == [
        (True, True), (False, False), (True, True)]
    book, kmeans, audio = (store.get_model(name) for name in ("codebook", "kmeans", "audio"))
    model = clustering.ClusterModel.from_doc(kmeans)
    codebook = shingles.Codebook.from_doc(book)
    frames = {d["_id"]: index._frames_of(d) for d in store.iter_frames()}
    albums = defaultdict(list)
    for doc in docs:
        assert doc["indexed"] and doc["audio"]["version"] == audio["version"]
        assert {k: doc[k] for k in ("shingles", "minhash", "lsh", "codebook_version")} == \
               shingles.index_fields(frames[doc["_id"]], codebook, book["version"])
        vector = np.frombuffer(doc["features"]["vector"], np.float32).astype(np.float64)
        assert doc["kmeans_version"] == kmeans["version"]
        assert doc["cluster"] == clustering.assign(model, vector[None], [
            index._cluster_tags(doc["tags"])])[0]
        assert len(doc["audio"]["scale"]) == len(audio_score.COMPONENTS)
        assert np.isfinite(doc["audio"]["scale"]).all()
        key = (doc.get("album"), doc["tags"].get("albumartist") or doc.get("artist"))
        albums[key].append(doc)
    for tracks in albums.values():
        gain = round(album_gain([(d["loudness"]["integrated_lufs"], d["duration_s"])
                                 for d in tracks]), 2)
        assert {(d["replaygain"]["album_gain_db"], d["replaygain"]["album_peak"])
                for d in tracks} == {(gain, max(d["replaygain"]["track_peak"] for d in tracks))}


def test_each_stale_track_is_written_once(analysed, new_store):
    counter = UpdateCounter("")
    monitoring.register(counter)  # clients made from now on report to it
    store = new_store(counter)
    _add(store, analysed, slice(0, 16))
    index_library(store)
    # shingles, clusters, scales, album gains and ``indexed`` of 16 tracks: one bulk update
    assert counter.updates == 1
    assert store.count_tracks({"indexed": True}) == 16

    counter.updates = 0
    index_library(store)  # nothing stale: nothing written
    assert counter.updates == 0


def test_a_crash_mid_pass_leaves_no_track_half_indexed(analysed, new_store, monkeypatch):
    store = new_store()
    _add(store, analysed, slice(0, 16))
    monkeypatch.setattr(index, "UPDATE_BATCH", 5)
    real_update = store.update_many
    written = []

    def crash_after_two(updates):
        if len(written) == 2:
            raise RuntimeError("killed")
        written.append(updates)
        real_update(updates)

    monkeypatch.setattr(store, "update_many", crash_after_two)
    with pytest.raises(RuntimeError, match="killed"):
        index_library(store)
    docs = list(store.iter_tracks({}))
    indexed = [d for d in docs if d["indexed"]]
    assert len(indexed) == 10
    assert all(all(key in d for key in ("shingles", "cluster", "audio")) for d in indexed)
    assert not any("cluster" in d or "shingles" in d for d in docs if not d["indexed"])

    monkeypatch.setattr(store, "update_many", real_update)
    index_library(store)  # the next run finishes the rest with the same models
    assert store.count_tracks({"indexed": True, "codebook_version": 1, "kmeans_version": 1}) == 16
