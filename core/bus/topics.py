"""Topic names and creation: events, recommendations, dead letters."""

from __future__ import annotations

import contextlib

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from core.errors import BusError

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
    wanted = {events_topic: PARTITIONS, RECOMMENDATIONS: PARTITIONS, DEAD_LETTER: 1}
    try:
        # A short bootstrap timeout (default 30 s): callers retry with their own backoff.
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000,
                                 bootstrap_timeout_ms=5000, client_id="encore-admin")
    except KafkaError as exc:
        raise BusError(f"cannot reach Kafka at {bootstrap}: {exc}") from exc
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(name, n, 1) for name, n in wanted.items() if name not in existing]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):  # another process was first
                admin.create_topics(new)
    except KafkaError as exc:
        raise BusError(f"cannot create topics on {bootstrap}: {exc}") from exc
    finally:
        admin.close()
