"""The MongoDB store: tracks, segment frames, plays, recommendations and models.

Every write is an idempotent upsert keyed by a natural id, so re-imports and re-delivered events
change nothing twice. Works unchanged against a real MongoDB or the local SecantusDB server.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pymongo
from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import PyMongoError

from core.errors import NotFoundError, StoreError

SCHEMA_VERSION = 1
#: Fields a recommendation needs from a candidate; everything heavy stays on the server.
CANDIDATE_FIELDS = {"_id": 1, "path": 1, "original_path": 1, "title": 1, "artist": 1, "album": 1,
                    "cluster": 1, "shingles": 1, "duration_s": 1, "indexed": 1,
                    "features.vector": 1}


def _guard(action: str):
    """Turn driver errors into ``StoreError`` with the action that failed."""

    def wrap(func):
        def inner(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except PyMongoError as exc:
                raise StoreError(f"database error while {action}: {exc}") from exc

        inner.__name__, inner.__doc__ = func.__name__, func.__doc__
        return inner

    return wrap


class MongoStore:
    """Encore's data in one MongoDB database.

    Parameters
    ----------
    uri : str
        MongoDB connection string.
    db_name : str
        Database name.
    timeout_ms : int
        Server selection timeout: how long an operation waits for an unreachable server.
    """

    def __init__(self, uri: str, db_name: str = "encore", *, timeout_ms: int = 5000):
        self.client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=timeout_ms,
                                          connectTimeoutMS=timeout_ms, tz_aware=True)
        self.db = self.client[db_name]
        self.tracks = self.db.tracks
        self.frames = self.db.frames
        self.plays = self.db.plays
        self.recommendations = self.db.recommendations
        self.clusters = self.db.clusters
        self.meta = self.db.meta

    @_guard("preparing the database")
    def ensure_schema(self) -> None:
        """Create indexes and record the schema version (idempotent)."""
        self.tracks.create_index([("path", ASCENDING)], unique=True)
        self.tracks.create_index([("source_path", ASCENDING)])
        self.tracks.create_index([("cluster", ASCENDING)])
        self.tracks.create_index([("lsh", ASCENDING)])
        self.tracks.create_index([("indexed", ASCENDING)])
        self.plays.create_index([("session_id", ASCENDING), ("ts", DESCENDING)])
        self.plays.create_index([("event_id", ASCENDING)], unique=True)
        self.recommendations.create_index([("session_id", ASCENDING)], unique=True)
        self.meta.update_one({"_id": "schema"}, {"$set": {"version": SCHEMA_VERSION}}, upsert=True)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    # -- tracks -------------------------------------------------------------------------------
    @_guard("saving a track")
    def upsert_track(self, doc: dict, frames: bytes | None = None, frames_shape=None) -> None:
        """Insert or replace a track's analysis (and its segment frames)."""
        self.tracks.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        if frames is not None:
            self.frames.replace_one({"_id": doc["_id"]},
                                    {"_id": doc["_id"], "data": frames, "shape": frames_shape},
                                    upsert=True)

    @_guard("reading file states")
    def file_states(self) -> dict[str, tuple[int, float]]:
        """``{path: (size, mtime)}`` of every analysed file, for incremental imports."""
        cursor = self.tracks.find({}, {"source_path": 1, "file.size": 1, "file.mtime": 1})
        return {d["source_path"]: (d["file"]["size"], d["file"]["mtime"]) for d in cursor
                if "source_path" in d}

    @_guard("reading a track")
    def get_track(self, key: str, projection: dict | None = None) -> dict:
        """A track by id, by path (original or copy).

        Raises
        ------
        NotFoundError
            If no track has that id or path.
        """
        if not isinstance(key, str):
            raise NotFoundError(f"not a track id: {key!r}")
        # One indexed lookup per field, not an $or: servers without index union (SecantusDB)
        # answer an $or with a collection scan.
        for field in ("_id", "path", "source_path"):
            doc = self.tracks.find_one({field: key}, projection)
            if doc is not None:
                return doc
        raise NotFoundError(f"no track with id or path {key!r} in the library")

    @_guard("reading tracks")
    def iter_tracks(self, query: dict | None = None, projection: dict | None = None,
                    batch_size: int = 500) -> Iterator[dict]:
        """Stream tracks matching ``query``."""
        yield from self.tracks.find(query or {}, projection, batch_size=batch_size)

    @_guard("counting tracks")
    def count_tracks(self, query: dict | None = None) -> int:
        """Number of tracks matching ``query``."""
        return self.tracks.count_documents(query or {})

    @_guard("reading segment frames")
    def iter_frames(self, ids: Iterable[str] | None = None) -> Iterator[dict]:
        """Stream stored segment-frame matrices."""
        query = {"_id": {"$in": list(ids)}} if ids is not None else {}
        # Sorted, so that models learnt from them do not depend on import completion order
        yield from self.frames.find(query, batch_size=200, sort=[("_id", ASCENDING)])

    @_guard("updating tracks")
    def update_many(self, updates: list[tuple[str, dict]]) -> None:
        """Apply ``$set`` updates ``[(track_id, fields), ...]`` in one bulk write."""
        if updates:
            self.tracks.bulk_write([UpdateOne({"_id": i}, {"$set": f}) for i, f in updates],
                                   ordered=False)

    @_guard("finding LSH collisions")
    def lsh_matches(self, bands: list[str]) -> list[str]:
        """Ids of the tracks sharing any of ``bands`` (multikey index on ``lsh``)."""
        return [d["_id"] for d in self.tracks.find({"lsh": {"$in": bands}}, {"_id": 1})]

    @_guard("reading candidates")
    def candidate_docs(self, *, ids: list[str] | None = None, cluster: int | None = None,
                       limit: int = 0) -> list[dict]:
        """Ranking fields of the given tracks, or of one cluster's members (indexed lookups)."""
        query = {"_id": {"$in": ids}} if ids is not None else {"cluster": cluster}
        return list(self.tracks.find(query, CANDIDATE_FIELDS, limit=limit))

    @_guard("reading the library generation")
    def generation(self) -> int:
        """A counter bumped whenever indexing changed the library (for caches)."""
        doc = self.meta.find_one({"_id": "library"}, {"generation": 1})
        return doc["generation"] if doc else 0

    @_guard("bumping the library generation")
    def bump_generation(self) -> None:
        """Tell caches that tracks were added or re-indexed."""
        self.meta.update_one({"_id": "library"}, {"$inc": {"generation": 1}}, upsert=True)

    # -- models -------------------------------------------------------------------------------
    @_guard("reading a model")
    def get_model(self, name: str, projection: dict | None = None) -> dict | None:
        """A stored model document (``codebook`` or ``kmeans``), or ``None``."""
        return self.clusters.find_one({"_id": name}, projection)

    @_guard("saving a model")
    def put_model(self, name: str, doc: dict) -> None:
        """Store a model document, bumping its version."""
        current = self.clusters.find_one({"_id": name}, {"version": 1}) or {}
        version = current.get("version", 0) + 1
        self.clusters.replace_one({"_id": name}, {**doc, "_id": name, "version": version},
                                  upsert=True)

    # -- plays and recommendations ------------------------------------------------------------
    @_guard("recording a play")
    def record_play(self, event: dict) -> bool:
        """Store a play/skip event once (keyed by ``event_id``); ``False`` if already stored."""
        result = self.plays.update_one({"event_id": event["event_id"]}, {"$setOnInsert": event},
                                       upsert=True)
        return result.upserted_id is not None

    @_guard("reading plays")
    def recent_track_ids(self, session_id: str, limit: int = 50) -> list[str]:
        """Tracks the session played or skipped most recently."""
        cursor = self.plays.find({"session_id": session_id}, {"track_id": 1},
                                 sort=[("ts", DESCENDING)], limit=limit)
        return [d["track_id"] for d in cursor]

    @_guard("saving recommendations")
    def save_recommendations(self, session_id: str, doc: dict) -> None:
        """Replace the session's latest recommendations."""
        self.recommendations.replace_one({"session_id": session_id},
                                         {**doc, "session_id": session_id}, upsert=True)

    @_guard("reading recommendations")
    def get_recommendations(self, session_id: str) -> dict | None:
        """The session's latest recommendations, or ``None``."""
        return self.recommendations.find_one({"session_id": session_id}, {"_id": 0})
