"""The recommender: candidates from the seed's cluster and LSH collisions, ranked by similarity.

Candidates come from indexed MongoDB queries per seed (same cluster, or any shared band key).
Each is scored by ``pool.Pool.similarity``: the exact Jaccard similarity of its shingle set with
the seed's blended with hubness-scaled timbre, frame-MFCC Gaussian and loudness-contour distances
(``audio_score``; the older shingles + timbre cosine blend for a library indexed before those
models), as measured on the real soundtracks by ``bench/quality.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

import numpy as np

from core.errors import NotFoundError
from core.similarity.clustering import ClusterModel
from core.similarity.pool import Pool, Similarity
from core.similarity.reasons import explain, loudness_of
from core.store.mongo import MongoStore

SEED_FIELDS = {"path": 1, "source_path": 1, "original_path": 1, "shingles": 1, "lsh": 1,
               "cluster": 1, "duration_s": 1, "indexed": 1, "features.vector": 1,
               "features.timbre_gauss": 1, "features.stereo_width_db": 1, "audio": 1}


@dataclass(frozen=True)
class Recommendation:
    """One recommended track, its score and a plain-language reason (numbers in ``details``)."""

    id: str
    path: str
    title: str | None
    artist: str | None
    album: str | None
    score: float
    why: str
    details: dict

    def as_dict(self) -> dict:
        """Plain dict for JSON (``details`` shared, not copied)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


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
        self._size: tuple[int | None, int] = (None, 0)
        self._pinned = False

    def model(self) -> ClusterModel | None:
        """The current clustering (its statistics standardise timbre vectors), or ``None``."""
        return self._clustering()[0]

    def library_size(self) -> int:
        """Number of indexed tracks, counted once per library generation."""
        self._sync_cache()
        if self._size[0] != self._generation:
            self._size = (self._generation, self.store.count_tracks({"indexed": True}))
        return self._size[1]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Check the library generation and clustering once for everything inside the block.

        One answer may search around several tracks; without this each search would ask the
        database again whether the library changed (two round trips each).
        """
        if self._pinned:  # nested in another snapshot: that one has checked
            yield
            return
        self._sync_cache()
        self._clustering()
        self._pinned = True
        try:
            yield
        finally:
            self._pinned = False

    def _clustering(self) -> tuple[ClusterModel | None, np.ndarray | None]:
        """The current clustering and its centroids' neighbour order, re-read only on change."""
        if self._pinned:
            return self._model[1], self._model[2]
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
        if self._pinned:
            return
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
        packed = (None if self._generation is None
                  else self.store.cluster_block(cluster, self._generation))
        docs = (self.store.candidate_docs(cluster=cluster, limit=self.candidate_limit)
                if packed is None else packed[: self.candidate_limit or None])
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

    def candidates(self, seed: dict, excluded: list[str] | set[str], *,
                   limit: int | None = None, minimum: int | None = None) -> list[dict]:
        """LSH collisions, then the seed's cluster, widened to the nearest clusters when few.

        Candidate documents are cached per library generation, so a worker serving many sessions
        reads each cluster once instead of once per event; it still never loads the library.

        Parameters
        ----------
        seed : dict
            A track read with ``SEED_FIELDS``.
        excluded : list or set of str
            Ids never to return.
        limit : int, optional
            Most candidates (default ``candidate_limit``).
        minimum : int, optional
            Fewer than this widens the search (default ``min_candidates``).
        """
        self._sync_cache()
        skip = set(excluded)
        limit = limit or self.candidate_limit
        found: dict[str, dict] = {}

        def take(docs: list[dict]) -> None:
            for doc in docs:
                if doc["_id"] not in skip and doc.get("indexed") and len(found) < limit:
                    found.setdefault(doc["_id"], doc)

        bands, cluster = seed.get("lsh") or [], seed.get("cluster")
        matches = self.store.lsh_matches(bands) if bands else []
        # The cluster is read before the collisions' documents, most of which are its members:
        # read after, they would cost a second, slow $in query for documents it brings anyway.
        members = [] if cluster is None else self._cluster_docs(cluster)
        take(self._docs(matches))
        if cluster is None:
            return list(found.values())
        take(members)
        probes = 2
        while len(found) < min(minimum or self.min_candidates, limit):
            wider = self._nearest_clusters(cluster, probes)
            for other in wider:
                take(self._cluster_docs(other))
            if len(wider) < probes:  # every cluster has been searched
                break
            probes *= 2
        return list(found.values())

    def cached(self, track_id: str) -> dict | None:
        """A track's candidate document if one is cached for the current library generation
        (read with ``CANDIDATE_FIELDS``), else ``None``; costs no query inside ``snapshot``."""
        self._sync_cache()
        return self._by_id.get(track_id)

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
        best: dict[str, Scored] = {}
        for seed in seed_docs:
            pool = Pool(self.candidates(seed, excluded), self.model())
            sim = pool.similarity(seed)
            copies = pool.copies_of(seed, sim.jaccard)
            for i, cand in enumerate(pool.docs):
                if copies[i]:
                    continue
                scored = Scored.of(sim, i, cand, seed)
                if cand["_id"] not in best or scored.score > best[cand["_id"]].score:
                    best[cand["_id"]] = scored
        ranked = sorted(best.values(), key=lambda item: (-item.score, item.doc["_id"]))
        return self.explain(_diversify(ranked, k, max_per_artist))

    def explain(self, picks: list[Scored]) -> list[Recommendation]:
        """Recommendations with plain-language reasons (one loudness query for all)."""
        loudness = loudness_of(self.store, [d for p in picks for d in (p.doc, p.reference)])
        out = []
        for p in picks:
            why, details = explain(p.reference, p.doc, cosine=p.cosine, jaccard=p.jaccard,
                                   loudness=loudness)
            out.append(Recommendation(p.doc["_id"], p.doc["path"], p.doc.get("title"),
                                      p.doc.get("artist"), p.doc.get("album"), round(p.score, 4),
                                      why, details | p.extra))
        return out


@dataclass(frozen=True)
class Scored:
    """A candidate's score and the reference track that explains it.

    Attributes
    ----------
    score : float
    doc : dict
        The candidate.
    reference : dict
        The seed (or session track) it resembles most.
    jaccard : float
    cosine : float or None
        Timbre cosine with ``reference`` (``None`` without timbre vectors).
    extra : dict
        More numbers for ``details`` (e.g. a skip penalty).
    """

    score: float
    doc: dict
    reference: dict
    jaccard: float
    cosine: float | None
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, sim: Similarity, i: int, doc: dict, reference: dict, **extra) -> Scored:
        """The ``i``-th candidate of a pool scored against ``reference``."""
        cosine = None if sim.cosine is None else float(sim.cosine[i])
        return cls(float(sim.score[i]), doc, reference, float(sim.jaccard[i]), cosine, extra)


def _diversify(ranked: list[Scored], k: int, max_per_artist: int | None) -> list[Scored]:
    picked: list[Scored] = []
    held_back: list[Scored] = []
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
    return picked
