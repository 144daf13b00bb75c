"""A listening session's next tracks: the transport-free core shared by the Kafka worker and the
in-process fallback."""

from __future__ import annotations

import os
import socket
import time

from core.events import PlayEvent
from core.similarity.recommend import SEED_FIELDS, Recommender, require_indexed
from core.store.mongo import MongoStore

RECENT = 50
#: Which process computed a result: lets operators (and tests) see how a group shares the work.
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def recommend_for_event(store: MongoStore, recommender: Recommender, event: PlayEvent, *,
                        k: int = 5) -> dict:
    """Record a play and store the session's next ``k`` tracks; the transport-free core of the worker.

    Parameters
    ----------
    store : MongoStore
    recommender : Recommender
    event : PlayEvent
        A validated event.
    k : int
        Recommendations to compute.

    Returns
    -------
    dict
        The stored recommendations document.

    Raises
    ------
    NotFoundError
        If the track is unknown (nothing is stored) or not indexed yet.
    StoreError
        If the database is unreachable.
    """
    seed = store.get_track(event.track_id, SEED_FIELDS)
    store.record_play(event.as_doc())
    recent = tuple(store.recent_track_ids(event.session_id, RECENT))
    recs = recommender.rank([require_indexed(seed)], k=k, exclude=recent)
    doc = {"session_id": event.session_id, "seed": event.track_id, "event_id": event.event_id,
           "ts": event.ts, "computed_at": time.time(), "computed_by": WORKER_ID,
           "recommendations": [r.as_dict() | {"why": r.why} for r in recs]}
    store.save_recommendations(event.session_id, doc)
    return doc
