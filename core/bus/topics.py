"""Topic names and creation: events, recommendations, dead letters."""

from __future__ import annotations

from core.bus.admin import create_missing_topics

RECOMMENDATIONS = "recommendations"
DEAD_LETTER = "dead_letter"
PARTITIONS = 3


def ensure_topics(bootstrap: str, events_topic: str) -> None:
    """Create the three topics (3 partitions each, 1 for dead letters) when missing.

    Raises
    ------
    BusError
        If the broker cannot be reached.
    """
    create_missing_topics(bootstrap, {events_topic: PARTITIONS, RECOMMENDATIONS: PARTITIONS,
                                      DEAD_LETTER: 1})
