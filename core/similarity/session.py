"""A listening session's next tracks: the transport-free core shared by the Kafka worker, the
in-process fallback and ``encore radio``."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

from core.events import PlayEvent
from core.similarity.radio import HISTORY, Plan, Radio, RadioOptions
from core.similarity.recommend import Recommender, require_indexed
from core.store.mongo import MongoStore
from core.store.session_state import LISTENED, SessionState, SessionView, session_state

#: Which process computed a result: lets operators (and tests) see how a group shares the work.
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"
#: Recommendations stored per answer (the player shows the first 5 it is not playing or queueing).
TOP = 15
RADIO_AHEAD = 10
#: Events that change what should play next (an unlike only updates the liked state).
ANSWERED = frozenset({"play", "skip", "like", "seed"})


def recommend_for_event(store: MongoStore, recommender: Recommender, event: PlayEvent, *,
                        k: int = 5, options: RadioOptions | None = None,
                        on_answer: Callable[[dict], None] | None = None) -> dict | None:
    """Record an event and store the session's next tracks; the transport-free core of the worker.

    Every event is stored once (a re-delivered one changes nothing); play and skip counters,
    likes and the session's seeds follow from it. The library generation and clustering are
    checked once for the whole event.

    Parameters
    ----------
    store : MongoStore
    recommender : Recommender
        Candidate search and caches, kept for the life of the worker.
    event : PlayEvent
        A validated event.
    k : int
        Fewest recommendations to compute (``TOP`` are stored).
    options : RadioOptions, optional
        How the radio weighs the session and keeps variety (default: the defaults with the
        caps the event carries).
    on_answer : callable, optional
        Called with the answer as soon as it is computed, before the writes nothing in it
        depends on (the stored copy, the play counter): the worker publishes it there.

    Returns
    -------
    dict or None
        The stored document ``{session_id, seed, event_id, ts, computed_at, computed_by,
        recommendations, radio}`` (entries ``{id, path, title, artist, album, score, why,
        details}``), or ``None`` for an event that needs no answer (``unlike``).

    Raises
    ------
    NotFoundError
        If the track is unknown (nothing is stored), or a play/seed of a track not indexed yet.
    StoreError
        If the database is unreachable.
    """
    state = session_state(store)
    # A play or skip changes nothing in its answer but the session's history, which the answer
    # reads with the event added in memory: it is stored (a journaled write) and counted after
    # the answer is out. A like or seed changes likes or seeds: it is applied first.
    pending = event if event.type in LISTENED else None
    with recommender.snapshot():
        track = (recommender.cached(event.track_id)
                 or store.get_track(event.track_id, {"indexed": 1, "path": 1}))
        if event.type in ("play", "seed"):
            require_indexed(track)
        if pending is None:
            state.record(event)
        try:
            doc = (_answer(state, recommender, event, pending, k=k, options=options)
                   if event.type in ANSWERED else None)
            if doc is not None and on_answer is not None:
                on_answer(doc)
        finally:  # after the answer went out, and also when none could: the play is not lost
            if pending is not None:
                state.record(pending)
    if doc is not None:
        store.save_recommendations(event.session_id, doc)
    return doc


def _answer(state: SessionState, recommender: Recommender, event: PlayEvent,
            pending: PlayEvent | None, *, k: int, options: RadioOptions | None) -> dict:
    """The answer document to ``event`` (``pending``: not stored yet)."""
    view = state.view(event.session_id, HISTORY, pending=pending)
    options = options or RadioOptions.from_caps(event.caps)
    return {"session_id": event.session_id, "seed": event.track_id, "event_id": event.event_id,
            "ts": event.ts, "computed_at": time.time(), "computed_by": WORKER_ID,
            **_plan(recommender, state, view, k=k, options=options)}


def plan_session(store: MongoStore, recommender: Recommender, session_id: str, *,
                 exclude: tuple[str, ...] = (), k: int = 5,
                 options: RadioOptions | None = None) -> dict[str, list[dict]]:
    """A stored session's next tracks, without an event (e.g. the player's direct fallback).

    Parameters
    ----------
    store : MongoStore
    recommender : Recommender
    session_id : str
    exclude : tuple of str
        Ids never to return (the queue).
    k : int
        Fewest recommendations (``TOP`` are computed).
    options : RadioOptions, optional

    Returns
    -------
    dict
        ``{"recommendations": [...up to TOP...], "radio": [...up to RADIO_AHEAD...]}``, entries
        ``{id, path, title, artist, album, score, why, details}``.
    """
    state = session_state(store)
    return _plan(recommender, state, state.view(session_id, HISTORY), exclude=exclude, k=k,
                 options=options)


def _plan(recommender: Recommender, state: SessionState, view: SessionView, *,
          exclude: tuple[str, ...] = (), k: int, options: RadioOptions | None
          ) -> dict[str, list[dict]]:
    """``plan_session`` of a session already read."""
    with recommender.snapshot():
        plan = Radio(recommender, state, options).plan_view(
            view, exclude=exclude, count=RADIO_AHEAD, top=max(k, TOP))
    return _entries(recommender, plan)


def _entries(recommender: Recommender, plan: Plan) -> dict[str, list[dict]]:
    """``{"recommendations": [...], "radio": [...]}`` with reasons (one loudness query)."""
    explained = recommender.explain(plan.recommendations + plan.radio)
    split = len(plan.recommendations)
    return {"recommendations": [r.as_dict() for r in explained[:split]],
            "radio": [r.as_dict() for r in explained[split:]]}
