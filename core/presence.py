"""Which players are running: each records a heartbeat in MongoDB (collection ``players``).

The web page queues songs only into a player that beat recently; a player that exits cleanly
removes its entry, one that crashed ages out after ``max_age_s``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from pymongo.errors import PyMongoError

from core.errors import StoreError
from core.store.mongo import MongoStore

log = logging.getLogger("encore.presence")
#: Seconds between heartbeats, and the age after which a silent player counts as gone.
BEAT_S = 2.0
MAX_AGE_S = 3 * BEAT_S


def _players(store: MongoStore):
    return store.db["players"]


def beat(store: MongoStore, session_id: str) -> None:
    """Record that the player of ``session_id`` is alive now.

    Raises
    ------
    StoreError
        If the database is unreachable.
    """
    now = time.time()
    try:
        _players(store).update_one(
            {"_id": session_id},
            {"$set": {"seen": now, "host": socket.gethostname(), "pid": os.getpid()},
             "$setOnInsert": {"started": now}}, upsert=True)
    except PyMongoError as exc:
        raise StoreError(f"database error while recording a heartbeat: {exc}") from exc


def forget(store: MongoStore, session_id: str) -> None:
    """Remove a player's heartbeat (it is exiting)."""
    try:
        _players(store).delete_one({"_id": session_id})
    except PyMongoError as exc:
        raise StoreError(f"database error while removing a heartbeat: {exc}") from exc


def running_players(store: MongoStore, max_age_s: float = MAX_AGE_S) -> dict[str, float]:
    """Players that beat within ``max_age_s`` seconds.

    Returns
    -------
    dict
        ``{session_id: started}`` (Unix time the player first beat).

    Raises
    ------
    StoreError
        If the database is unreachable.
    """
    try:
        cursor = _players(store).find({"seen": {"$gte": time.time() - max_age_s}},
                                      {"started": 1})
        return {doc["_id"]: doc.get("started", 0.0) for doc in cursor}
    except PyMongoError as exc:
        raise StoreError(f"database error while reading heartbeats: {exc}") from exc


class Heartbeat:
    """Beats for one session every ``interval_s`` on a daemon thread until ``close``.

    Parameters
    ----------
    store : MongoStore
    session_id : str
    interval_s : float
    """

    def __init__(self, store: MongoStore, session_id: str, *, interval_s: float = BEAT_S):
        self.store, self.session_id, self.interval_s = store, session_id, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="encore-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                beat(self.store, self.session_id)
            except StoreError as exc:  # the next beat retries; the page sees us as gone meanwhile
                log.warning("%s", exc)
            self._stop.wait(self.interval_s)

    def close(self) -> None:
        """Stop beating and remove the entry, so the page says at once that no player runs."""
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            forget(self.store, self.session_id)
        except StoreError as exc:
            log.warning("%s", exc)
