"""Library-wide models after analysis: audio words, shingles, MinHash/LSH, K-means, the audio
scorer's neighbour scales, album gain.

Runs after the per-file stage. The codebook and the clustering are refitted only when the library
has grown substantially; otherwise new tracks are indexed with the stored models. Crash-safe: each
track records the model versions it was built with (``codebook_version``, ``kmeans_version``), and
every track whose versions differ from the stored models is redone, so a crash between a refit and
the rewrite of the tracks (or a second import) leaves nothing built with an old model for good.
Memory does not grow with the library: the codebook learns from a bounded sample of frames,
K-means from at most ``CLUSTER_FIT_MAX`` tracks, and tracks are assigned in chunks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from core.audio.loudness import album_gain
from core.similarity import audio_score, clustering, minhash, shingles
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
    """Bring every track's shingles, signature, band keys and cluster up to date.

    Parameters
    ----------
    store : MongoStore
    progress : callable, optional
        ``progress(done, total, message)``.

    Returns
    -------
    dict
        ``{"indexed": n, "codebook_refit": bool, "cluster_refit": bool, "k": int}``.
    """
    report = progress or (lambda done, total, message: None)
    n_tracks = store.count_tracks()
    if n_tracks == 0:
        return {"indexed": 0, "codebook_refit": False, "cluster_refit": False, "k": 0}
    report(0, n_tracks, "learning audio words")
    book, book_version, refit_words = _codebook(store, n_tracks)
    done = _shingle(store, book, book_version, report)
    clusters = _cluster(store, n_tracks, report)
    _audio_scales(store, clusters["version"], report)
    _album_gains(store)
    store.mark_indexed({"codebook_version": book_version,
                        "kmeans_version": clusters.pop("version")})
    store.bump_generation()
    return {"indexed": done, "codebook_refit": refit_words, **clusters}


def _shingle(store: MongoStore, book: shingles.Codebook, version: int, report: Progress) -> int:
    """Shingles, MinHash and band keys of every track not built with codebook ``version``."""
    pending = [d["_id"] for d in store.iter_tracks({"codebook_version": {"$ne": version}},
                                                   {"_id": 1})]
    updates, seen = [], set()
    for doc in store.iter_frames(pending):
        sig_set = shingles.shingle_set(shingles.to_words(_frames_of(doc), book))
        sig = minhash.signature(sig_set)
        updates.append((doc["_id"], {"shingles": sig_set.tobytes(), "minhash": sig.tobytes(),
                                     "lsh": minhash.band_keys(sig), "codebook_version": version}))
        seen.add(doc["_id"])
        if len(updates) >= UPDATE_BATCH:
            store.update_many(updates)
            updates = []
            report(len(seen), len(pending), "shingles and MinHash")
    store.update_many(updates)
    # A track without its frames cannot be indexed: the next import analyses it again.
    store.mark_incomplete([i for i in pending if i not in seen])
    return len(seen)


def _cluster(store: MongoStore, n_tracks: int, report: Progress) -> dict:
    """Refit K-means if the library grew enough, then assign every track not yet assigned with
    the stored model's version, ``ASSIGN_CHUNK`` tracks at a time."""
    stored = store.get_model("kmeans")
    model = clustering.ClusterModel.from_doc(stored) if stored else None
    refit = clustering.needs_refit(model, n_tracks)
    version = stored["version"] if stored else 0
    if refit:
        report(0, n_tracks, "clustering")
        model, version = _refit_clusters(store, n_tracks)
    pending = [d["_id"] for d in store.iter_tracks({"kmeans_version": {"$ne": version}},
                                                   {"_id": 1}, by_id=True)]
    for start in range(0, len(pending), ASSIGN_CHUNK):
        ids, vectors, tag_list = _cluster_inputs(
            store, {"_id": {"$in": pending[start:start + ASSIGN_CHUNK]}})
        labels = clustering.assign(model, vectors, tag_list)
        store.update_many([(i, {"cluster": int(c), "kmeans_version": version})
                           for i, c in zip(ids, labels, strict=True)])
        report(start + len(ids), len(pending), "clustering")
    return {"cluster_refit": refit, "k": model.k if model else 0, "version": version}


