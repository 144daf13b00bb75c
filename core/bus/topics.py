"""Topic names and creation: events, recommendations, dead letters."""

from __future__ import annotations

from core.bus.admin import create_missing_topics
from core.bus.clients import BOOTSTRAP_TIMEOUT_MS

RECOMMENDATIONS = "recommendations"
DEAD_LETTER = "dead_letter"
PARTITIONS = 3


def ensure_topics(bootstrap: str, events_topic: str) -> None:
    """Create the three topics (3 partitions each, 1 for dead letters) when missing.

    Called by the publisher and the worker before each connection, which retry with backoff: it
    waits ``BOOTSTRAP_TIMEOUT_MS`` for the broker, so that closing either is quick when it is gone.

    Raises
    ------
    BusError
        If the broker cannot be reached.
    """
    create_missing_topics(bootstrap, {events_topic: PARTITIONS, RECOMMENDATIONS: PARTITIONS,
                                      DEAD_LETTER: 1},
                          bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
