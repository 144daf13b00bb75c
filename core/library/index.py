"""Library-wide models after analysis: audio words, shingles, MinHash/LSH, K-means, album gain.

Runs after the per-file stage. The codebook and the clustering are refitted only when the library
has grown substantially; otherwise new tracks are indexed with the stored models.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from core.audio.loudness import album_gain
from core.similarity import clustering, minhash, shingles
from core.store.mongo import MongoStore

Progress = Callable[[int, int, str], None]


def _frames_of(doc: dict) -> np.ndarray:
    return np.frombuffer(doc["data"], dtype=np.float32).reshape(doc["shape"])


def _codebook(store: MongoStore, n_tracks: int) -> tuple[shingles.Codebook, bool]:
    stored = store.get_model("codebook")
    if stored is not None and n_tracks < stored["fitted_on"] * (1 + clustering.REFIT_GROWTH):
        return shingles.Codebook.from_doc(stored), False
    frame_sets = [_frames_of(d) for d in store.iter_frames()]
    book = shingles.learn_codebook(frame_sets)
    store.put_model("codebook", book.to_doc() | {"fitted_on": len(frame_sets)})
    return book, True


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
    book, refit_words = _codebook(store, n_tracks)
    pending = None if refit_words else [d["_id"] for d in store.iter_tracks({"indexed": False},
                                                                           {"_id": 1})]
    updates, done = [], 0
    for doc in store.iter_frames(pending):
        sig_set = shingles.shingle_set(shingles.to_words(_frames_of(doc), book))
        sig = minhash.signature(sig_set)
        updates.append((doc["_id"], {"shingles": sig_set.tobytes(), "minhash": sig.tobytes(),
                                     "lsh": minhash.band_keys(sig)}))
        done += 1
        if len(updates) >= 200:
            store.update_many(updates)
            updates = []
            report(done, len(pending) if pending is not None else n_tracks, "shingles and MinHash")
    store.update_many(updates)
    clusters = _cluster(store, n_tracks, report)
    _album_gains(store)
    store.bump_generation()
    return {"indexed": done, "codebook_refit": refit_words, **clusters}


def _cluster(store: MongoStore, n_tracks: int, report: Progress) -> dict:
    stored = store.get_model("kmeans")
    model = clustering.ClusterModel.from_doc(stored) if stored else None
    refit = clustering.needs_refit(model, n_tracks)
    query = {} if refit else {"cluster": None}
    docs = sorted(store.iter_tracks(query, {"features.vector": 1, "tags": 1}), key=lambda d: d["_id"])
    if docs:
        report(0, len(docs), "clustering")
        vectors = np.vstack([np.frombuffer(d["features"]["vector"], dtype=np.float32) for d in docs])
        tag_list = [_cluster_tags(d["tags"]) for d in docs]
        if refit:
            model, labels = clustering.fit(vectors.astype(np.float64), tag_list)
            store.put_model("kmeans", model.to_doc())
        else:
            labels = clustering.assign(model, vectors.astype(np.float64), tag_list)
        store.update_many([(d["_id"], {"cluster": int(c), "indexed": True})
                           for d, c in zip(docs, labels, strict=True)])
    store.tracks.update_many({"indexed": False, "cluster": {"$ne": None}}, {"$set": {"indexed": True}})
    return {"cluster_refit": refit, "k": model.k if model else 0}


def _cluster_tags(tags: dict) -> dict:
    # A folder-name album is a guess, not a tag: only real tags pull tracks together.
    return {"artist": tags.get("artist"), "genre": tags.get("genre"),
            "album": tags.get("album") if tags.get("tagged") else None}


def _album_gains(store: MongoStore) -> None:
    albums: dict[tuple, list[dict]] = defaultdict(list)
    for doc in store.iter_tracks({}, {"album": 1, "tags.albumartist": 1, "artist": 1,
                                      "loudness": 1, "duration_s": 1, "replaygain": 1}):
        key = (doc.get("album"), (doc.get("tags") or {}).get("albumartist") or doc.get("artist"))
        albums[key].append(doc)
    updates = []
    for docs in albums.values():
        gain = album_gain([(d["loudness"]["integrated_lufs"], d["duration_s"]) for d in docs])
        peak = max(d["replaygain"]["track_peak"] for d in docs)
        updates += [(d["_id"], {"replaygain.album_gain_db": round(gain, 2),
                                "replaygain.album_peak": peak}) for d in docs]
    store.update_many(updates)
