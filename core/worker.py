"""The recommender worker: a Kafka consumer-group member turning events into top-5 lists.

Per event: validate (malformed ones go to the dead-letter topic with the reason), hand it to
``recommend_for_event`` (which records the play idempotently under its ``event_id`` and stores
the session's next tracks), which publishes the result keyed by session as soon as it is
computed (the stored copy and the play counter are written after it). A batch's offsets are
committed only after

- every result and dead letter it produced was acknowledged by Kafka (a failed send means no
  commit: the batch is read again), and
- a journaled write made the batch's plays durable (``core.store.plays.journal_barrier``).

Nothing makes the worker exit but a stop request: Kafka errors close the clients and reconnect
with backoff; while the database is down the worker pauses its partitions and keeps polling (so
it stays in the group however long the outage lasts), then resumes from the first event it
could not store. Re-processing is harmless: plays are keyed by ``event_id``.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from core.bus.clients import Backoff, close_quietly, new_producer
from core.bus.topics import DEAD_LETTER, RECOMMENDATIONS, ensure_topics
from core.config import Config
from core.errors import BusError, EventError, NotFoundError, StoreError
from core.events import PlayEvent, parse_event
from core.similarity.recommend import Recommender
from core.similarity.session import WORKER_ID, recommend_for_event
from core.store.mongo import MongoStore
from core.store.plays import journal_barrier, record_rejected

log = logging.getLogger("encore.worker")
SESSION_TIMEOUT_MS = 6000  # tansu makes joins wait half of this: keep it short
MAX_BACKOFF_S = 5.0
CLOSE_TIMEOUT_S = 3.0
SEND_TIMEOUT_S = 10.0
POLL_MS = 500
DEAD_LETTER_BYTES = 8192


class RecommenderWorker:
    """One member of the recommender consumer group.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers (reached in ``run``, retried until it answers).
    store : MongoStore
        The library and session data.
    topic : str
        Events topic.
    group : str
        Consumer group id; workers in one group share the partitions.
    k : int
        Recommendations per event.
    max_poll_interval_ms : int
        Kafka drops a member that does not poll this often; the worker polls even while the
        database is down.
    """

    def __init__(self, bootstrap: str, store: MongoStore, *, topic: str = "music_topic",
                 group: str = "encore-recommender", k: int = 5,
                 max_poll_interval_ms: int = 300000):
        self.bootstrap, self.store, self.topic, self.group, self.k = bootstrap, store, topic, group, k
        self.max_poll_interval_ms = max_poll_interval_ms
        self.recommender = Recommender(store)
        self.stop_event = threading.Event()
        self.processed = 0
        self.member = f"{group}/{WORKER_ID}"
        self.consumer: KafkaConsumer | None = None
        self.producer: KafkaProducer | None = None
        self._sends: list = []
        self._resume_at: float | None = None  # partitions paused (database down) until then
        self._db_backoff = Backoff(0.5, MAX_BACKOFF_S)

    # -- connection --------------------------------------------------------------------------
    def run(self) -> None:
        """Consume until ``stop_event`` is set, reconnecting after any Kafka failure."""
        backoff = Backoff(0.5, MAX_BACKOFF_S)
        while not self.stop_event.is_set():
            try:
                self._connect()
                backoff.reset()
                if self.consumer is not None:
                    self._consume()
            except Exception as exc:  # reconnect whatever broke; only a stop request ends it
                log.warning("Kafka at %s failed (%r); reconnecting", self.bootstrap, exc)
                backoff.wait(self.stop_event)
            finally:
                self._disconnect()

    def _connect(self) -> None:
        ensure_topics(self.bootstrap, self.topic)  # a restarted in-memory broker has none
        if self.stop_event.is_set():  # each step may take seconds with the broker gone
            return
        self.consumer = KafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap, group_id=self.group,
            bootstrap_timeout_ms=5000,
            enable_auto_commit=False, auto_offset_reset="earliest",
            session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=1000,
            max_poll_records=50, max_poll_interval_ms=self.max_poll_interval_ms,
            # see a topic re-created after a broker restart within seconds, not minutes
            metadata_max_age_ms=5000,
            # tansu holds a fetch for its full max wait even when data is ready: keep it short
            fetch_max_wait_ms=20)
        self.producer = new_producer(self.bootstrap)
        self._resume_at = None

    def _disconnect(self) -> None:
        # Bounded: when the broker is already gone (the player and its local stack exiting),
        # leaving the group would otherwise retry for the full request timeout.
        close_quietly(self.consumer, CLOSE_TIMEOUT_S)
        close_quietly(self.producer, CLOSE_TIMEOUT_S)
        self.consumer = self.producer = None
        self._sends.clear()

    # -- batches -----------------------------------------------------------------------------
    def _consume(self) -> None:
        while not self.stop_event.is_set():
            batches = self.consumer.poll(timeout_ms=POLL_MS)
            records = [r for part in batches.values() for r in part]
            if records:
                self._process(records)
            elif self._resume_at is not None and time.monotonic() >= self._resume_at:
                self.consumer.resume(*self.consumer.paused())
                self._resume_at = None

    def _process(self, records) -> None:
        try:
            for record in records:
                self.handle(record.value, record.key)
            journal_barrier(self.store, self.member)
        except StoreError as exc:
            self._pause(records, exc)
            return
        self._await_sends()
        self.consumer.commit(_next_offsets(records))
        self._db_backoff.reset()

    def _await_sends(self) -> None:
        """Raise ``BusError`` unless Kafka acknowledged every result and dead letter."""
        sends, self._sends = self._sends, []
        if not sends:
            return
        self.producer.flush(timeout=SEND_TIMEOUT_S)
        failed = [f for f in sends if not f.succeeded()]
        if failed:
            raise BusError(f"{len(failed)} of {len(sends)} sends not acknowledged "
                           f"({failed[0].exception!r}); the batch will be read again")

    def _pause(self, records, exc: StoreError) -> None:
        """Database down: stop fetching, rewind to the batch, keep polling (group membership)."""
        delay = self._db_backoff.next()
        log.warning("database unavailable (%s); pausing for %.1f s", exc, delay)
        first: dict[TopicPartition, int] = {}
        for record in records:
            first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
        assigned = self.consumer.assignment()
        for tp, offset in first.items():
            if tp in assigned:  # a rebalance may have taken it; its new owner starts over
                self.consumer.seek(tp, offset)
        self.consumer.pause(*assigned)
        self._sends.clear()  # the batch is redone; its sends will be made again
        self._resume_at = time.monotonic() + delay

    # -- one event ---------------------------------------------------------------------------
    def handle(self, value: bytes | None, key: bytes | None = None) -> dict | None:
        """Process one message; returns the stored recommendations, or ``None``.

        Raises
        ------
        StoreError
            If the database is unreachable (the caller retries; nothing is committed).
        BusError
            If the answer cannot be handed to Kafka (the worker reconnects; nothing is committed).
        """
        try:
            event = parse_event(value)
        except EventError as exc:
            self._dead_letter(value, key, str(exc))
            return None
        try:
            # Published as soon as it is computed; the writes that follow it are done before
            # the batch is committed all the same.
            doc = recommend_for_event(self.store, self.recommender, event, k=self.k,
                                      on_answer=lambda answer: self._publish(event, answer))
        except (StoreError, BusError):  # the batch is read again, nothing is set aside
            raise
        except NotFoundError as exc:
            reason = str(exc)
        except Exception as exc:  # a bug must not block the partition: keep the event aside
            log.exception("processing %s failed", event.event_id)
            reason = f"worker error: {exc!r}"
        else:
            self.processed += 1
            return doc
        record_rejected(self.store, event.event_id, reason)  # its sender may stop re-sending
        self._dead_letter(value, key, reason)
        return None

    def _publish(self, event: PlayEvent, doc: dict) -> None:
        try:
            self._sends.append(self.producer.send(
                RECOMMENDATIONS, key=event.session_id.encode(), value=json.dumps(doc).encode()))
        except KafkaError as exc:  # a Kafka failure, not the event's: it must not be set aside
            raise BusError(f"cannot publish the answer to {event.event_id}: {exc!r}") from exc

    def _dead_letter(self, value: bytes | None, key: bytes | None, reason: str) -> None:
        log.warning("dead-lettering event: %s", reason)
        payload = {"reason": reason, "value": (value or b"")[:DEAD_LETTER_BYTES].decode(
            "utf-8", "replace"), "topic": self.topic, "at": time.time()}
        # Bounded key too: a dead letter larger than the producer's request limit would fail
        # on every attempt and wedge the partition behind it.
        self._sends.append(self.producer.send(DEAD_LETTER, key=key[:DEAD_LETTER_BYTES] if key else key,
                                              value=json.dumps(payload).encode()))


def _next_offsets(records) -> dict[TopicPartition, OffsetAndMetadata]:
    """What to commit after ``records``: one past the last offset of each partition."""
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        offsets[tp] = max(offsets.get(tp, -1), record.offset + 1)
    return {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()}


def run_worker(config: Config, *, group: str) -> int:
    """``encore worker``: run until SIGINT/SIGTERM (Kafka and database outages are waited out)."""
    from core.services import resolve_kafka_bootstrap, resolve_mongo_uri

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka.cluster").setLevel(logging.WARNING)  # a line per metadata refresh
    store = MongoStore(resolve_mongo_uri(config), config.db_name)
    worker = RecommenderWorker(resolve_kafka_bootstrap(config), store, topic=config.topic,
                               group=group)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: worker.stop_event.set())
    if _schema_ready(store, worker.stop_event):
        log.info("worker in group %r consuming %r", group, config.topic)
        worker.run()
    store.close()
    return 0


def _schema_ready(store: MongoStore, stop: threading.Event) -> bool:
    """Prepare the database, waiting (with backoff) while it is unreachable; ``False`` if stopped."""
    backoff = Backoff(0.5, MAX_BACKOFF_S)
    while not stop.is_set():
        try:
            store.ensure_schema()
            return True
        except StoreError as exc:
            log.warning("%s; retrying", exc)
            backoff.wait(stop)
    return False
