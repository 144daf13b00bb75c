"""A durable, ordered outbox: events wait on disk while the broker is unreachable.

``publish`` appends to a file and returns at once (playback never waits on the network); a
background thread sends the oldest pending event, and only after the broker acknowledged it is
it removed. A crash between the ack and the removal re-sends one event, which the store's
idempotent upsert (keyed by ``event_id``) absorbs.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from kafka import KafkaProducer
from kafka.errors import KafkaError

from core.bus.topics import ensure_topics
from core.errors import BusError
from core.events import PlayEvent

MAX_BACKOFF_S = 5.0


class Outbox:
    """Events in send order in a JSON-lines file.

    Parameters
    ----------
    path : Path
        The file (created if missing).
    """

    def __init__(self, path: Path):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(exist_ok=True)
        self._lock = threading.Lock()

    def append(self, event: PlayEvent) -> None:
        """Add an event at the end."""
        with self._lock, self.path.open("ab") as handle:
            handle.write(event.to_json() + b"\n")

    def _lines(self) -> list[bytes]:
        return [line for line in self.path.read_bytes().splitlines() if line.strip()]

    def pending(self) -> list[bytes]:
        """Events not yet acknowledged, oldest first."""
        with self._lock:
            return self._lines()

    def drop_first(self, count: int) -> None:
        """Remove the ``count`` oldest events (after they were acknowledged)."""
        with self._lock:
            lines = self._lines()
            tmp = self.path.with_suffix(".tmp")
            tmp.write_bytes(b"".join(line + b"\n" for line in lines[count:]))
            tmp.replace(self.path)


class EventPublisher:
    """Sends play events to Kafka through an ``Outbox``, never blocking the caller.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers.
    topic : str
        Events topic.
    outbox : Outbox
        Where events wait.
    """

    def __init__(self, bootstrap: str, topic: str, outbox: Outbox):
        self.bootstrap, self.topic, self.outbox = bootstrap, topic, outbox
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._producer: KafkaProducer | None = None
        self.connected = False
        self._thread = threading.Thread(target=self._run, name="encore-outbox", daemon=True)
        self._thread.start()

    def publish(self, event: PlayEvent) -> None:
        """Queue an event for delivery (returns immediately)."""
        self.outbox.append(event)
        self._wake.set()

    def _send_pending(self) -> None:
        batch = self.outbox.pending()
        if not batch:
            return
        if self._producer is None:
            ensure_topics(self.bootstrap, self.topic)  # a new or restarted broker has none
            self._producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                           max_in_flight_requests_per_connection=1, retries=0,
                                           request_timeout_ms=5000, max_block_ms=5000)
        for line in batch:
            key = json.loads(line)["session_id"].encode()
            # One at a time, acknowledged before the next: order survives broker outages.
            self._producer.send(self.topic, key=key, value=line).get(timeout=10)
            self.outbox.drop_first(1)
        self.connected = True

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                self._send_pending()
                backoff = 0.2
                self._wake.wait(timeout=1.0)
                self._wake.clear()
            except (KafkaError, BusError, OSError):
                self.connected = False
                if self._producer is not None:
                    self._producer.close(timeout=0)
                    self._producer = None
                self._stop.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until the outbox is empty; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        while self.outbox.pending():
            if time.monotonic() > deadline:
                return False
            self._wake.set()
            time.sleep(0.05)
        return True

    def close(self) -> None:
        """Stop the sender thread (pending events stay in the outbox for next time)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        if self._producer is not None:
            self._producer.close(timeout=2)