def _refit_clusters(store: MongoStore, n_tracks: int) -> tuple[clustering.ClusterModel, int]:
    """Fit K-means on at most ``CLUSTER_FIT_MAX`` tracks spread over the library (ids are
    hashes, so every n-th id is an unbiased sample) and store it as the next version."""
    import sklearn  # here: the import pipeline (and its analysis processes) loads this module

    ids = [d["_id"] for d in store.iter_tracks({}, {"_id": 1}, by_id=True)]
    step = -(-len(ids) // CLUSTER_FIT_MAX)
    _, vectors, tag_list = _cluster_inputs(store, {"_id": {"$in": ids[::step]}} if step > 1 else {})
    # Silhouette scores compare the sampled points pairwise: in small chunks, not all at once.
    with sklearn.config_context(working_memory=FIT_WORKING_MB):
        model, _ = clustering.fit(vectors, tag_list)
    # fitted_on is the library's size, so that the next refit waits for the library to grow.
    return model, store.put_model("kmeans", model.to_doc() | {"fitted_on": n_tracks})


def _audio_scales(store: MongoStore, kmeans_version: int, report: Progress) -> None:
    """Each track's neighbour scales and standardised loudness profile (``audio_score``).

    Every track is compared with the ``audio`` model's sample (``_audio_model``). Tracks analysed
    before the models existed are left out (the recommender then keeps its older blend), and so
    is a library of one track (it has no neighbour).
    """
    query = {"features.timbre_gauss": {"$exists": True}}
    n_tracks = store.count_tracks(query)
    if n_tracks < 2:
        return
    model = clustering.ClusterModel.from_doc(store.get_model("kmeans"))
    stored = _audio_model(store, query, n_tracks, kmeans_version, force=False)
    stats = (np.array(stored["loudness_mean"]), np.array(stored["loudness_scale"]))
    sample_ids, sample = _models(store, stored["sample"], model, stats)
    if len(sample_ids) < 2:  # the sample's tracks were removed since: choose it again
        stored = _audio_model(store, query, n_tracks, kmeans_version, force=True)
        sample_ids, sample = _models(store, stored["sample"], model, stats)
    k = audio_score.sample_neighbour(n_tracks, len(sample_ids))
    where = {track: i for i, track in enumerate(sample_ids)}
    pending = [d["_id"] for d in store.iter_tracks(
        {**query, "audio.version": {"$ne": stored["version"]}}, {"_id": 1}, by_id=True)]
    for start in range(0, len(pending), ASSIGN_CHUNK):
        ids, models = _models(store, pending[start:start + ASSIGN_CHUNK], model, stats)
        distances = np.stack([audio_score.component_distances(models[i], sample)
                              for i in range(len(ids))])
        for i, track in enumerate(ids):  # a track's distance to itself is no neighbour
            if track in where:
                distances[i, where[track]] = np.nan
        scales = audio_score.neighbour_scales(distances, k=k)
        store.update_many([(track, {"audio": {
            "scale": scales[i].tolist(), "loudness": models.loudness[i].astype(np.float32).tobytes(),
            "version": stored["version"]}}) for i, track in enumerate(ids)])
        report(start + len(ids), len(pending), "neighbour scales")


def _audio_model(store: MongoStore, query: dict, n_tracks: int, kmeans_version: int, *,
                 force: bool) -> dict:
    """The library-wide part of the audio scorer: a sample of at most ``SCALE_SAMPLE`` tracks
    spread over the library and its loudness statistics, chosen again (a new version, so every
    track is redone) on a new clustering, when the library has grown enough, or if ``force``."""
    stored = store.get_model("audio")
    if not force and not audio_score.needs_refit(stored, n_tracks, kmeans_version):
        return stored
    ids = [d["_id"] for d in store.iter_tracks(query, {"_id": 1}, by_id=True)]
    sample = ids[:: -(-len(ids) // audio_score.SCALE_SAMPLE)]
    raw = audio_score.loudness_profiles(_read(store, sample, {"features.loudness_profile": 1}))
    stored = {"sample": sample, "loudness_mean": raw.mean(axis=0).tolist(),
              "loudness_scale": (raw.std(axis=0) + 1e-9).tolist(),
              "kmeans_version": kmeans_version, "fitted_on": n_tracks}
    return stored | {"version": store.put_model("audio", stored)}


def _read(store: MongoStore, ids: list[str], projection: dict) -> list[dict]:
    """Documents of ``ids`` in that order (a track removed since is left out)."""
    found = {}
    for start in range(0, len(ids), ASSIGN_CHUNK):
        found |= {d["_id"]: d for d in store.iter_tracks(
            {"_id": {"$in": ids[start:start + ASSIGN_CHUNK]}}, projection)}
    return [found[i] for i in ids if i in found]


def _models(store: MongoStore, ids: list[str], model: clustering.ClusterModel,
            stats: tuple[np.ndarray, np.ndarray]) -> tuple[list[str], audio_score.AudioModels]:
    """The ids still in the library among ``ids``, and their index-time models."""
    docs = [d for d in _read(store, ids, audio_score.MODEL_FIELDS) if audio_score.has_models(d)]
    timbre = np.vstack([timbre_of(d, model) for d in docs])
    return [d["_id"] for d in docs], audio_score.build(docs, timbre, *stats)


def _cluster_inputs(store: MongoStore, query: dict) -> tuple[list[str], np.ndarray, list[dict]]:
    """Ids, feature vectors [shape=(n, d), float64] and cluster tags of the matching tracks, in
    ``_id`` order, holding only those (not whole documents: memory at 100k tracks)."""
    ids, raw, tag_list = [], bytearray(), []
    for doc in store.iter_tracks(query, {"features.vector": 1, "tags": 1}, by_id=True):
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


def _album_gains(store: MongoStore) -> None:
    """ReplayGain album gain and peak of every album; only tracks whose values change are written."""
    albums: dict[tuple, list[tuple]] = defaultdict(list)
    for doc in store.iter_tracks({}, {"album": 1, "tags.albumartist": 1, "artist": 1,
                                      "loudness.integrated_lufs": 1, "duration_s": 1,
                                      "replaygain": 1}):
        key = (doc.get("album"), (doc.get("tags") or {}).get("albumartist") or doc.get("artist"))
        gain = doc["replaygain"]
        albums[key].append((doc["_id"], doc["loudness"]["integrated_lufs"], doc["duration_s"],
                            gain["track_peak"], gain.get("album_gain_db"), gain.get("album_peak")))
    updates = []
    for tracks in albums.values():
        gain = round(album_gain([(lufs, seconds) for _, lufs, seconds, *_ in tracks]), 2)
        peak = max(track[3] for track in tracks)
        updates += [(track_id, {"replaygain.album_gain_db": gain, "replaygain.album_peak": peak})
                    for track_id, *_, old_gain, old_peak in tracks
                    if (old_gain, old_peak) != (gain, peak)]
    for start in range(0, len(updates), UPDATE_BATCH):
        store.update_many(updates[start:start + UPDATE_BATCH])
