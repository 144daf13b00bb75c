"""Which events have taken effect: the queries end-to-end delivery needs.

An event has *settled* when its effect is stored: the play/skip/like recorded in ``plays`` under
its ``event_id``, or, for a well-formed event the worker had to refuse (an unknown track), a
note in ``rejected_events`` under the same id. The outbox deletes an event only once it has
settled, so neither kind is re-sent for ever.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pymongo import WriteConcern
from pymongo.errors import PyMongoError

from core.errors import StoreError
from core.store.driver import id_chunks
from core.store.mongo import MongoStore

#: Journaled: a write acknowledged with ``j=True`` is on disk, and so is everything this server
#: wrote before it (its journal is sequential), which makes it a barrier for a whole batch.
JOURNALED = WriteConcern(w=1, j=True)


def settled_event_ids(store: MongoStore, event_ids: Iterable[str]) -> set[str]:
    """The ids among ``event_ids`` whose effect (a play or a rejection) is stored.

    Raises
    ------
    StoreError
        If the database is unreachable.
    """
    found: set[str] = set()
    try:
        for chunk in id_chunks(event_ids):
            found |= {d["event_id"] for d in store.plays.find({"event_id": {"$in": chunk}},
                                                              {"event_id": 1, "_id": 0})}
            found |= {d["_id"] for d in store.db.rejected_events.find({"_id": {"$in": chunk}},
                                                                      {"_id": 1})}
    except PyMongoError as exc:
        raise StoreError(f"database error while reading stored events: {exc}") from exc
    return found


def record_rejected(store: MongoStore, event_id: str, reason: str) -> None:
    """Note (journaled) that a well-formed event was refused, so its sender stops re-sending it.

    Raises
    ------
    StoreError
        If the database is unreachable.
    """
    _journaled_upsert(store, "rejected_events", event_id,
                      {"$setOnInsert": {"reason": reason[:500], "at": time.time()}},
                      "recording a rejected event")


def journal_barrier(store: MongoStore, member: str) -> None:
    """One journaled write after a batch: once it returns, every earlier write is durable.

    The worker calls it before committing offsets, so a database crash cannot lose a play whose
    offset is already committed (SecantusDB lost acknowledged writes on SIGKILL without ``j``).

    Parameters
    ----------
    store : MongoStore
    member : str
        The worker's id (one small document per worker).

    Raises
    ------
    StoreError
        If the database is unreachable.
    """
    _journaled_upsert(store, "worker_progress", member, {"$set": {"at": time.time()}},
                      "syncing the journal")


def _journaled_upsert(store: MongoStore, collection: str, key: str, update: dict,
                      action: str) -> None:
    target = store.db.get_collection(collection, write_concern=JOURNALED)
    try:
        target.update_one({"_id": key}, update, upsert=True)
    except PyMongoError as exc:
        raise StoreError(f"database error while {action}: {exc}") from exc
