"""Bring the library in line with the disk: import new and changed files, drop deleted ones, and
re-link moved or renamed files to their history.

An unchanged folder costs one walk with a ``stat`` per file and one read of the stored file
states; nothing is decoded. A vanished file and a new one are the same recording when their
durations agree within ``DURATION_TOLERANCE_S`` and either their sizes are equal (then the stored
analysis is copied to the new path without decoding) or, after the new file was imported, their
shingle sets are near-identical (Jaccard >= ``SAME_AUDIO_JACCARD``). Equal sizes count only for
compressed formats: two uncompressed PCM files of the same length and format always have the
same size, so those are compared by their audio. The new track id (a hash of
the path) inherits the old one's plays, likes, playlist entries and per-track counters; the new
track is stored before the old one is dropped, so an interruption loses no analysis.

A remembered folder that is missing (an unmounted disk) is reported as skipped and its tracks
are kept. New files are imported with the options of the folder's latest import. A file the
import skipped (damaged, not audio) is remembered with its size and mtime in ``skipped_files``
and reported again without being opened, until it changes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from stat import S_ISREG

import numpy as np

from core.audio import decode, tags
from core.errors import DecodeError, NotFoundError
from core.library.analyse import AnalyseOptions, track_id
from core.library.discover import Skipped, discover
from core.library.folders import is_inside, list_folders, outermost
from core.library.pipeline import Progress, is_current, options_key, run_import
from core.similarity.shingles import jaccard
from core.store.driver import _guard
from core.store.mongo import FileState, MongoStore
from core.store.paths import display

DURATION_TOLERANCE_S = 0.5
SAME_AUDIO_JACCARD = 0.9
#: Formats whose size follows from duration and sample format alone (no evidence of identity).
UNCOMPRESSED_FORMATS = frozenset({"WAV", "WAVEX", "AIFF", "W64", "RF64"})
#: Collections whose documents are keyed (``_id``) by a track id: likes, per-track counters.
KEYED_BY_TRACK = ("likes", "track_stats")
#: Collections whose documents name a track in a ``track_id`` field.
REFER_TO_TRACK = ("plays",)
#: (collection, field) holding lists of track ids: playlist entries, a session's radio seeds.
TRACK_LISTS = (("playlists", "tracks"), ("sessions", "seeds"))
#: Files the import skipped: ``{_id: track_id(path), folder, size, mtime, reason}``.
SKIPPED_FILES = "skipped_files"


@dataclass
class RescanReport:
    """What a rescan changed; every entry is a file path."""

    imported: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    cancelled: bool = False

    def as_json(self) -> dict:
        """The ``encore rescan --json`` object."""
        return {"imported": self.imported, "removed": self.removed,
                "moved": [{"from": a, "to": b} for a, b in self.moved],
                "skipped": [s.path for s in self.skipped]}


@dataclass
class _Diff:
    """Files on disk against the store: ``{path: (id, size, duration, format)}`` of the vanished,
    paths of new and changed files, and the size of every file seen."""

    vanished: dict[str, tuple[str, int, float, str]] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    skips: dict[str, dict] = field(default_factory=dict)


def rescan(store: MongoStore, folders: list[str] | None = None, *, jobs: int | None = None,
           progress: Progress | None = None, cancel: threading.Event | None = None,
           mp_context: str | None = None) -> RescanReport:
    """Rescan folders (default: every remembered one).

    All folders are compared with the store before anything changes, so a file moved from one
    folder to another is re-linked, not removed from the first and imported into the second.

    Parameters
    ----------
    store : MongoStore
    folders : list of str, optional
        Folders to rescan instead of the remembered ones; nested ones are scanned once.
    jobs, progress, cancel, mp_context
        Passed to ``run_import`` for the files that need analysis.

    Returns
    -------
    RescanReport
    """
    report = RescanReport()
    roots = _existing(store, folders, report)
    diff = _diff(store, roots, report)
    if not (diff.vanished or diff.new or diff.changed):
        return report
    for old, new in _same_size_moves(diff):
        if _relink_copy(store, diff.vanished[old][0], new):
            report.moved.append((old, new))
            del diff.vanished[old]
            diff.new.remove(new)
    _import_new(store, roots, diff, report, dict(jobs=jobs, progress=progress, cancel=cancel,
                                                 mp_context=mp_context))
    if report.cancelled:
        return report  # nothing is removed on the strength of an unfinished scan
    for old, new in _same_audio_moves(store, diff):
        report.moved.append((old, new))
        report.imported.remove(new)
        _relink_history(store, diff.vanished.pop(old)[0], track_id(new))
    report.removed += sorted(diff.vanished)
    store.remove_tracks([v[0] for v in diff.vanished.values()])  # plays stay
    # recommender caches must forget removed and relinked ids
    store.write_cluster_blocks(store.bump_generation())
    return report


def _existing(store: MongoStore, folders: list[str] | None,
              report: RescanReport) -> dict[str, AnalyseOptions]:
    """The outermost existing folders to scan with their import options; missing ones are
    reported as skipped."""
    remembered = {f.path: f.options for f in list_folders(store)}
    paths = remembered if folders is None else [os.path.abspath(p) for p in folders]
    roots = {}
    for folder in outermost(list(paths)):
        if os.path.isdir(folder):
            roots[folder] = remembered.get(folder) or AnalyseOptions()
        else:
            report.skipped.append(Skipped(folder, "folder not found; its tracks are kept"))
    return roots


def _import_new(store: MongoStore, roots: dict[str, AnalyseOptions], diff: _Diff,
                report: RescanReport, import_args: dict) -> None:
    """Run the import pipeline on each root holding new or changed files."""
    for root, options in roots.items():
        if not any(is_inside(p, root) for p in diff.new + diff.changed):
            continue
        imported = run_import(root, store, options=options, **import_args)
        report.skipped += [s for s in imported.skipped if s not in report.skipped]
        _remember_skips(store, root, imported.skipped)
        report.imported += _source_paths(store, imported.imported)
        if imported.cancelled:
            report.cancelled = True
            return


def _diff(store: MongoStore, roots: dict[str, AnalyseOptions], report: RescanReport) -> _Diff:
    """Compare the files under ``roots`` with the stored states (one ``stat`` per file)."""
    states = store.file_states()
    diff = _Diff(skips={d["_id"]: d for d in store.db[SKIPPED_FILES].find()})
    for root, options in roots.items():
        files, skipped = discover(root, exclude=options.library_dir)
        report.skipped += skipped
        key = options_key(options)
        for path in files:
            reason = _classify(path, states.get(path), key, diff)
            if reason:
                report.skipped.append(Skipped(path, reason))
    gone = [p for p in states if p not in diff.sizes and p not in diff.changed
            and any(is_inside(p, r) for r in roots)]
    diff.vanished = _vanished(store, gone)
    return diff


def _classify(path: str, state: FileState | None, key: str, diff: _Diff) -> str | None:
    """Put ``path`` in ``diff``; returns the reason it was skipped before if it is unchanged."""
    try:
        stat = os.stat(path)
    except OSError:
        diff.changed.append(path)  # the import reports why it cannot be read
        return None
    diff.sizes[path] = stat.st_size
    skip = diff.skips.get(track_id(path)) if state is None else None
    if skip is not None and (skip["size"], skip["mtime"]) == (stat.st_size, stat.st_mtime):
        return skip["reason"]
    if state is None:
        diff.new.append(path)
    elif not is_current(state, stat, key):
        diff.changed.append(path)


@_guard("remembering skipped files")
def _remember_skips(store: MongoStore, root: str, skipped: list[Skipped]) -> None:
    """Replace the skipped files remembered under ``root`` with this import's."""
    docs = []
    for item in skipped:
        try:
            stat = os.stat(item.path)
        except OSError:
            continue  # gone: nothing to recognise next time
        if not S_ISREG(stat.st_mode):
            continue
        # Printable forms: a name that is not UTF-8 cannot be stored as it is (BSON); the id,
        # a hash of the real path, is what finds the file again.
        docs.append({"_id": track_id(item.path), "folder": display(root), "size": stat.st_size,
                     "mtime": stat.st_mtime, "reason": display(item.reason)})
    collection = store.db[SKIPPED_FILES]
    collection.delete_many({"folder": display(root)})
    if docs:
        collection.insert_many(list({d["_id"]: d for d in docs}.values()))


