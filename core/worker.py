"""The recommender worker: a Kafka consumer-group member turning play events into top-5 lists.

Per event: validate (malformed ones go to the dead-letter topic with the reason), record the play
idempotently, rank the session's next tracks (excluding its recent plays and skips), store them,
and publish them keyed by session. Offsets are committed only after a batch is stored
(at-least-once delivery, idempotent processing); while MongoDB is down the worker retries the
batch with backoff and commits nothing.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from core.bus.topics import DEAD_LETTER, RECOMMENDATIONS, ensure_topics
from core.config import Config
from core.errors import EventError, NotFoundError, StoreError
from core.events import PlayEvent, parse_event
from core.similarity.recommend import Recommender
from core.similarity.session import recommend_for_event
from core.store.mongo import MongoStore

log = logging.getLogger("encore.worker")
SESSION_TIMEOUT_MS = 6000  # tansu makes joins wait half of this: keep it short
MAX_BACKOFF_S = 5.0
CLOSE_TIMEOUT_MS = 3000


class RecommenderWorker:
    """One member of the recommender consumer group.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers.
    store : MongoStore
        The library and session data.
    topic : str
        Events topic.
    group : str
        Consumer group id; workers in one group share the partitions.
    k : int
        Recommendations per event.
    """

    def __init__(self, bootstrap: str, store: MongoStore, *, topic: str = "music_topic",
                 group: str = "encore-recommender", k: int = 5):
        self.store, self.topic, self.k = store, topic, k
        self.recommender = Recommender(store)
        self.stop_event = threading.Event()
        self.processed = 0
        ensure_topics(bootstrap, topic)
        self.consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=1000, max_poll_records=50, max_poll_interval_ms=300000,
            # tansu holds a fetch for its full max wait even when data is ready: keep it short
            fetch_max_wait_ms=20)
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")

    def run(self) -> None:
        """Consume until ``stop_event`` is set."""
        try:
            while not self.stop_event.is_set():
                batches = self.consumer.poll(timeout_ms=500)
                records = [r for part in batches.values() for r in part]
                if records:
                    self._process_with_retry(records)
        finally:
            # Bounded: when the broker is already gone (the player and its local stack exiting),
            # leaving the group would otherwise retry for the full request timeout.
            self.consumer.close(autocommit=False, timeout_ms=CLOSE_TIMEOUT_MS)
            self.producer.close(timeout=CLOSE_TIMEOUT_MS / 1000)

    def _process_with_retry(self, records) -> None:
        backoff = 0.2
        while not self.stop_event.is_set():
            try:
                for record in records:
                    self.handle(record.value, record.key)
                self.producer.flush(timeout=10)
                self.consumer.commit()  # only now: everything in the batch is stored
                return
            except StoreError as exc:
                log.warning("database unavailable (%s); retrying in %.1f s", exc, backoff)
                self.stop_event.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)

    def handle(self, value: bytes | None, key: bytes | None = None) -> dict | None:
        """Process one message; returns the stored recommendations, or ``None`` if dead-lettered.

        Raises
        ------
        StoreError
            If the database is unreachable (the caller retries; nothing is committed).
        """
        try:
            event = parse_event(value)
            doc = self._recommend(event)
        except (EventError, NotFoundError) as exc:
            self._dead_letter(value, key, str(exc))
            return None
        self.processed += 1
        return doc

    def _recommend(self, event: PlayEvent) -> dict:
        doc = recommend_for_event(self.store, self.recommender, event, k=self.k)
        self.producer.send(RECOMMENDATIONS, key=event.session_id.encode(),
                           value=json.dumps(doc).encode())
        return doc

    def _dead_letter(self, value: bytes | None, key: bytes | None, reason: str) -> None:
        log.warning("dead-lettering event: %s", reason)
        payload = {"reason": reason, "value": (value or b"")[:8192].decode("utf-8", "replace"),
                   "topic": self.topic, "at": time.time()}
        self.producer.send(DEAD_LETTER, key=key, value=json.dumps(payload).encode())


def run_worker(config: Config, *, group: str) -> int:
    """``encore worker``: run until SIGINT/SIGTERM."""
    from core.services import resolve_kafka_bootstrap, resolve_mongo_uri

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    store = MongoStore(resolve_mongo_uri(config), config.db_name)
    store.ensure_schema()
    try:
        worker = RecommenderWorker(resolve_kafka_bootstrap(config), store, topic=config.topic,
                                   group=group)
    except KafkaError as exc:
        log.error("cannot reach Kafka: %s", exc)
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: worker.stop_event.set())
    log.info("worker in group %r consuming %r", group, config.topic)
    worker.run()
    return 0
