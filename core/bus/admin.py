"""Create topics with a given number of partitions when they are missing."""

from __future__ import annotations

import contextlib

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from core.errors import BusError


def create_missing_topics(bootstrap: str, wanted: dict[str, int], *,
                          bootstrap_timeout_ms: int = 5000) -> None:
    """Create each topic of ``wanted`` (``{name: partitions}``) that does not exist yet.

    Existing topics are left as they are: the local broker cannot add partitions later, so
    choose the count for the most consumers you expect when a topic is first created.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers.
    wanted : dict
        ``{topic: partitions}``.
    bootstrap_timeout_ms : int
        How long to wait for the broker: callers that retry with their own backoff pass
        ``core.bus.clients.BOOTSTRAP_TIMEOUT_MS``; one-shot commands keep the longer default.

    Raises
    ------
    BusError
        If the broker cannot be reached or refuses.
    """
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000,
                                 bootstrap_timeout_ms=bootstrap_timeout_ms,
                                 client_id="encore-admin")
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
