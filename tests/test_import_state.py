"""What makes a stored track current: its file, the import's options, its copy, the models it was
built with; and one import at a time per library."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import tracemalloc
import uuid

import numpy as np
import psutil
import pytest

from core.audio.enhance import EnhanceOptions
from core.errors import ImportLockedError
from core.features.extract import FEATURES_VERSION
from core.library.analyse import AnalyseOptions
from core.library.folders import list_folders
from core.library.index import SAMPLE_TOTAL, index_library, sample_frames
from core.library.pipeline import run_import


@pytest.fixture
def small_library(generated_library, tmp_path):
    folder = tmp_path / "lib"
    shutil.copytree(generated_library / "kind2", folder)
    return folder


def test_options_are_part_of_a_files_state(small_library, store, tmp_path):
    managed = tmp_path / "managed"
    copies = AnalyseOptions(enhance=EnhanceOptions(), library_dir=str(managed))
    assert len(run_import(str(small_library), store, jobs=2).imported) == 4
    transcoded = run_import(str(small_library), store, options=copies, jobs=2)
    assert len(transcoded.imported) == 4 and transcoded.unchanged == 0
    paths = [d["copy"]["path"] for d in store.iter_tracks({}, {"copy.path": 1})]
    assert len(paths) == 4 and all(os.path.exists(p) for p in paths)
    assert run_import(str(small_library), store, options=copies, jobs=2).unchanged == 4

    os.unlink(paths[0])  # a deleted managed copy is rebuilt
    again = run_import(str(small_library), store, options=copies, jobs=2)
    assert len(again.imported) == 1 and again.unchanged == 3 and os.path.exists(paths[0])


def test_tracks_of_an_older_feature_extractor_are_analysed_again(small_library, store):
    assert len(run_import(str(small_library), store, jobs=2).imported) == 4
    assert [f.path for f in list_folders(store)] == [os.path.abspath(small_library)]  # remembered
    store.tracks.update_one({}, {"$set": {"features.version": 1}, "$unset": {"features.timbre_gauss": ""}})
    again = run_import(str(small_library), store, jobs=2)
    assert len(again.imported) == 1 and again.unchanged == 3
    assert all(d["features"]["version"] == FEATURES_VERSION and "timbre_gauss" in d["features"]
               for d in store.iter_tracks({}, {"features": 1}))


def test_the_managed_library_is_not_imported_twice(small_library, store, tmp_path):
    managed = tmp_path / "managed"
    copies = AnalyseOptions(enhance=EnhanceOptions(), library_dir=str(managed))
    run_import(str(small_library), store, options=copies, jobs=2)
    # Its copies' paths are those of the tracks already stored: no unique-index failure.
    report = run_import(str(managed), store, options=copies, jobs=2)
    assert report.imported == [] and [s.path for s in report.skipped] == [str(managed)]
    assert "managed library" in report.skipped[0].reason
    whole = run_import(str(tmp_path), store, options=copies, jobs=2)  # the library inside
    assert whole.imported == [] and whole.unchanged == 4 and store.count_tracks() == 4


def test_tracks_built_with_an_older_model_are_redone(small_library, store):
    run_import(str(small_library), store, jobs=2)
    versions = {"codebook_version": 1, "kmeans_version": 1}
    assert store.count_tracks({**versions, "indexed": True}) == 4
    # Another import refitted both models and crashed before it rewrote the tracks.
    book = store.put_model("codebook", store.get_model("codebook"))
    kmeans = store.put_model("kmeans", store.get_model("kmeans"))
    assert (book, kmeans) == (2, 2)
    index_library(store)
    assert store.count_tracks({"codebook_version": 2, "kmeans_version": 2, "indexed": True}) == 4


def test_model_versions_are_bumped_atomically(store):
    versions, errors = [], []

    def refit() -> None:
        try:
            versions.extend(store.put_model("codebook", {"fitted_on": 1}) for _ in range(10))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=refit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(versions) == list(range(1, 41))


def test_a_crashed_or_expired_import_lock_is_taken_over(small_library, store):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    owner = {"id": uuid.uuid4().hex, "host": socket.gethostname(), "pid": dead.pid,
             "started": 0.0}
    assert store.acquire_lock("import", owner, 600) is None  # a crashed import's lock
    assert len(run_import(str(small_library), store, jobs=2).imported) == 4

    elsewhere = {"id": uuid.uuid4().hex, "host": "another-machine", "pid": 1, "started": 0.0}
    assert store.acquire_lock("import", elsewhere, -1) is None  # already expired
    assert run_import(str(small_library), store, jobs=2).unchanged == 4


def test_a_live_import_holds_the_lock(small_library, store):
    me = psutil.Process()
    owner = {"id": uuid.uuid4().hex, "host": socket.gethostname(), "pid": me.pid,
             "started": me.create_time()}
    assert store.acquire_lock("import", owner, 600) is None
    with pytest.raises(ImportLockedError, match=f"process {me.pid} on {socket.gethostname()}"):
        run_import(str(small_library), store, jobs=2)
    store.release_lock("import", owner["id"])
    assert len(run_import(str(small_library), store, jobs=2).imported) == 4


def test_a_codebook_refit_samples_a_bounded_number_of_frames(store):
    # 400 tracks of 2,000 segments (25-minute tracks): 86 MB of frames, 0.2 MB of them sampled.
    rng = np.random.default_rng(0)
    shape = (2000, 27)
    for start in range(0, 400, 50):
        store.frames.insert_many([
            {"_id": f"{i:016x}", "shape": list(shape),
             "data": rng.standard_normal(shape).astype(np.float32).tobytes()}
            for i in range(start, start + 50)])
    n_tracks = SAMPLE_TOTAL // 5  # a library of 20,000 tracks: five segments each
    tracemalloc.start()
    try:
        sample = sample_frames(store, n_tracks)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(sample) == 400 and all(s.shape == (5, 27) for s in sample)
    assert peak < 16 * 2**20, f"{peak / 2**20:.1f} MiB"  # a few frame documents at a time
