"""The MongoDB store: tracks, segment frames, plays, recommendations, models and locks (the
packed cluster blocks are ``core.store.cluster_blocks``, mixed in).

Every write is an idempotent upsert keyed by a natural id, so re-imports and re-delivered events
change nothing twice. Writes wait for the journal (``j=True``): an acknowledged write survives a
database crash (the local SecantusDB lost acknowledged writes on SIGKILL without it; the cost
there is about 0.4 ms per single write and nothing measurable per bulk write). Works unchanged
against a real MongoDB or the local SecantusDB server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bson
import pymongo
from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.operations import ReplaceOne
from pymongo.write_concern import WriteConcern

from core.errors import DocumentError, NotFoundError
from core.store.cluster_blocks import CANDIDATE_FIELDS, ClusterBlocks
from core.store.driver import _guard, id_chunks
from core.store.paths import decode_paths, encode_paths, is_utf8, path_query, with_raw_fields

SCHEMA_VERSION = 2
#: Largest document MongoDB accepts (16 MiB).
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
#: Frame matrices per cursor batch: what a reader holds at once (a long track's is ~0.5 MB).
FRAMES_BATCH = 16


@dataclass(frozen=True)
class FileState:
    """What a stored, complete track was made from: its file, the import options and the version
    of the feature extractor that analysed it (``core.features.extract.FEATURES_VERSION``)."""

    size: int
    mtime: float
    options: str | None
    copy_path: str | None
    features_version: int = 1


def _checked(doc: dict) -> dict:
    """``doc`` if BSON can hold it, else ``DocumentError`` saying why (huge ints, bad text...)."""
    try:
        size = len(bson.encode(doc))
    except Exception as exc:  # bson raises assorted types on odd values
        raise DocumentError(f"cannot be stored ({type(exc).__name__}: {exc})") from exc
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"too large to store ({size / 2**20:.1f} MiB, the limit is 16 MiB)")
    return doc


def _now() -> datetime:
    return datetime.now(UTC)


class MongoStore(ClusterBlocks):
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
        self.db = self.client.get_database(db_name, write_concern=WriteConcern(j=True))
        self.tracks = self.db.tracks
        self.frames = self.db.frames
        self.plays = self.db.plays
        self.recommendations = self.db.recommendations
        self.clusters = self.db.clusters
        self.meta = self.db.meta
        self.blocks = self.db.cluster_blocks
        self._packed: tuple[int, dict[str, int]] | None = None  # ``_packings`` of one generation

    @_guard("preparing the database")
    def ensure_schema(self) -> None:
        """Create indexes and record the schema version (idempotent)."""
        self.tracks.create_index([("path", ASCENDING)], unique=True)
        self.tracks.create_index([("source_path", ASCENDING)])
        for raw in ("path_raw", "source_path_raw"):
            self.tracks.create_index([(raw, ASCENDING)], sparse=True)
        self.tracks.create_index([("cluster", ASCENDING)])
        self.tracks.create_index([("lsh", ASCENDING)])
        self.tracks.create_index([("indexed", ASCENDING)])
        self.blocks.create_index([("cluster", ASCENDING), ("generation", ASCENDING)])
        self.plays.create_index([("session_id", ASCENDING), ("ts", DESCENDING)])
        self.plays.create_index([("event_id", ASCENDING)], unique=True)
        self.recommendations.create_index([("session_id", ASCENDING)], unique=True)
        # The web page's latest answer of all sessions (with players running it asks the unique
        # session_id index for their one document each: a compound index would add nothing).
        self.recommendations.create_index([("computed_at", DESCENDING)])
        self.meta.update_one({"_id": "schema"}, {"$set": {"version": SCHEMA_VERSION}}, upsert=True)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    # -- tracks -------------------------------------------------------------------------------
    @_guard("saving tracks")
    def put_tracks(self, tracks: list[tuple[dict, bytes, list[int]]]) -> dict[str, str]:
        """Store analysed tracks: all segment frames first, then each track document last.

        A track document is written only after its frames are stored and is marked ``complete``,
        so a crash in between leaves no track that looks finished without its parts.

        Parameters
        ----------
        tracks : list of (doc, frames, shape)
            Track documents with their segment-frame matrix (float32 bytes) and its shape.

        Returns
        -------
        dict
            ``{track_id: reason}`` of the tracks the database refused (a value it cannot hold, a
            path another track has); every other track is stored.
        """
        refused: dict[str, str] = {}
        frames, docs = {}, {}
        for doc, data, shape in tracks:
            try:
                docs[doc["_id"]] = _checked(encode_paths({**doc, "complete": True}))
                frames[doc["_id"]] = _checked({"_id": doc["_id"], "data": data, "shape": shape})
            except (DocumentError, UnicodeError) as exc:
                refused[doc["_id"]] = str(exc)
                docs.pop(doc["_id"], None)
        # the clusters whose packed blocks hold these tracks' older versions, or will miss them
        self.mark_dirty(self.clusters_of(list(docs))
                        | {d["cluster"] for d in docs.values() if d.get("cluster") is not None})
        refused |= self._replace_all(self.frames, frames)
        refused |= self._replace_all(self.tracks, {i: d for i, d in docs.items() if i not in refused})
        if refused:  # an older version of a refused track no longer matches its frames
            self.frames.delete_many({"_id": {"$in": list(refused)}})
            self.tracks.update_many({"_id": {"$in": list(refused)}},
                                    {"$set": {"complete": False, "indexed": False}})
        return refused

    @staticmethod
    def _replace_all(collection, docs: dict[str, dict]) -> dict[str, str]:
        """Upsert ``{id: doc}`` in one unordered bulk write; ``{id: reason}`` of refused ones."""
        if not docs:
            return {}
        ids = list(docs)
        try:
            collection.bulk_write([ReplaceOne({"_id": i}, docs[i], upsert=True) for i in ids],
                                  ordered=False)
        except BulkWriteError as exc:
            if exc.details.get("writeConcernErrors") or not exc.details.get("writeErrors"):
                raise
            return {ids[e["index"]]: _refusal(e) for e in exc.details["writeErrors"]}
        return {}

    @_guard("marking tracks incomplete")
    def mark_incomplete(self, ids: list[str]) -> None:
        """Have the next import analyse these tracks again (a part of them is missing)."""
        if ids:
            self.mark_dirty(self.clusters_of(ids))
            self.tracks.update_many({"_id": {"$in": ids}},
                                    {"$set": {"complete": False, "indexed": False}})

    @_guard("removing tracks")
    def remove_tracks(self, ids: list[str]) -> None:
        """Drop tracks and their frames (their clusters are packed again at the next packing)."""
        if ids:
            self.mark_dirty(self.clusters_of(ids))
            for chunk in id_chunks(ids):
                self.tracks.delete_many({"_id": {"$in": chunk}})
                self.frames.delete_many({"_id": {"$in": chunk}})

    @_guard("reading file states")
    def file_states(self) -> dict[str, FileState]:
        """``{path: FileState}`` of every complete track, for incremental imports."""
        cursor = self.tracks.find({"complete": True}, {
            "source_path": 1, "source_path_raw": 1, "file.size": 1, "file.mtime": 1,
            "options": 1, "copy.path": 1, "features.version": 1})
        states = {}
        for doc in map(decode_paths, cursor):
            if "source_path" in doc and "file" in doc:
                states[doc["source_path"]] = FileState(
                    doc["file"]["size"], doc["file"]["mtime"], doc.get("options"),
                    (doc.get("copy") or {}).get("path"),
                    (doc.get("features") or {}).get("version", 1))
        return states

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
        ids = ("_id",) if is_utf8(key) else ()  # ids are hex: a non-UTF-8 key is a path
        for field in (*ids, "path", "source_path"):
            query = {field: key} if field == "_id" else path_query(field, key)
            doc = self.tracks.find_one(query, with_raw_fields(projection))
            if doc is not None:
                return decode_paths(doc)
        raise NotFoundError(f"no track with id or path {key!r} in the library")

    @_guard("reading tracks")
    def iter_tracks(self, query: dict | None = None, projection: dict | None = None,
                    batch_size: int = 500, *, by_id: bool = False) -> Iterator[dict]:
        """Stream tracks matching ``query`` (paths as the filesystem has them), by ``_id`` if
        ``by_id``."""
        cursor = self.tracks.find(query or {}, with_raw_fields(projection), batch_size=batch_size,
                                  sort=[("_id", ASCENDING)] if by_id else None)
        yield from map(decode_paths, cursor)

    @_guard("counting tracks")
    def count_tracks(self, query: dict | None = None) -> int:
        """Number of tracks matching ``query``."""
        return self.tracks.count_documents(query or {})

    @_guard("reading segment frames")
    def iter_frames(self, ids: Iterable[str] | None = None) -> Iterator[dict]:
        """Stream stored segment-frame matrices (of the given tracks, or all), in ``_id`` order."""
        # Sorted, so that models learnt from them do not depend on import completion order
        if ids is None:
            yield from self.frames.find({}, batch_size=FRAMES_BATCH, sort=[("_id", ASCENDING)])
            return
        for chunk in id_chunks(sorted(ids)):
            yield from self.frames.find({"_id": {"$in": chunk}}, batch_size=FRAMES_BATCH,
                                        sort=[("_id", ASCENDING)])

    @_guard("updating tracks")
    def update_many(self, updates: list[tuple[str, dict]]) -> None:
        """Apply ``$set`` updates ``[(track_id, fields), ...]`` in one bulk write (the clusters
        of the tracks whose packed fields change are packed again at the next packing)."""
        self.mark_updated(updates)
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
        """Ranking fields of the given tracks (all of them: ``limit`` applies to a cluster), or of
        one cluster's members (indexed lookups)."""
        fields = with_raw_fields(CANDIDATE_FIELDS)
        if ids is not None:
            return [decode_paths(d) for chunk in id_chunks(ids)
                    for d in self.tracks.find({"_id": {"$in": chunk}}, fields)]
        return [decode_paths(d) for d in self.tracks.find({"cluster": cluster}, fields, limit=limit)]

    @_guard("reading the library generation")
    def generation(self) -> int:
        """A counter bumped whenever indexing changed the library (for caches)."""
        doc = self.meta.find_one({"_id": "library"}, {"generation": 1})
        return doc["generation"] if doc else 0

    @_guard("bumping the library generation")
    def bump_generation(self) -> int:
        """Tell caches that tracks were added or re-indexed; returns the new generation."""
        doc = self.meta.find_one_and_update({"_id": "library"}, {"$inc": {"generation": 1}},
                                            upsert=True, return_document=ReturnDocument.AFTER)
        return doc["generation"]

    # -- models -------------------------------------------------------------------------------
    @_guard("reading a model")
    def get_model(self, name: str, projection: dict | None = None) -> dict | None:
        """A stored model document (``codebook`` or ``kmeans``), or ``None``."""
        return self.clusters.find_one({"_id": name}, projection)

    @_guard("saving a model")
    def put_model(self, name: str, doc: dict) -> int:
        """Store a model document and bump its version in the same atomic update.

        Returns
        -------
        int
            The new version (two concurrent writers never get the same one).
        """
        fields = {k: v for k, v in doc.items() if k not in ("_id", "version")}
        # Create the document apart first: SecantusDB answered racing upserts of one new _id with
        # no document at all; an update of an existing one always returns it.
        with contextlib.suppress(DuplicateKeyError):
            self.clusters.update_one({"_id": name}, {"$setOnInsert": {"version": 0}}, upsert=True)
        stored = self.clusters.find_one_and_update(
            {"_id": name}, {"$set": fields, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER, projection={"version": 1})
        return stored["version"]

    # -- locks --------------------------------------------------------------------------------
    @_guard("taking a lock")
    def acquire_lock(self, name: str, owner: dict, ttl_s: float) -> dict | None:
        """Take lock ``name`` for ``owner`` if it is free, expired or already ``owner``'s.

        Parameters
        ----------
        name : str
            What is locked (e.g. ``"import"``).
        owner : dict
            Who takes it; ``owner["id"]`` identifies the holder.
        ttl_s : float
            Seconds until the lock expires unless renewed (``renew_lock``).

        Returns
        -------
        dict or None
            ``None`` when taken; else the lock document of its current holder.
        """
        now = _now()
        key = f"lock:{name}"
        free = {"$or": [{"expires": {"$lt": now}}, {"owner.id": owner["id"]}]}
        try:
            self.meta.update_one({"_id": key, **free}, {"$set": {
                "owner": owner, "expires": now + timedelta(seconds=ttl_s)}}, upsert=True)
        except DuplicateKeyError:  # held by someone else and not expired
            return self.meta.find_one({"_id": key}) or {"_id": key, "owner": {}, "expires": now}
        return None

    @_guard("taking over a lock")
    def take_over_lock(self, name: str, holder_id: str, owner: dict, ttl_s: float) -> bool:
        """Take lock ``name`` from a holder known to be gone, unless someone else was quicker."""
        result = self.meta.update_one({"_id": f"lock:{name}", "owner.id": holder_id}, {"$set": {
            "owner": owner, "expires": _now() + timedelta(seconds=ttl_s)}})
        return result.matched_count == 1

    @_guard("renewing a lock")
    def renew_lock(self, name: str, owner_id: str, ttl_s: float) -> bool:
        """Extend ``owner_id``'s lock; ``False`` if it no longer holds it."""
        result = self.meta.update_one({"_id": f"lock:{name}", "owner.id": owner_id},
                                      {"$set": {"expires": _now() + timedelta(seconds=ttl_s)}})
        return result.matched_count == 1

    @_guard("releasing a lock")
    def release_lock(self, name: str, owner_id: str) -> None:
        """Give lock ``name`` up (only if ``owner_id`` holds it)."""
        self.meta.delete_one({"_id": f"lock:{name}", "owner.id": owner_id})

    # -- plays and recommendations ------------------------------------------------------------
    @_guard("recording a play")
    def record_play(self, event: dict) -> bool:
        """Store a play/skip event once (keyed by ``event_id``); ``False`` if already stored."""
        result = self.plays.update_one({"event_id": event["event_id"]}, {"$setOnInsert": event},
                                       upsert=True)
        return result.upserted_id is not None

    @_guard("reading plays")
    def recent_track_ids(self, session_id: str, limit: int = 50) -> list[str]:
        """Tracks the session played or skipped most recently (likes and seeds are not listening)."""
        cursor = self.plays.find({"session_id": session_id, "type": {"$in": ["play", "skip"]}},
                                 {"track_id": 1},
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


def _refusal(error: dict) -> str:
    """A user's reason for one refused write of a bulk write."""
    if error.get("code") == 11000:
        return f"another track already has this path ({error.get('keyValue') or error.get('errmsg')})"
    return f"the database refused it: {error.get('errmsg', error)}"
