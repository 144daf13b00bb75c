"""The recommender: candidates from the seed's cluster and LSH collisions, ranked by similarity.

Candidates come from indexed MongoDB queries per seed (same cluster, or any shared band key).
Each is scored by the exact Jaccard similarity of its shingle set with the seed's, blended with
the cosine similarity of their library-standardised timbre vectors (``SHINGLE_WEIGHT``): on the
real soundtracks the blend beats either alone, with and without tags (``bench/quality.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import NotFoundError
from core.features.extract import TIMBRE_MASK
from core.similarity.clustering import ClusterModel
from core.similarity.shingles import jaccard
from core.store.mongo import MongoStore

#: Above this similarity, with the same duration, two tracks are copies of one recording.
DUPLICATE_JACCARD = 0.9
DUPLICATE_SECONDS = 1.0
#: Share of the score from shingle Jaccard; the rest is timbre-vector cosine mapped to [0, 1].
SHINGLE_WEIGHT = 0.35
SEED_FIELDS = {"path": 1, "source_path": 1, "original_path": 1, "shingles": 1, "lsh": 1,
               "cluster": 1, "duration_s": 1, "indexed": 1, "features.vector": 1}


@dataclass(frozen=True)
class Recommendation:
    """One recommended track and why."""

    id: str
    path: str
    title: str | None
    artist: str | None
    album: str | None
    score: float
    jaccard: float
    same_cluster: bool

    def as_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)

    @property
    def why(self) -> str:
        """A short human reason."""
        shared = "same cluster, " if self.same_cluster else ""
        return f"{shared}{self.score:.0%} match, {self.jaccard:.0%} shared sound shingles"


def _shingles(doc: dict) -> np.ndarray:
    return np.frombuffer(doc.get("shingles") or b"", dtype=np.uint64)


def require_indexed(doc: dict) -> dict:
    """Return a seed document read with ``SEED_FIELDS`` if it is indexed.

    Raises
    ------
    NotFoundError
        If its import has not finished indexing it.
    """
    if not doc.get("indexed"):
        raise NotFoundError(f"track {doc.get('path', doc['_id'])!r} is not indexed yet; "
                            "finish its import first")
    return doc


class Recommender:
    """Ranks a library's tracks against seeds.

    Parameters
    ----------
    store : MongoStore
    candidate_limit : int
        Most candidates fetched per seed (bounds the work on huge clusters).
    min_candidates : int
        Fewer than this widens the search to the nearest clusters.
    cache_size : int
        Most candidate documents kept between calls.
    """

    def __init__(self, store: MongoStore, *, candidate_limit: int = 1500,
                 min_candidates: int = 50, cache_size: int = 20000):
        self.store = store
        self.candidate_limit = candidate_limit
        self.min_candidates = min_candidates
        self.cache_size = cache_size
        self._generation: int | None = None
        self._by_id: dict[str, dict] = {}
        self._by_cluster: dict[int, list[str]] = {}
        self._model: tuple[int | None, ClusterModel | None, np.ndarray | None] = (None, None, None)

    def _clustering(self) -> tuple[ClusterModel | None, np.ndarray | None]:
        """The current clustering and its centroids' neighbour order, re-read only on change."""
        current = self.store.get_model("kmeans", {"version": 1})  # the version alone is cheap
        if current is None:
            return None, None
        if self._model[0] != current["version"]:
            model = ClusterModel.from_doc(self.store.get_model("kmeans"))
            centres = model.centroids
            distance = ((centres[:, None] - centres[None]) ** 2).sum(axis=2)
            self._model = (current["version"], model, distance.argsort(axis=1))
        return self._model[1], self._model[2]

    def _nearest_clusters(self, cluster: int, count: int) -> list[int]:
        """The ``count`` clusters whose centroids lie nearest ``cluster``'s (itself first)."""
        _, order = self._clustering()
        if order is None or cluster >= len(order):
            return [cluster]
        return [int(c) for c in order[cluster][:count]]

    def _sync_cache(self) -> None:
        """Drop cached candidates when an import has (re)indexed the library since."""
        generation = self.store.generation()
        if generation != self._generation:
            self._generation = generation
            self._by_id.clear()
            self._by_cluster.clear()

    def _docs(self, ids: list[str]) -> list[dict]:
        missing = [i for i in ids if i not in self._by_id]
        if missing:
            for doc in self.store.candidate_docs(ids=missing):
                self._remember(doc)
        return [self._by_id[i] for i in ids if i in self._by_id]

    def _cluster_docs(self, cluster: int) -> list[dict]:
        ids = self._by_cluster.get(cluster)
        if ids is not None:
            return self._docs(ids)
        docs = self.store.candidate_docs(cluster=cluster, limit=self.candidate_limit)
        for doc in docs:
            self._remember(doc)  # may evict, which forgets every cluster's member list
        self._by_cluster[cluster] = [d["_id"] for d in docs]
        return docs

    def _remember(self, doc: dict) -> None:
        if len(self._by_id) >= self.cache_size:  # bounded: evict the oldest half
            for key in list(self._by_id)[: self.cache_size // 2]:
                del self._by_id[key]
            self._by_cluster.clear()
        self._by_id[doc["_id"]] = doc

    def _candidates(self, seed: dict, excluded: list[str]) -> list[dict]:
        """LSH collisions, then the seed's cluster, widened to the nearest clusters when few.

        Candidate documents are cached per library generation, so a worker serving many sessions
        reads each cluster once instead of once per event; it still never loads the library.
        """
        self._sync_cache()
        skip = set(excluded)
        found: dict[str, dict] = {}

        def take(docs: list[dict]) -> None:
            for doc in docs:
                if doc["_id"] not in skip and doc.get("indexed") and len(found) < self.candidate_limit:
                    found.setdefault(doc["_id"], doc)

        bands, cluster = seed.get("lsh") or [], seed.get("cluster")
        if bands:
            take(self._docs(self.store.lsh_matches(bands)))
        if cluster is None:
            return list(found.values())
        take(self._cluster_docs(cluster))
        probes = 2
        while len(found) < self.min_candidates:
            wider = self._nearest_clusters(cluster, probes)
            if len(wider) < probes:
                break
            for other in wider:
                take(self._cluster_docs(other))
            probes *= 2
        return list(found.values())

    def seed(self, key: str) -> dict:
        """Look up a seed by id or path.

        Raises
        ------
        NotFoundError
            If it is not in the library or not indexed yet.
        """
        return require_indexed(self.store.get_track(key, SEED_FIELDS))

    def recommend(self, seeds: list[str], *, k: int = 5, exclude: tuple[str, ...] = (),
                  max_per_artist: int | None = 2) -> list[Recommendation]:
        """Top ``k`` tracks for one or more seeds.

        Parameters
        ----------
        seeds : list of str
            Track ids or paths; a candidate's score is its best similarity to any seed.
        k : int
            How many to return.
        exclude : tuple of str
            Track ids never to return (recently played, already queued).
        max_per_artist : int or None
            Cap per artist, for variety; ``None`` for no cap.

        Returns
        -------
        list of Recommendation
            Best first; never a seed or another copy of a seed's recording.
        """
        return self.rank([self.seed(s) for s in seeds], k=k, exclude=exclude,
                         max_per_artist=max_per_artist)

    def rank(self, seed_docs: list[dict], *, k: int = 5, exclude: tuple[str, ...] = (),
             max_per_artist: int | None = 2) -> list[Recommendation]:
        """``recommend`` for seeds already looked up with ``seed`` (no second lookup)."""
        excluded = sorted({d["_id"] for d in seed_docs} | set(exclude))
        model, _ = self._clustering()
        best: dict[str, _Scored] = {}
        for seed in seed_docs:
            seed_set, seed_timbre = _shingles(seed), _timbre(seed, model)
            for cand in self._candidates(seed, excluded):
                shared = jaccard(seed_set, _shingles(cand))
                if _same_recording(seed, cand, shared):
                    continue
                score = shared
                if seed_timbre is not None:
                    cosine = float(seed_timbre @ _timbre(cand, model))
                    score = SHINGLE_WEIGHT * shared + (1 - SHINGLE_WEIGHT) * (cosine + 1) / 2
                scored = _Scored(score, shared, cand.get("cluster") == seed.get("cluster"), cand)
                if cand["_id"] not in best or score > best[cand["_id"]].score:
                    best[cand["_id"]] = scored
        ranked = sorted(best.values(), key=lambda item: (-item.score, item.doc["_id"]))
        return _diversify(ranked, k, max_per_artist)


@dataclass(frozen=True)
class _Scored:
    score: float
    jaccard: float
    same_cluster: bool
    doc: dict


def _timbre(doc: dict, model: ClusterModel | None) -> np.ndarray | None:
    """Unit-length timbre vector, standardised with the library statistics of the clustering.

    Chroma is left out: it follows the key a piece is in, not how it sounds.
    """
    raw = (doc.get("features") or {}).get("vector")
    if model is None or raw is None:
        return None
    z = ((np.frombuffer(raw, dtype=np.float32) - model.mean) / model.scale)[TIMBRE_MASK]
    return z / (np.linalg.norm(z) + 1e-12)


def _same_recording(seed: dict, cand: dict, score: float) -> bool:
    sources = {seed.get("source_path"), seed.get("original_path"), seed.get("path")} - {None}
    if sources & {cand.get("original_path"), cand.get("path")}:
        return True
    close = abs((seed.get("duration_s") or 0) - (cand.get("duration_s") or 0)) < DUPLICATE_SECONDS
    return score >= DUPLICATE_JACCARD and close


def _diversify(ranked: list[_Scored], k: int, max_per_artist: int | None) -> list[Recommendation]:
    picked: list[_Scored] = []
    held_back: list[_Scored] = []
    per_artist: Counter = Counter()
    for item in ranked:
        if len(picked) == k:
            break
        artist = (item.doc.get("artist") or "").strip().lower()
        if max_per_artist is not None and artist and per_artist[artist] >= max_per_artist:
            held_back.append(item)
            continue
        per_artist[artist] += 1
        picked.append(item)
    # A library of few artists still fills the list: variety first, then the best of the rest.
    picked += held_back[: k - len(picked)]
    picked.sort(key=lambda item: (-item.score, item.doc["_id"]))
    return [Recommendation(s.doc["_id"], s.doc["path"], s.doc.get("title"), s.doc.get("artist"),
                           s.doc.get("album"), round(s.score, 4), round(s.jaccard, 4), s.same_cluster)
            for s in picked]
