"""What the listener did with each track: play counts, last play and the heart, as the workers
store them (``track_stats`` and ``likes``, see ``core.store.session_state``), kept current by this
session's own events."""

from __future__ import annotations

from dataclasses import dataclass, field

from pymongo.errors import PyMongoError

from core.errors import StoreError
from core.store.mongo import MongoStore
from core.store.session_state import SessionState


@dataclass
class ListeningHistory:
    """Per-track counters.

    Attributes
    ----------
    plays : dict
        Track id -> number of play events.
    last_played : dict
        Track id -> time of the last play (Unix seconds).
    liked : set
        Ids of liked tracks.
    """

    plays: dict[str, int] = field(default_factory=dict)
    last_played: dict[str, float] = field(default_factory=dict)
    liked: set[str] = field(default_factory=set)

    def note_play(self, track_id: str, ts: float) -> None:
        """Count a play of this session at once (the stored event may take a moment)."""
        self.plays[track_id] = self.plays.get(track_id, 0) + 1
        self.last_played[track_id] = max(ts, self.last_played.get(track_id, 0.0))

    def set_liked(self, track_id: str, liked: bool) -> None:
        """The heart, as the listener just set it."""
        (self.liked.add if liked else self.liked.discard)(track_id)


def read_history(store: MongoStore) -> ListeningHistory:
    """Counters over every stored event.

    Raises
    ------
    StoreError
        If the database cannot be read.
    """
    history = ListeningHistory()
    state = SessionState(store)
    try:
        for doc in state.stats.find({"plays": {"$gt": 0}}, {"plays": 1, "last_played": 1}):
            history.plays[doc["_id"]] = int(doc["plays"])
            history.last_played[doc["_id"]] = float(doc.get("last_played") or 0.0)
        history.liked = {d["_id"] for d in state.likes.find({"liked": True}, {"_id": 1})}
    except PyMongoError as exc:
        raise StoreError(f"reading the listening history: {exc}") from exc
    return history