@_guard("reading vanished tracks")
def _vanished(store: MongoStore, paths: list[str]) -> dict[str, tuple[str, int, float, str]]:
    ids = {track_id(p): p for p in paths}
    docs = store.tracks.find({"_id": {"$in": list(ids)}},
                             {"file.size": 1, "file.format": 1, "duration_s": 1})
    return {ids[d["_id"]]: (d["_id"], d["file"]["size"], d["duration_s"], d["file"].get("format"))
            for d in docs}


def _same_size_moves(diff: _Diff) -> list[tuple[str, str]]:
    """Vanished/new compressed files of equal size whose durations agree (header probe only)."""
    by_size: dict[int, list[str]] = {}
    for old, (_, size, _, file_format) in diff.vanished.items():
        if file_format not in UNCOMPRESSED_FORMATS:
            by_size.setdefault(size, []).append(old)
    pairs = []
    for new in list(diff.new):
        candidates = by_size.get(diff.sizes[new], [])
        if not candidates:
            continue
        try:
            duration = decode.probe(new).duration_s
        except DecodeError:
            continue  # the import will report it
        for old in candidates:
            if abs(diff.vanished[old][2] - duration) <= DURATION_TOLERANCE_S:
                pairs.append((old, new))
                candidates.remove(old)
                break
    return pairs


