"""Playlists in MongoDB: named, ordered lists of track ids (a track may appear more than once).

One document per playlist in the ``playlists`` collection:
``{"_id", "name", "tracks": [track_id, ...], "created_at", "updated_at"}``; names are unique.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from pymongo.errors import DuplicateKeyError

from core.errors import NotFoundError
from core.store.driver import _guard, id_chunks
from core.store.mongo import MongoStore


@dataclass(frozen=True)
class Playlist:
    """A stored playlist."""

    id: str
    name: str
    tracks: tuple[str, ...]
    created_at: float
    updated_at: float


class Playlists:
    """Create, rename, delete and edit playlists.

    Parameters
    ----------
    store : MongoStore
        The library the tracks belong to.
    """

    def __init__(self, store: MongoStore):
        self.store = store
        self.collection = store.db.playlists
        self._ensure_indexes()

    @_guard("preparing playlists")
    def _ensure_indexes(self) -> None:
        self.collection.create_index("name", unique=True)
        self.collection.create_index("tracks")

    @_guard("reading playlists")
    def list(self) -> list[Playlist]:
        """Every playlist, by name."""
        return [_as_playlist(d) for d in self.collection.find({}, sort=[("name", 1)])]

    @_guard("reading a playlist")
    def get(self, key: str) -> Playlist:
        """A playlist by id or name.

        Raises
        ------
        NotFoundError
            If no playlist has that id or name.
        """
        for field in ("_id", "name"):
            doc = self.collection.find_one({field: key})
            if doc is not None:
                return _as_playlist(doc)
        raise NotFoundError(f"no playlist with id or name {key!r}")

    @_guard("creating a playlist")
    def create(self, name: str, tracks: Sequence[str] = ()) -> Playlist:
        """A new playlist (also "save queue as playlist": pass the queue's track ids).

        Raises
        ------
        ValueError
            If the name is empty or taken.
        NotFoundError
            If a track id is not in the library.
        """
        self._check_tracks(tracks)
        now = time.time()
        doc = {"_id": uuid.uuid4().hex, "name": _clean_name(name), "tracks": list(tracks),
               "created_at": now, "updated_at": now}
        try:
            self.collection.insert_one(doc)
        except DuplicateKeyError:
            raise ValueError(f"a playlist named {doc['name']!r} already exists") from None
        return _as_playlist(doc)

    def free_name(self, name: str) -> str:
        """``name``, or ``name (2)``, ``name (3)``... whichever no playlist has yet."""
        taken = {p.name for p in self.list()}
        candidate, n = _clean_name(name), 1
        while candidate in taken:
            n += 1
            candidate = f"{_clean_name(name)} ({n})"
        return candidate

    @_guard("renaming a playlist")
    def rename(self, key: str, name: str) -> Playlist:
        """Give a playlist a new (unique) name."""
        playlist = self.get(key)
        try:
            self.collection.update_one({"_id": playlist.id},
                                       {"$set": {"name": _clean_name(name), "updated_at": time.time()}})
        except DuplicateKeyError:
            raise ValueError(f"a playlist named {name.strip()!r} already exists") from None
        return self.get(playlist.id)

    @_guard("deleting a playlist")
    def delete(self, key: str) -> None:
        """Delete a playlist (its tracks stay in the library)."""
        self.collection.delete_one({"_id": self.get(key).id})

    def add(self, key: str, tracks: Sequence[str], position: int | None = None) -> Playlist:
        """Insert tracks at ``position`` (default: the end)."""
        self._check_tracks(tracks)
        current = list(self.get(key).tracks)
        at = len(current) if position is None else max(0, min(position, len(current)))
        return self._set_tracks(key, current[:at] + list(tracks) + current[at:])

    def remove(self, key: str, positions: Sequence[int]) -> Playlist:
        """Remove the entries at ``positions`` (positions, not ids: a track may appear twice)."""
        current = list(self.get(key).tracks)
        _check_positions(positions, len(current))
        drop = set(positions)
        return self._set_tracks(key, [t for i, t in enumerate(current) if i not in drop])

    def move(self, key: str, positions: Sequence[int], to: int) -> Playlist:
        """Move the entries at ``positions`` (in their order) to before the entry now at ``to``.

        ``to`` counts in the list as it is before the move (``len`` for the end), as a drag and
        drop in a list view reports it.
        """
        current = list(self.get(key).tracks)
        _check_positions(positions, len(current))
        moving = [current[i] for i in sorted(set(positions))]
        before = sum(1 for i in set(positions) if i < to)
        rest = [t for i, t in enumerate(current) if i not in set(positions)]
        at = max(0, min(to - before, len(rest)))
        return self._set_tracks(key, rest[:at] + moving + rest[at:])

    @_guard("saving a playlist")
    def _set_tracks(self, key: str, tracks: list[str]) -> Playlist:
        playlist = self.get(key)
        self.collection.update_one({"_id": playlist.id},
                                   {"$set": {"tracks": tracks, "updated_at": time.time()}})
        return self.get(playlist.id)

    @_guard("checking tracks")
    def _check_tracks(self, tracks: Sequence[str]) -> None:
        wanted = set(tracks)
        if any(not isinstance(t, str) for t in wanted):
            raise ValueError("track ids must be strings")
        found = {d["_id"] for chunk in id_chunks(sorted(wanted))
                 for d in self.store.tracks.find({"_id": {"$in": chunk}}, {"_id": 1})}
        unknown = sorted(wanted - found)
        if unknown:
            raise NotFoundError(f"not in the library: {', '.join(unknown[:5])}"
                                + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""))


def _clean_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a playlist needs a name")
    return name.strip()


def _check_positions(positions: Sequence[int], size: int) -> None:
    bad = [p for p in positions if not 0 <= p < size]
    if bad:
        raise ValueError(f"no entry at position {bad[0]} (the playlist has {size})")


def _as_playlist(doc: dict) -> Playlist:
    return Playlist(doc["_id"], doc["name"], tuple(doc["tracks"]), doc["created_at"],
                    doc["updated_at"])
