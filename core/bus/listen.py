"""Follows the ``recommendations`` topic for one listening session (the player's sidebar feed)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

from kafka import KafkaConsumer
from kafka.errors import KafkaError

from core.bus.keyed import follow_key
from core.bus.topics import RECOMMENDATIONS

log = logging.getLogger("encore.bus")
MAX_BACKOFF_S = 5.0


class RecommendationListener:
    """Calls ``on_doc(doc)`` for each recommendations document the workers publish for a session.

    It reads only the partition the session's key hashes to (the producer's default
    partitioner), without a consumer group: no group join to wait for, and nothing to commit,
    since the player only wants what arrives while it runs.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers.
    session_id : str
        The key the workers publish under.
    on_doc : callable
        Called on the listener's thread.
    on_error : callable
        ``on_error(message)`` when the broker cannot be reached (retried with backoff).
    """

    def __init__(self, bootstrap: str, session_id: str, on_doc: Callable[[dict], None],
                 on_error: Callable[[str], None]):
        self.bootstrap, self.key = bootstrap, session_id.encode()
        self.on_doc, self.on_error = on_doc, on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="encore-recs", daemon=True)
        self._thread.start()

    #: The topic followed; subclasses follow other keyed topics the same way.
    topic = RECOMMENDATIONS

    def _consumer(self) -> KafkaConsumer | None:
        """A consumer of the session's partition; ``None`` until the topic exists."""
        return follow_key(self.bootstrap, self.topic, self.key, client_id="encore-player")

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                consumer = self._consumer()
                backoff = 0.5
                if consumer is None:
                    self._stop.wait(backoff)
                    continue
                try:
                    self._follow(consumer)
                finally:
                    consumer.close()
            except (KafkaError, OSError) as exc:
                self.on_error(f"Kafka at {self.bootstrap} is unreachable ({exc})")
                self._stop.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)

    def _follow(self, consumer: KafkaConsumer) -> None:
        while not self._stop.is_set():
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    if record.key == self.key:
                        self._deliver(record.value)

    def _deliver(self, value: bytes) -> None:
        try:
            doc = json.loads(value)
        except ValueError:
            log.warning("ignoring a recommendations message that is not JSON")
            return
        if isinstance(doc, dict):
            self.on_doc(doc)

    def close(self) -> None:
        """Stop following."""
        self._stop.set()
        self._thread.join(timeout=5)
