"""Turns what the listener does into play and skip events (the recommender's input)."""

from __future__ import annotations

import uuid
from typing import Protocol

from core.events import PlayEvent, make_event
from core.playback.source import PlayItem

#: A track left before this share of its length counts as skipped.
SKIP_BEFORE = 0.5


class Publisher(Protocol):
    """What the bus offers (``EventPublisher`` or ``InProcessBus``)."""

    def publish(self, event: PlayEvent) -> None: ...


class ListeningSession:
    """One run of the player: a session id and its events.

    Parameters
    ----------
    publisher : Publisher
        Where events go (asynchronous; never blocks playback).
    session_id : str, optional
        Default: a new random id.
    """

    def __init__(self, publisher: Publisher, session_id: str | None = None):
        self.publisher = publisher
        self.session_id = session_id or uuid.uuid4().hex

    def started(self, item: PlayItem, position_s: float = 0.0) -> PlayEvent:
        """A track started sounding: send a play event."""
        event = make_event("play", item.track_id, self.session_id, position_s)
        self.publisher.publish(event)
        return event

    def left(self, item: PlayItem, position_s: float) -> PlayEvent | None:
        """The listener moved away from ``item`` at ``position_s``: a skip event if early."""
        if item.duration_s <= 0 or position_s >= SKIP_BEFORE * item.duration_s:
            return None
        event = make_event("skip", item.track_id, self.session_id, position_s)
        self.publisher.publish(event)
        return event
