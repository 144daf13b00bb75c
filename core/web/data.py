"""What the web page shows, read from MongoDB: the session to show, its now-playing track, its
latest recommendations."""

from __future__ import annotations

from pymongo import DESCENDING
from pymongo.errors import PyMongoError

from core.errors import NotFoundError, StoreError
from core.store.mongo import MongoStore

TRACK_FIELDS = {"_id": 1, "path": 1, "title": 1, "artist": 1, "album": 1, "duration_s": 1}
RECENT_PLAYS = 10
#: Recommendations the page shows (the worker stores more, for the player's radio).
TOP_K = 5


def _guarded(action: str, read):
    """``read()``, with driver errors turned into ``StoreError``."""
    try:
        return read()
    except PyMongoError as exc:
        raise StoreError(f"database error while {action}: {exc}") from exc


def latest_session(store: MongoStore, live: dict[str, float]) -> str | None:
    """The session the page follows when none is asked for.

    A running player comes first (the one with the newest recommendations, else the one started
    last); with none running, the session with the newest recommendations.

    Parameters
    ----------
    store : MongoStore
    live : dict
        ``{session_id: started}`` of the running players.
    """
    query = {"session_id": {"$in": list(live)}} if live else {}
    doc = _guarded("finding the latest session", lambda: store.recommendations.find_one(
        query, {"session_id": 1}, sort=[("computed_at", DESCENDING)]))
    if doc is not None:
        return doc["session_id"]
    return max(live, key=live.get) if live else None


def _track(store: MongoStore, track_id: str) -> dict:
    try:
        return store.get_track(track_id, TRACK_FIELDS)
    except NotFoundError:  # removed from the library since: show the id
        return {"_id": track_id, "path": None, "title": track_id, "artist": None, "album": None}


def recent_plays(store: MongoStore, session_id: str, limit: int = RECENT_PLAYS) -> list[dict]:
    """The session's latest plays and skips, newest first, each with its track's fields."""
    cursor = _guarded("reading plays", lambda: list(store.plays.find(
        {"session_id": session_id}, {"track_id": 1, "type": 1, "ts": 1},
        sort=[("ts", DESCENDING)], limit=limit)))
    return [{"type": p.get("type"), "ts": p.get("ts"), "track": _track(store, p["track_id"])}
            for p in cursor]


def recommendations(store: MongoStore, session_id: str, k: int = TOP_K) -> dict | None:
    """The session's latest top ``k`` in the page's JSON shape, or ``None`` if it has none.

    Returns
    -------
    dict or None
        ``{"session", "seed", "computed_at", "recommendations": [{"id", "path", "title",
        "artist", "album", "score", "why"}]}``.
    """
    doc = store.get_recommendations(session_id)
    if doc is None:
        return None
    recs = [{"id": r.get("id"), "path": r.get("path"), "title": r.get("title"),
             "artist": r.get("artist"), "album": r.get("album"), "score": r.get("score"),
             "why": r.get("why")} for r in (doc.get("recommendations") or [])[:k]]
    # The worker's list is in play order (its variety caps may put a 42% after a 29%); a page
    # that shows scores lists them best first, as the player's sidebar does.
    recs.sort(key=lambda r: -(r["score"] if isinstance(r["score"], (int, float)) else 0.0))
    return {"session": session_id, "seed": doc.get("seed"), "computed_at": doc.get("computed_at"),
            "recommendations": recs}
