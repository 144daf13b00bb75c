"""``rescan`` and ``encore rescan`` against a real MongoDB and real generated audio files."""

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest
import soundfile as sf

from core.audio.enhance import EnhanceOptions
from core.errors import ImportLockedError
from core.events import make_event
from core.features.extract import FEATURES_VERSION
from core.library.analyse import AnalyseOptions, track_id
from core.library.folders import add_folder, list_folders, outermost, remove_folder
from core.library.lock import import_lock
from core.library.rescan import rescan
from core.playlists.store import Playlists
from core.similarity.recommend import Recommender
from tests.audio import music_like, write


def _library(root, count=4, compressed=()):
    """Generated songs ``song {i}.wav`` (``.ogg`` for the indices in ``compressed``)."""
    for i in range(count):
        ext = "ogg" if i in compressed else "wav"
        write(root / f"song {i}.{ext}", music_like(i % 4, seed=i), 22050)
    return root


def _history(store, track, session="s1"):
    """A play, a like and a playlist entry of ``track``, as the player and the worker leave them."""
    store.record_play(make_event("play", track, session).as_doc())
    store.db.likes.insert_one({"_id": track, "ts": 1.0})
    return Playlists(store).create("favourites", [track]).id


def test_folders_are_remembered_once_and_nested_ones_collapse(store, tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    first = add_folder(store, tmp_path / "a", watch=False)
    again = add_folder(store, tmp_path / "a")
    assert again == first and not again.watch
    add_folder(store, tmp_path / "a" / "b")
    assert [f.path for f in list_folders(store)] == [str(tmp_path / "a"), str(tmp_path / "a" / "b")]
    assert outermost([f.path for f in list_folders(store)]) == [str(tmp_path / "a")]
    assert remove_folder(store, tmp_path / "a") and not remove_folder(store, tmp_path / "a")
    try:
        add_folder(store, tmp_path / "missing")
    except FileNotFoundError as exc:
        assert "missing" in str(exc)
    else:
        raise AssertionError("a missing folder was remembered")


def test_a_folder_keeps_the_options_of_its_latest_import(store, tmp_path):
    options = AnalyseOptions(EnhanceOptions(codec="vorbis", eq="bass"), str(tmp_path / "copies"))
    add_folder(store, tmp_path, options=options)
    assert add_folder(store, tmp_path).options == options  # remembering again changes nothing
    assert add_folder(store, tmp_path, options=AnalyseOptions()).options == AnalyseOptions()


def test_rescan_imports_removes_and_relinks_moved_files(store, tmp_path):
    root = _library(tmp_path / "music", compressed=(1,))
    add_folder(store, root)
    first = rescan(store, jobs=1)
    assert sorted(first.imported) == sorted(str(p) for p in root.glob("song *"))
    kept, renamed, reencoded = (str(root / f"song {i}.{e}") for i, e in enumerate(("wav", "ogg", "wav")))
    renamed_doc = store.get_track(renamed)
    deleted_bands = store.get_track(str(root / "song 3.wav"))["lsh"]
    recommender = Recommender(store)  # a long-lived one, as in a worker: its cache must drop ids
    assert track_id(root / "song 3.wav") in [r.id for r in recommender.recommend([kept], k=3)]
    playlist = _history(store, track_id(renamed))
    store.db.likes.insert_one({"_id": track_id(reencoded), "ts": 2.0})
    store.tracks.update_one({"_id": track_id(renamed)}, {"$set": {"rating": 4}})
    store.db.track_stats.insert_one({"_id": track_id(renamed), "plays": 7, "skips": 1})
    generation = store.generation()

    (root / "song 3.wav").unlink()  # deleted
    # Added: as long as the deleted one, so of the same size, but a different recording.
    write(root / "new" / "song 4.wav", music_like(1, seed=40), 22050)
    (root / "moved").mkdir()
    os.rename(renamed, root / "moved" / "renamed.ogg")  # moved: same bytes
    y, sr = sf.read(reencoded)
    sf.write(root / "moved" / "song 2.flac", y, sr)  # moved and re-encoded: same audio, new size
    os.unlink(reencoded)
    report = rescan(store, jobs=1)

    new_renamed, new_flac = str(root / "moved" / "renamed.ogg"), str(root / "moved" / "song 2.flac")
    assert report.imported == [str(root / "new" / "song 4.wav")]
    assert report.removed == [str(root / "song 3.wav")]
    assert sorted(report.moved) == sorted([(renamed, new_renamed), (reencoded, new_flac)])
    assert report.skipped == []
    moved_id = track_id(new_renamed)
    moved_doc = store.get_track(moved_id)
    assert moved_doc["rating"] == 4
    assert store.db.track_stats.find_one({"_id": moved_id}, {"_id": 0}) == {"plays": 7, "skips": 1}
    # Same size and duration: the analysis was copied, not redone (no decode).
    assert (moved_doc["imported_at"], moved_doc["features"]) == (renamed_doc["imported_at"],
                                                                 renamed_doc["features"])
    assert moved_doc["cluster"] is not None
    assert moved_doc["title"] == "renamed"  # tags are read again: the file name is the title
    assert [p["track_id"] for p in store.plays.find({})] == [moved_id]
    assert {d["_id"] for d in store.db.likes.find({})} == {moved_id, track_id(new_flac)}
    assert Playlists(store).get(playlist).tracks == (moved_id,)
    gone = [track_id(p) for p in (renamed, reencoded, root / "song 3.wav")]
    assert store.tracks.count_documents({"_id": {"$in": gone}}) == 0
    assert store.frames.count_documents({"_id": {"$in": gone}}) == 0
    assert store.count_tracks() == 4 and store.get_track(kept)
    assert not set(gone) & set(store.lsh_matches(deleted_bands))  # out of its LSH buckets
    assert not set(gone) & {r.id for r in recommender.recommend([kept], k=3)}
    assert store.generation() > generation


def test_unchanged_library_is_only_stat_ed(store, tmp_path):
    root = _library(tmp_path / "music", count=2)
    rescan(store, [str(root)], jobs=1)
    # Same size and mtime, but no longer audio: a rescan that opened the file would skip it.
    target = root / "song 0.wav"
    stat = target.stat()
    target.write_bytes(b"\0" * stat.st_size)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = rescan(store, [str(root)], jobs=1)
    assert report.as_json() == {"imported": [], "removed": [], "moved": [], "skipped": []}


def test_a_track_of_an_older_extractor_is_analysed_again(store, tmp_path):
    root = _library(tmp_path / "music", count=2)
    rescan(store, [str(root)], jobs=1)
    old = str(root / "song 1.wav")
    # as an older Encore stored it: features version 2, no stereo image
    store.tracks.update_one({"source_path": old}, {"$set": {"features.version": 2},
                                                   "$unset": {"features.stereo_image": ""}})
    report = rescan(store, [str(root)], jobs=1)
    assert report.imported == [old]
    doc = store.get_track(old, {"features": 1})
    assert doc["features"]["version"] == FEATURES_VERSION and "stereo_image" in doc["features"]


def test_a_skipped_file_is_not_opened_again_until_it_changes(store, tmp_path):
    root = _library(tmp_path / "music", count=1)
    broken = root / "broken.mp3"
    broken.write_bytes(b"not audio at all")
    first = rescan(store, [str(root)], jobs=1)
    assert [s.path for s in first.skipped] == [str(broken)] and len(first.imported) == 1
    # An unchanged rescan must not import: with the import lock held elsewhere, it would fail.
    with import_lock(store, threading.Event()):
        again = rescan(store, [str(root)], jobs=1)
    assert again.skipped == first.skipped and again.imported == []
    broken.write_bytes(b"still not audio, but changed")
    with import_lock(store, threading.Event()), pytest.raises(ImportLockedError):
        rescan(store, [str(root)], jobs=1)
    assert [s.path for s in rescan(store, [str(root)], jobs=1).skipped] == [str(broken)]


def test_missing_folder_keeps_its_tracks(store, tmp_path):
    root = _library(tmp_path / "music", count=2)
    add_folder(store, root)
    rescan(store, jobs=1)
    shutil.move(root, tmp_path / "unmounted")
    report = rescan(store, jobs=1)
    assert [(s.path, s.reason) for s in report.skipped] == [
        (str(root), "folder not found; its tracks are kept")]
    assert report.removed == [] and store.count_tracks() == 2


def test_rescan_command_prints_one_json_object(env_for_cli, tmp_path):
    root = _library(tmp_path / "music", count=2)
    env = env_for_cli

    def encore(*args):
        proc = subprocess.run([sys.executable, "-m", "core.cli", "rescan", "--json", "--jobs", "1",
                               *args], capture_output=True, text=True, env=env, timeout=600,
                              check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    assert sorted(encore(str(root))["imported"]) == sorted(str(p) for p in root.glob("*.wav"))
    renamed = str(root / "première chanson.wav")
    os.rename(root / "song 0.wav", renamed)
    (root / "song 1.wav").unlink()
    assert encore() == {"imported": [], "removed": [str(root / "song 1.wav")],
                        "moved": [{"from": str(root / "song 0.wav"), "to": renamed}],
                        "skipped": []}


def test_a_folder_and_a_skipped_file_whose_names_are_not_utf8_rescan_every_time(store, tmp_path):
    from core.library.pipeline import run_import

    plain = tmp_path / "cafe"
    write(plain / "song.wav", music_like(0, seconds=4.0, seed=1), 22050)
    root = os.fsdecode(os.path.join(os.fsencode(str(tmp_path)), b"caf\xe9"))
    os.rename(plain, root)
    bad = os.fsdecode(os.path.join(os.fsencode(root), b"bad\xe9.ogg"))
    with open(bad, "w") as f:
        f.write("not audio")
    report = run_import(root, store, jobs=1)
    assert len(report.imported) == 1 and [s.path for s in report.skipped] == [bad]
    assert [f.path for f in list_folders(store)] == [root]  # the real name comes back
    for _ in range(2):  # the second rescan reads what the first remembered
        again = rescan(store)
        assert again.imported == [] and again.removed == []
        assert [s.path for s in again.skipped] == [bad]
    assert remove_folder(store, root) and list_folders(store) == []
