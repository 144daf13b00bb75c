"""Kafka client plumbing shared by the publisher and the worker: producers, closing, backoff."""

from __future__ import annotations

import logging
import threading

from kafka import KafkaProducer

log = logging.getLogger("encore.bus")
#: How long a client waits for its first contact with the broker (kafka-python's default is
#: 30 s). Short, because its callers retry with their own backoff and a client stuck in this
#: wait cannot be interrupted: closing a publisher whose broker is gone waits for it (5 s made a
#: player's teardown take 2-5 s, 1 s takes at most about 1 s). A broker on a LAN, or one just
#: restarted, answers in well under that.
BOOTSTRAP_TIMEOUT_MS = 1000


class Backoff:
    """Exponential delays between reconnection attempts.

    Parameters
    ----------
    first_s, max_s : float
        The first delay and the ceiling.
    """

    def __init__(self, first_s: float = 0.2, max_s: float = 5.0):
        self.first_s, self.max_s = first_s, max_s
        self.delay_s = first_s

    def reset(self) -> None:
        """After a success: the next failure waits ``first_s`` again."""
        self.delay_s = self.first_s

    def next(self) -> float:
        """The current delay; the one after it is twice as long."""
        delay, self.delay_s = self.delay_s, min(self.max_s, self.delay_s * 2)
        return delay

    def wait(self, stop: threading.Event) -> None:
        """Sleep the current delay (cut short by ``stop``)."""
        stop.wait(self.next())


def new_producer(bootstrap: str, *, ordered: bool = False) -> KafkaProducer:
    """A producer that waits for every replica and fails fast when the broker is gone.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers.
    ordered : bool
        One request in flight and no retries, so a failed send is never overtaken by a later one.

    Raises
    ------
    KafkaError
        If the broker cannot be reached within ``BOOTSTRAP_TIMEOUT_MS``.
    """
    extra = {"max_in_flight_requests_per_connection": 1, "retries": 0} if ordered else {}
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=5000,
                         max_block_ms=5000, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS, **extra)


def close_quietly(client, timeout_s: float) -> None:
    """Close a Kafka client, whatever it raises.

    kafka-python 3 raises from ``KafkaProducer.close`` when the broker is gone (a timeout waiting
    for its I/O thread): an error handler that closes its producer must not die of that.
    """
    if client is None:
        return
    try:
        if isinstance(client, KafkaProducer):
            client.close(timeout=timeout_s)
        else:  # a consumer: leave the group without committing anything
            client.close(autocommit=False, timeout_ms=int(timeout_s * 1000))
    except Exception as exc:  # closing is best effort; the caller goes on
        log.debug("closing %s failed: %r", type(client).__name__, exc)