def _same_audio_moves(store: MongoStore, diff: _Diff) -> list[tuple[str, str]]:
    """Vanished/new pairs whose durations agree and whose shingles are near-identical."""
    if not diff.vanished or not diff.new:
        return []
    old_docs = _shingle_docs(store, [v[0] for v in diff.vanished.values()])
    new_docs = _shingle_docs(store, [track_id(p) for p in diff.new])
    pairs = []
    for old in old_docs:
        best, best_score = None, SAME_AUDIO_JACCARD
        for new in new_docs:
            if abs(old["duration_s"] - new["duration_s"]) > DURATION_TOLERANCE_S:
                continue
            score = jaccard(old["shingles"], new["shingles"])
            if score >= best_score:
                best, best_score = new, score
        if best is not None:
            new_docs.remove(best)
            pairs.append((old["source_path"], best["source_path"]))
    return pairs


def _shingle_docs(store: MongoStore, ids: list[str]) -> list[dict]:
    docs = store.iter_tracks({"_id": {"$in": ids}, "shingles": {"$exists": True}},
                             {"source_path": 1, "duration_s": 1, "shingles": 1})
    return [d | {"shingles": np.frombuffer(d["shingles"], dtype=np.uint64)} for d in docs]


def _relink_copy(store: MongoStore, old_id: str, new_path: str) -> bool:
    """Store the old analysis under the new path (re-reading only its tags), then move history.

    ``False`` if the old analysis cannot be copied (no frames, refused, gone): the import
    redoes it.
    """
    try:
        stat = os.stat(new_path)
    except OSError:  # gone again: the import reports it
        return False
    frames = list(store.iter_frames([old_id]))
    try:
        doc = store.get_track(old_id)
    except NotFoundError:  # relinked meanwhile by another rescan
        return False
    if not frames:
        return False
    meta = tags.read_tags(new_path)  # a folder-name album or file-name title may have changed
    doc.update({"_id": track_id(new_path), "source_path": new_path, "title": meta.title,
                "artist": meta.artist, "album": meta.album, "genre": meta.genre,
                "tags": meta.as_dict()})
    doc["file"].update(size=stat.st_size, mtime=stat.st_mtime)
    if "original_path" in doc:  # the playable path is a managed copy; only its origin moved
        doc["original_path"] = new_path
    else:
        doc["path"] = new_path
    if store.put_tracks([(doc, frames[0]["data"], frames[0]["shape"])]):
        return False
    _relink_history(store, old_id, doc["_id"])
    return True


@_guard("relinking a moved file's history")
def _relink_history(store: MongoStore, old: str, new: str) -> None:
    """Give ``new`` everything that refers to ``old``, then drop ``old``'s documents."""
    _carry_fields(store, old, new)
    for name in KEYED_BY_TRACK:
        collection = store.db[name]
        for doc in collection.find({"_id": old}):
            collection.replace_one({"_id": new}, doc | {"_id": new}, upsert=True)
            collection.delete_one({"_id": old})
    for name in REFER_TO_TRACK:
        store.db[name].update_many({"track_id": old}, {"$set": {"track_id": new}})
    for name, list_field in TRACK_LISTS:
        collection = store.db[name]
        for doc in collection.find({list_field: old}, {list_field: 1}):
            ids = [new if t == old else t for t in doc[list_field]]
            collection.update_one({"_id": doc["_id"]}, {"$set": {list_field: ids}})
    store.remove_tracks([old])  # plays stay: history outlives files


def _carry_fields(store: MongoStore, old: str, new: str) -> None:
    """Fields of the old track the analysis does not write (a rating...) go to the new one; the
    new track's own analysis wins where both have a field."""
    try:
        old_doc, new_doc = store.get_track(old), store.get_track(new)
    except NotFoundError:
        return
    carried = {k: v for k, v in old_doc.items() if k not in new_doc}
    if carried:
        store.update_many([(new, carried)])


def _source_paths(store: MongoStore, ids: list[str]) -> list[str]:
    return sorted(d["source_path"] for d in store.iter_tracks({"_id": {"$in": ids}},
                                                              {"source_path": 1}))
