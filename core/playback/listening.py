"""Turns what the listener does into events (the recommender's input): play, skip, like,
unlike and seed.

A play is a track starting to sound (a seek is not a new play); a skip is the listener leaving a
track early by choice (Next, or choosing another track) — never a seek, quitting, or the track
ending.
"""

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
    caps : (int, int), optional
        The listener's radio variety caps (per artist, per album; 0: none), sent with every
        event; change ``caps`` when the listener does. Default: the worker's.
    """

    def __init__(self, publisher: Publisher, session_id: str | None = None, *,
                 caps: tuple[int, int] | None = None):
        self.publisher = publisher
        self.session_id = session_id or uuid.uuid4().hex
        self.caps = caps

    def started(self, item: PlayItem, position_s: float = 0.0) -> PlayEvent:
        """A track started sounding: send a play event."""
        return self.send("play", item.track_id, position_s)

    def send(self, kind: str, track_id: str, position_s: float = 0.0) -> PlayEvent:
        """Publish one event of this session (``like``, ``unlike``, ``seed``, ...)."""
        event = make_event(kind, track_id, self.session_id, position_s, caps=self.caps)
        self.publisher.publish(event)
        return event

    def liked(self, track_id: str, liked: bool) -> PlayEvent:
        """The heart was set (``like``) or cleared (``unlike``)."""
        return self.send("like" if liked else "unlike", track_id)

    def seeded(self, track_id: str) -> PlayEvent:
        """The listener chose Start radio or More like this: the track seeds the session."""
        return self.send("seed", track_id)

    def left(self, item: PlayItem, position_s: float) -> PlayEvent | None:
        """The listener moved away from ``item`` at ``position_s``: a skip event if early."""
        if item.duration_s <= 0 or position_s >= SKIP_BEFORE * item.duration_s:
            return None
        return self.send("skip", item.track_id, position_s)
