"""What M3U8 and XSPF share: playlist entries, paths relative to the playlist file, matching
entries to library tracks by path, and the entries that could not be matched (with the reason).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import NotFoundError
from core.playlists.store import Playlist, Playlists
from core.store.driver import id_chunks
from core.store.mongo import MongoStore

#: What an entry needs besides its path: the rest of a track stays in the database.
ENTRY_FIELDS = {"_id": 1, "path": 1, "source_path": 1, "title": 1, "artist": 1, "album": 1,
                "duration_s": 1}


@dataclass(frozen=True)
class Entry:
    """One playlist entry as a file format carries it."""

    path: str
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class Missing:
    """An entry that did not become part of the playlist, and why."""

    entry: str
    reason: str


def playlist_entries(store: MongoStore, playlist: Playlist) -> tuple[list[Entry], list[Missing]]:
    """The playlist's tracks as entries, in order (the user's original file, not a managed copy).

    Returns
    -------
    entries : list of Entry
    missing : list of Missing
        Entries whose track left the library (its file was deleted), by track id.
    """
    docs = {d["_id"]: d for chunk in id_chunks(sorted(set(playlist.tracks)))
            for d in store.iter_tracks({"_id": {"$in": chunk}}, ENTRY_FIELDS)}
    entries = [_entry(docs[t]) for t in playlist.tracks if t in docs]
    missing = [Missing(t, "no longer in the library") for t in playlist.tracks if t not in docs]
    return entries, missing


def _entry(doc: dict) -> Entry:
    return Entry(doc.get("source_path") or doc["path"], doc.get("title"), doc.get("artist"),
                 doc.get("album"), doc.get("duration_s"))


def written_path(path: str, folder: Path, *, relative: bool) -> str:
    """``path`` as a playlist file in ``folder`` should name it."""
    return os.path.relpath(path, folder) if relative else os.path.abspath(path)


def resolved_path(text: str, folder: Path) -> str:
    """An entry's path as read from a playlist file in ``folder`` (relative ones from there)."""
    return os.path.normpath(os.path.join(folder, os.path.expanduser(text)))


def match_tracks(store: MongoStore, paths: Sequence[str]) -> tuple[list[str], list[Missing]]:
    """Library track ids of ``paths`` (resolved absolute paths), and the entries not found.

    Returns
    -------
    ids : list of str
        In the order of ``paths``, unmatched ones left out.
    missing : list of Missing
        ``"file not found"`` or ``"not in the library"``.
    """
    ids, missing = [], []
    for path in paths:
        try:
            ids.append(store.get_track(path, {"_id": 1})["_id"])
        except NotFoundError:
            reason = "not in the library (import its folder first)" if os.path.exists(path) \
                else "file not found"
            missing.append(Missing(path, reason))
    return ids, missing


def import_entries(playlists: Playlists, name: str, paths: Sequence[str],
                   missing: list[Missing]) -> tuple[Playlist, list[Missing]]:
    """A new playlist (named ``name``, or ``name (2)`` if taken) from resolved entry paths.

    ``missing`` holds entries the file reader already rejected; unmatched paths are added to it.
    """
    ids, unmatched = match_tracks(playlists.store, paths)
    playlist = playlists.create(playlists.free_name(name), ids)
    return playlist, missing + unmatched
