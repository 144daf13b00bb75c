"""Library-wide models after analysis: audio words, shingles, MinHash/LSH, K-means, the audio
scorer's neighbour scales, album gain.

Runs after the per-file stage. Every library-wide model is fitted or read first; the codebook and
the clustering are refitted only when the library has grown substantially, otherwise new tracks
are indexed with the stored models. Then one pass over the tracks that need anything computes all
their fields and writes each track once: one ``$set`` with ``indexed`` (the tracks' separate
rewrites, one per field group, were most of the import's serial tail on a local server).
Crash-safe: each track records the model versions it was built with (``codebook_version``,
``kmeans_version``, ``audio.version``) in the same ``$set`` as ``indexed``, and every track whose
versions differ from the stored models is redone, so a crash between a refit and the rewrite of
the tracks (or a second import) leaves nothing built with an old model for good.
Memory does not grow with the library: the codebook learns from a bounded sample of frames,
K-means from at most ``CLUSTER_FIT_MAX`` tracks, and tracks are assigned in chunks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from core.audio.loudness import album_gain
from core.similarity import audio_score, clustering, shingles
from core.similarity.pool import timbre_of
from core.store.mongo import MongoStore

Progress = Callable[[int, int, str], None]
#: Segments a codebook refit samples per track at most (as ``shingles.learn_codebook``).
SAMPLE_PER_TRACK = 256
#: Segments a codebook refit holds at most in all, whatever the library's size: with 27 float32
#: values per segment, 100,000 are 11 MB (every frame of 100k tracks would be gigabytes).
SAMPLE_TOTAL = 100_000
#: Tracks written per bulk update.
UPDATE_BATCH = 200
#: Tracks assigned to clusters at a time (each is compared with every centroid).
ASSIGN_CHUNK = 1000
#: Tracks a K-means refit learns from at most (the rest are assigned to its clusters).
CLUSTER_FIT_MAX = 10_000
#: Working memory (MB) scikit-learn may use for a chunk of pairwise distances while fitting.
FIT_WORKING_MB = 32
#: What clustering reads of a track.
CLUSTER_FIELDS = {"features.vector": 1, "tags": 1}
#: Tracks the audio scorer's models are built for (those analysed since the extractor fits them).
AUDIO_QUERY = audio_score.MODELS_QUERY


def _frames_of(doc: dict) -> np.ndarray:
    return np.frombuffer(doc["data"], dtype=np.float32).reshape(doc["shape"])


def sample_frames(store: MongoStore, n_tracks: int, *, seed: int = 0) -> list[np.ndarray]:
    """A bounded sample of every track's segment frames, streamed from the store.

    Parameters
    ----------
    store : MongoStore
    n_tracks : int
        Tracks in the library (sets the share of each).
    seed : int
        Random seed (the sample does not depend on the order the files were imported in).

    Returns
    -------
    list of np.ndarray [shape=(n, d)]
        At most ``min(SAMPLE_PER_TRACK, SAMPLE_TOTAL // n_tracks)`` rows per track (at least one).
    """
    per_track = max(1, min(SAMPLE_PER_TRACK, SAMPLE_TOTAL // max(n_tracks, 1)))
    rng = np.random.default_rng(seed)
    sample = []
    for doc in store.iter_frames():
        frames = _frames_of(doc)
        if len(frames):
            rows = rng.choice(len(frames), min(per_track, len(frames)), replace=False)
            sample.append(frames[np.sort(rows)].copy())  # a copy: the document is let go
    return sample


def _codebook(store: MongoStore, n_tracks: int) -> tuple[shingles.Codebook, int, bool]:
    stored = store.get_model("codebook")
    if stored is not None and n_tracks < stored["fitted_on"] * (1 + clustering.REFIT_GROWTH):
        return shingles.Codebook.from_doc(stored), stored["version"], False
    book = shingles.learn_codebook(sample_frames(store, n_tracks), per_track=SAMPLE_PER_TRACK)
    version = store.put_model("codebook", book.to_doc() | {"fitted_on": n_tracks})
    return book, version, True


def index_library(store: MongoStore, progress: Progress | None = None) -> dict:
    """Bring every track's shingles, signature, band keys, cluster, neighbour scales and album
    gain up to date.

    Every library-wide model is fitted (or read) first; then one pass over the tracks that need
    anything computes all their fields and writes them, with ``indexed``, in one ``$set`` per
    track: a crash mid-pass leaves each track either fully indexed with the current models or
    as it was (its model versions differ, so the next run redoes it).

    Parameters
    ----------
    store : MongoStore
    progress : callable, optional
        ``progress(done, total, message)``.

    Returns
    -------
    dict
        ``{"indexed": n, "codebook_refit": bool, "cluster_refit": bool, "k": int}``; ``n``
        counts the tracks whose shingles were built.
    """
    report = progress or (lambda done, total, message: None)
    n_tracks = store.count_tracks()
    if n_tracks == 0:
        return {"indexed": 0, "codebook_refit": False, "cluster_refit": False, "k": 0}
    report(0, n_tracks, "learning audio words")
    book, book_version, refit_words = _codebook(store, n_tracks)
    model, kmeans_version, refit_clusters = _cluster_model(store, n_tracks, report)
    models = _Models(book, book_version, model, kmeans_version,
                     _audio_scaler(store, model, kmeans_version))
    gains = _album_gains(store)
    done = _index_pending(store, models, gains, report)
    _write(store, list(gains.items()))  # tracks indexed before whose album gained or lost one
    store.write_cluster_blocks(store.bump_generation())
    return {"indexed": done, "codebook_refit": refit_words, "cluster_refit": refit_clusters,
            "k": model.k}


@dataclass(frozen=True)
class _Scaler:
    """The audio scorer's library-wide part: the sample every track is compared with."""

    version: int
    where: dict[str, int]  # sample track -> its row in ``sample``
    sample: audio_score.AudioModels
    stats: dict[str, dict[str, list[float]]]  # the library's profile statistics
    k: int  # the sample's neighbour rank standing for the library's


class _Stale(NamedTuple):
    """A track to index and which of its parts to build (``indexed`` is always written)."""

    track: str
    shingles: bool
    cluster: bool
    audio: bool


@dataclass(frozen=True)
class _Models:
    """Every library-wide model a track's fields are computed with, and their versions."""

    book: shingles.Codebook
    book_version: int
    clusters: clustering.ClusterModel
    kmeans_version: int
    scaler: _Scaler | None  # None: fewer than two tracks carry the audio models

    def stale(self) -> dict:
        """Query of the tracks built with another model, or never marked indexed."""
        stale = [{"indexed": {"$ne": True}}, {"codebook_version": {"$ne": self.book_version}},
                 {"kmeans_version": {"$ne": self.kmeans_version}}]
        if self.scaler:
            stale.append({**AUDIO_QUERY, "audio.version": {"$ne": self.scaler.version}})
        return {"$or": stale}

    def todo(self, doc: dict) -> _Stale:
        """Which parts of a stale track (read with its model versions) are out of date."""
        audio = (doc.get("audio") or {}).get("version")
        return _Stale(doc["_id"], doc.get("codebook_version") != self.book_version,
                      doc.get("kmeans_version") != self.kmeans_version,
                      self.scaler is not None and audio != self.scaler.version)


def _cluster_model(store: MongoStore, n_tracks: int,
                   report: Progress) -> tuple[clustering.ClusterModel, int, bool]:
    """The stored K-means model and its version, refitted first if the library grew enough."""
    stored = store.get_model("kmeans")
    model = clustering.ClusterModel.from_doc(stored) if stored else None
    if not clustering.needs_refit(model, n_tracks):
        return model, stored["version"], False
    report(0, n_tracks, "clustering")
    return *_refit_clusters(store, n_tracks), True


def _index_pending(store: MongoStore, models: _Models, gains: dict[str, dict],
                   report: Progress) -> int:
    """Compute and write every field of the tracks ``models.stale()`` finds, ``ASSIGN_CHUNK``
    at a time; the album gains of those tracks are taken out of ``gains``. Returns how many
    tracks' shingles were built."""
    pending = [models.todo(d) for d in store.iter_tracks(models.stale(), {
        "codebook_version": 1, "kmeans_version": 1, "audio.version": 1}, by_id=True)]
    built = 0
    for start in range(0, len(pending), ASSIGN_CHUNK):
        chunk = pending[start:start + ASSIGN_CHUNK]
        fields = {s.track: gains.pop(s.track, {}) for s in chunk}
        built += _add_shingles(store, models, [s.track for s in chunk if s.shingles], fields)
        _add_models(store, models, {s.track for s in chunk if s.cluster},
                    {s.track for s in chunk if s.audio}, fields)
        _write(store, [(track, value) for track, value in fields.items() if value])
        # the message the importer's UI and the benchmarks know as the index's per-track phase
        report(start + len(chunk), len(pending), "shingles and MinHash")
    return built


def _write(store: MongoStore, updates: list[tuple[str, dict]]) -> None:
    """``store.update_many`` in bulk writes of ``UPDATE_BATCH`` tracks."""
    for start in range(0, len(updates), UPDATE_BATCH):
        store.update_many(updates[start:start + UPDATE_BATCH])


def _add_shingles(store: MongoStore, models: _Models, todo: list[str],
                  fields: dict[str, dict]) -> int:
    """Shingles, MinHash and band keys of the tracks ``todo``, and ``indexed`` for every track
    of ``fields`` that has them; returns how many were built."""
    seen = set()
    for doc in store.iter_frames(todo):
        fields[doc["_id"]] |= shingles.index_fields(_frames_of(doc), models.book,
                                                    models.book_version)
        seen.add(doc["_id"])
    missing = set(todo) - seen
    # A track without its frames cannot be indexed: the next import analyses it again.
    store.mark_incomplete(sorted(missing))
    for track in fields.keys() - missing:
        fields[track]["indexed"] = True
    return len(seen)


def _add_models(store: MongoStore, models: _Models, clusters: set[str], audio: set[str],
                fields: dict[str, dict]) -> None:
    """Cluster of the tracks ``clusters``, neighbour scales of the tracks ``audio``."""
    projection = CLUSTER_FIELDS | (audio_score.MODEL_FIELDS if audio else {})
    docs = _read(store, sorted(clusters | audio), projection)
    ids, vectors, tag_list = _cluster_inputs(d for d in docs if d["_id"] in clusters)
    if ids:
        labels = clustering.assign(models.clusters, vectors, tag_list)
        for track, label in zip(ids, labels, strict=True):
            fields[track] |= {"cluster": int(label), "kmeans_version": models.kmeans_version}
    docs = [d for d in docs if d["_id"] in audio and audio_score.has_models(d)]
    if docs:
        for track, value in _scales(models.scaler, docs, models.clusters).items():
            fields[track]["audio"] = value


def _refit_clusters(store: MongoStore, n_tracks: int) -> tuple[clustering.ClusterModel, int]:
    """Fit K-means on at most ``CLUSTER_FIT_MAX`` tracks spread over the library (ids are
    hashes, so every n-th id is an unbiased sample) and store it as the next version."""
    import sklearn  # here: the import pipeline (and its analysis processes) loads this module

    ids = [d["_id"] for d in store.iter_tracks({}, {"_id": 1}, by_id=True)]
    step = -(-len(ids) // CLUSTER_FIT_MAX)
    query = {"_id": {"$in": ids[::step]}} if step > 1 else {}
    _, vectors, tag_list = _cluster_inputs(store.iter_tracks(query, CLUSTER_FIELDS, by_id=True))
    # Silhouette scores compare the sampled points pairwise: in small chunks, not all at once.
    with sklearn.config_context(working_memory=FIT_WORKING_MB):
        model, _ = clustering.fit(vectors, tag_list)
    # fitted_on is the library's size, so that the next refit waits for the library to grow.
    return model, store.put_model("kmeans", model.to_doc() | {"fitted_on": n_tracks})


def _audio_scaler(store: MongoStore, model: clustering.ClusterModel,
                  kmeans_version: int) -> _Scaler | None:
    """The ``audio`` model's sample with its index-time models, every track being compared with
    it (``_audio_model``). Tracks analysed before the models existed are left out (the
    recommender then keeps its older blend), and so is a library of one track (it has no
    neighbour): ``None`` then."""
    n_tracks = store.count_tracks(AUDIO_QUERY)
    if n_tracks < 2:
        return None
    stored = _audio_model(store, n_tracks, kmeans_version, force=False)
    sample_ids, sample = _sample_models(store, stored, model)
    if len(sample_ids) < 2:  # the sample's tracks were removed since: choose it again
        stored = _audio_model(store, n_tracks, kmeans_version, force=True)
        sample_ids, sample = _sample_models(store, stored, model)
    return _Scaler(stored["version"], {track: i for i, track in enumerate(sample_ids)}, sample,
                   stored["profiles"], audio_score.sample_neighbour(n_tracks, len(sample_ids)))


def _sample_models(store: MongoStore, stored: dict, model: clustering.ClusterModel
                   ) -> tuple[list[str], audio_score.AudioModels | None]:
    """The stored sample's tracks still in the library, with the models its statistics give."""
    return _models(_read(store, stored["sample"], audio_score.MODEL_FIELDS), model,
                   stored["profiles"])


def _scales(scaler: _Scaler, docs: list[dict], model: clustering.ClusterModel) -> dict[str, dict]:
    """``{track: audio field}``: each track's neighbour scales among the sample and its
    standardised profiles (``audio_score``)."""
    ids, models = _models(docs, model, scaler.stats)
    distances = np.stack([audio_score.component_distances(models[i], scaler.sample)
                          for i in range(len(ids))])
    for i, track in enumerate(ids):  # a track's distance to itself is no neighbour
        if track in scaler.where:
            distances[i, scaler.where[track]] = np.nan
    scales = audio_score.neighbour_scales(distances, k=scaler.k)
    return {track: {"scale": scales[i].tolist(), "version": scaler.version,
                    **{name: getattr(models, name)[i].astype(np.float32).tobytes()
                       for name in audio_score.PROFILES}} for i, track in enumerate(ids)}


def _audio_model(store: MongoStore, n_tracks: int, kmeans_version: int, *, force: bool) -> dict:
    """The library-wide part of the audio scorer: a sample of at most ``SCALE_SAMPLE`` tracks
    spread over the library and its profile statistics, chosen again (a new version, so every
    track is redone) on a new clustering, when the library has grown enough, or if ``force``."""
    stored = store.get_model("audio")
    if not force and not audio_score.needs_refit(stored, n_tracks, kmeans_version):
        return stored
    ids = [d["_id"] for d in store.iter_tracks(AUDIO_QUERY, {"_id": 1}, by_id=True)]
    sample = ids[:: -(-len(ids) // audio_score.SCALE_SAMPLE)]
    projection = {f"features.{field}": 1 for field in audio_score.PROFILES.values()}
    stored = {"sample": sample,
              "profiles": audio_score.profile_stats(_read(store, sample, projection)),
              "kmeans_version": kmeans_version, "fitted_on": n_tracks}
    return stored | {"version": store.put_model("audio", stored)}


def _read(store: MongoStore, ids: list[str], projection: dict) -> list[dict]:
    """Documents of ``ids`` in that order (a track removed since is left out)."""
    found = {}
    for start in range(0, len(ids), ASSIGN_CHUNK):
        found |= {d["_id"]: d for d in store.iter_tracks(
            {"_id": {"$in": ids[start:start + ASSIGN_CHUNK]}}, projection)}
    return [found[i] for i in ids if i in found]


def _models(docs: list[dict], model: clustering.ClusterModel,
            stats: dict[str, dict[str, list[float]]]
            ) -> tuple[list[str], audio_score.AudioModels | None]:
    """The ids of those of ``docs`` (read with ``MODEL_FIELDS``) that carry the per-track
    models, and their index-time models (``None`` if none does)."""
    docs = [d for d in docs if audio_score.has_models(d)]
    if not docs:
        return [], None
    timbre = np.vstack([timbre_of(d, model) for d in docs])
    return [d["_id"] for d in docs], audio_score.build(docs, timbre, stats)


def _cluster_inputs(docs: Iterable[dict]) -> tuple[list[str], np.ndarray, list[dict]]:
    """Ids, feature vectors [shape=(n, d), float64] and cluster tags of tracks read with
    ``CLUSTER_FIELDS``, holding only those (not whole documents: memory at 100k tracks)."""
    ids, raw, tag_list = [], bytearray(), []
    for doc in docs:
        ids.append(doc["_id"])
        raw += doc["features"]["vector"]
        tag_list.append(_cluster_tags(doc["tags"]))
    if not ids:
        return ids, np.empty((0, 0)), tag_list
    vectors = np.frombuffer(bytes(raw), dtype=np.float32).reshape(len(ids), -1)
    return ids, vectors.astype(np.float64), tag_list


def _cluster_tags(tags: dict) -> dict:
    # A folder-name album is a guess, not a tag: only real tags pull tracks together.
    return {"artist": tags.get("artist"), "genre": tags.get("genre"),
            "album": tags.get("album") if tags.get("tagged") else None}


def _album_gains(store: MongoStore) -> dict[str, dict]:
    """``{track: fields}``: the ReplayGain album gain and peak of every track whose values
    change (only those are held and written)."""
    albums: dict[tuple, list[tuple]] = defaultdict(list)
    for doc in store.iter_tracks({}, {"album": 1, "tags.albumartist": 1, "artist": 1,
                                      "loudness.integrated_lufs": 1, "duration_s": 1,
                                      "replaygain": 1}):
        key = (doc.get("album"), (doc.get("tags") or {}).get("albumartist") or doc.get("artist"))
        gain = doc["replaygain"]
        albums[key].append((doc["_id"], doc["loudness"]["integrated_lufs"], doc["duration_s"],
                            gain["track_peak"], gain.get("album_gain_db"), gain.get("album_peak")))
    changed = {}
    for tracks in albums.values():
        gain = round(album_gain([(lufs, seconds) for _, lufs, seconds, *_ in tracks]), 2)
        peak = max(track[3] for track in tracks)
        changed |= {track_id: {"replaygain.album_gain_db": gain, "replaygain.album_peak": peak}
                    for track_id, *_, old_gain, old_peak in tracks
                    if (old_gain, old_peak) != (gain, peak)}
    return changed
