"""The in-process event bus: the fallback where no Kafka broker can run.

Same interface as ``EventPublisher`` (``publish``, ``flush``, ``close``); events are processed by
the worker's own logic on a background thread of this process, and subscribers receive each
session's new recommendations.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from core.errors import NotFoundError, StoreError
from core.events import PlayEvent
from core.similarity.recommend import Recommender
from core.similarity.session import recommend_for_event
from core.store.mongo import MongoStore

log = logging.getLogger("encore.bus")
Subscriber = Callable[[dict], None]


class InProcessBus:
    """Play events handled in this process.

    Parameters
    ----------
    store : MongoStore
        The library and session data.
    k : int
        Recommendations per event.
    """

    def __init__(self, store: MongoStore, *, k: int = 5):
        self.store, self.k = store, k
        self.recommender = Recommender(store)
        self._queue: queue.Queue[PlayEvent | None] = queue.Queue()
        self._subscribers: list[Subscriber] = []
        self._thread = threading.Thread(target=self._run, name="encore-bus", daemon=True)
        self._thread.start()

    def subscribe(self, callback: Subscriber) -> None:
        """Call ``callback(doc)`` (on the bus thread) for every new recommendations document."""
        self._subscribers.append(callback)

    def publish(self, event: PlayEvent) -> None:
        """Queue an event (returns immediately)."""
        self._queue.put(event)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event has been processed."""
        done = threading.Event()
        threading.Thread(target=lambda: (self._queue.join(), done.set()), daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        """Stop after the queued events."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self._handle(event)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _handle(self, event: PlayEvent) -> None:
        """Process one event and hand its recommendations to the subscribers, if it has any."""
        try:
            doc = recommend_for_event(self.store, self.recommender, event, k=self.k)
        except (NotFoundError, StoreError) as exc:
            log.warning("event for %s not processed: %s", event.track_id, exc)
            return
        except Exception:  # the bus thread must outlive a bug in one event's processing
            log.exception("event for %s failed", event.track_id)
            return
        if doc is None:  # an event that needs no answer (an unlike)
            return
        for callback in self._subscribers:
            try:
                callback(doc)
            except Exception:  # nor may one subscriber's bug stop the others or the thread
                log.exception("a recommendations subscriber failed on %s", event.track_id)
