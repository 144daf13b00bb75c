"""Listening-session state in MongoDB, so that any worker can serve any session.

Collections (beside the store's ``plays``, which holds every event once, keyed by ``event_id``):

- ``likes``: one document per track, ``{_id: track id, liked, ts}``; the latest like or unlike
  (by event time) wins, whatever order they arrive in.
- ``track_stats``: per-track counters ``{_id, plays, skips, last_played, last_skipped}``, each a
  count of the track's stored events of that kind (recounted, never incremented), so a
  re-delivery counts nothing twice and a count missed in a crash comes right again.
- ``sessions``: a session's seed set ``{_id: session id, seeds, seed_ts}`` from ``seed`` events:
  seeds given one after another (no play in between) add up; a seed after a play starts over.

Storing an event and applying it are separate writes (no transactions on the local server), so
each effect is applied again whenever the event is delivered again, in a form that cannot count
twice: a worker killed between the two writes leaves nothing missing once the event comes back.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass, field

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from core.events import PlayEvent
from core.store.driver import _guard  # one error wrapper for every collection
from core.store.mongo import MongoStore

LISTENED = ("play", "skip")
_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class SessionView:
    """What a session did, newest first.

    Attributes
    ----------
    events : list of dict
        ``{type, track_id, ts, position_s}``, newest first.
    seeds : list of str
        The session's seed tracks (``seed`` events).
    seed_ts : float
        When the seed set was last started (0 without seeds).
    liked : set of str
        Which of the session's tracks are liked now.
    """

    events: list[dict]
    seeds: list[str] = field(default_factory=list)
    seed_ts: float = 0.0
    liked: set[str] = field(default_factory=set)

    def listened(self) -> list[str]:
        """Track ids played or skipped, newest first, each once."""
        return list(dict.fromkeys(e["track_id"] for e in self.events if e["type"] in LISTENED))

    def heard(self) -> list[str]:
        """Track ids played, skipped or given as seeds, newest first, each once."""
        kinds = (*LISTENED, "seed")
        recent = [e["track_id"] for e in self.events if e["type"] in kinds]
        return list(dict.fromkeys(recent + self.seeds))  # seeds not in the history count as oldest


def session_state(store: MongoStore) -> SessionState:
    """The ``SessionState`` of ``store`` (its indexes created once per store object)."""
    state = _STATES.get(store)
    if state is None:
        state = _STATES[store] = SessionState(store)
        state.ensure_indexes()
    return state


class SessionState:
    """Sessions, likes and per-track counters over ``store.db``.

    Parameters
    ----------
    store : MongoStore
    """

    def __init__(self, store: MongoStore):
        self.store = store
        self.likes = store.db.likes
        self.stats = store.db.track_stats
        self.sessions = store.db.sessions

    @_guard("preparing session collections")
    def ensure_indexes(self) -> None:
        """Indexes for the Liked and Recently played views (idempotent)."""
        self.likes.create_index([("liked", ASCENDING), ("ts", DESCENDING)])
        self.stats.create_index([("last_played", DESCENDING)])
        self.store.plays.create_index([("track_id", ASCENDING), ("type", ASCENDING)])

    @_guard("recording an event")
    def record(self, event: PlayEvent) -> bool:
        """Store an event once and apply it to likes, counters and seeds.

        The effects are applied on every delivery, idempotently: the latest like by event time
        wins, counters are recounted from the stored events, a seed is added only if the session's
        seeds are older than it. So a crash after the event was stored and before its effects
        were is made good by the re-delivery (for counters, by the track's next event too).

        Returns
        -------
        bool
            ``False`` if the event had been stored before (a re-delivery).
        """
        new = self.store.record_play(event.as_doc())
        if event.type in ("like", "unlike"):
            self._set_liked(event.track_id, event.type == "like", event.ts)
        elif event.type == "seed":
            self._add_seed(event, redelivered=not new)
        else:
            self._count(event)
        return new

    def _count(self, event: PlayEvent) -> None:
        # One indexed count per event: exact whatever was delivered twice or lost in between
        # (a kept list of counted event ids would be O(1) but forget after its length). Its
        # cost grows with the track's stored events: on the local SecantusDB about 1 ms at 10
        # and 9 ms at 100 plays of the track (a real MongoDB counts index keys only).
        field, stamp = ("plays", "last_played") if event.type == "play" else ("skips", "last_skipped")
        count = self.store.plays.count_documents({"track_id": event.track_id, "type": event.type})
        # $max: a worker that counted before another one stored its event must not lower the
        # count (the one that stored last counts them all).
        update = {"$max": {field: count, stamp: event.ts}}
        try:
            self.stats.update_one({"_id": event.track_id}, update, upsert=True)
        except DuplicateKeyError:  # two first events of a track at once: the other created it
            self.stats.update_one({"_id": event.track_id}, update)

    def _set_liked(self, track_id: str, liked: bool, ts: float) -> None:
        # Matches only if nothing newer is stored; otherwise the upsert collides on _id, which
        # means a later like/unlike already won.
        with contextlib.suppress(DuplicateKeyError):
            self.likes.update_one({"_id": track_id, "ts": {"$lte": ts}},
                                  {"$set": {"liked": liked, "ts": ts}}, upsert=True)

    def _add_seed(self, event: PlayEvent, *, redelivered: bool) -> None:
        current = self.sessions.find_one({"_id": event.session_id}) or {}
        if redelivered and current.get("seed_ts", float("-inf")) >= event.ts:
            return  # applied before, or a later seed set replaced it
        last = self.store.plays.find_one({"session_id": event.session_id,
                                          "type": {"$in": list(LISTENED)}},
                                         {"ts": 1}, sort=[("ts", DESCENDING)])
        if current and (last is None or last["ts"] <= current.get("seed_ts", 0)):
            update = {"$addToSet": {"seeds": event.track_id}, "$max": {"seed_ts": event.ts}}
        else:  # "start radio" after listening: the new seed replaces the old ones
            update = {"$set": {"seeds": [event.track_id], "seed_ts": event.ts}}
        self.sessions.update_one({"_id": event.session_id}, update, upsert=True)

    @_guard("reading a session")
    def view(self, session_id: str, limit: int = 200, *,
             pending: PlayEvent | None = None) -> SessionView:
        """The session's latest ``limit`` events and its seeds.

        Parameters
        ----------
        session_id : str
        limit : int
        pending : PlayEvent, optional
            A play or skip of the session that may not be stored yet: the view is the one its
            storing gives (the worker answers before it waits for that journaled write).
        """
        fields = {"_id": 0, "type": 1, "track_id": 1, "ts": 1, "position_s": 1}
        events = list(self.store.plays.find(
            {"session_id": session_id}, fields | ({"event_id": 1} if pending else {}),
            sort=[("ts", DESCENDING)], limit=limit))
        # Seeds come only from the session's seed events: a history read whole (shorter than
        # ``limit``) without one has none, and needs no second query (a fresh session's case).
        seedless = len(events) < limit and not any(e["type"] == "seed" for e in events)
        if pending is not None:
            events = _with_pending(events, pending, limit)
        doc = {} if seedless else self.sessions.find_one({"_id": session_id}) or {}
        seeds = list(doc.get("seeds") or [])
        liked = self.liked(seeds + [e["track_id"] for e in events])
        return SessionView(events, seeds, float(doc.get("seed_ts") or 0.0), liked)

    @_guard("reading likes")
    def liked(self, track_ids: list[str]) -> set[str]:
        """Which of ``track_ids`` are liked now."""
        return {d["_id"] for d in self.likes.find({"_id": {"$in": list(track_ids)}, "liked": True},
                                                  {"_id": 1})}

    @_guard("reading play counts")
    def counters(self, track_ids: list[str] | None = None) -> dict[str, dict]:
        """``{track id: {plays, skips, last_played, last_skipped}}`` of the given tracks (of every
        track with any when ``None``, e.g. for the library's Plays and Last played columns)."""
        query = {} if track_ids is None else {"_id": {"$in": list(track_ids)}}
        return {d.pop("_id"): d for d in self.stats.find(query)}

    @_guard("reading likes")
    def liked_tracks(self, limit: int = 1000) -> list[str]:
        """Liked track ids, most recently liked first (the Liked view)."""
        cursor = self.likes.find({"liked": True}, {"_id": 1}, sort=[("ts", DESCENDING)], limit=limit)
        return [d["_id"] for d in cursor]

    @_guard("reading recent plays")
    def recently_played(self, limit: int = 100) -> list[dict]:
        """``{_id, plays, skips, last_played, ...}`` of the latest played tracks, newest first
        (the Recently played view)."""
        return list(self.stats.find({"last_played": {"$exists": True}},
                                    sort=[("last_played", DESCENDING)], limit=limit))


def _with_pending(events: list[dict], pending: PlayEvent, limit: int) -> list[dict]:
    """``events`` (newest first, with their ``event_id``) as they are once ``pending`` is stored:
    in its place by time, after stored events of the same time, unless it is among them."""
    if pending.type not in LISTENED:
        raise ValueError(f"only a play or skip can be pending, not a {pending.type!r}")
    stored = [e.pop("event_id", None) for e in events]
    if pending.event_id in stored:  # a re-delivery
        return events
    at = next((i for i, e in enumerate(events) if e["ts"] < pending.ts), len(events))
    doc = {"type": pending.type, "track_id": pending.track_id, "ts": pending.ts,
           "position_s": pending.position_s}
    events.insert(at, doc)
    return events[:limit]
