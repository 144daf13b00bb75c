"""The sidebar's data: recommendations the workers publish for this session, or, when no worker
answers in time, a direct recommendation from the store (computed off the UI thread)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from core.bus.listen import RecommendationListener
from core.errors import EncoreError
from core.playback.source import PlayItem
from core.similarity.recommend import Recommender
from core.store.mongo import MongoStore

#: How long the sidebar waits for a worker before it computes recommendations itself.
WORKER_TIMEOUT_S = 4.0
#: Candidates the fallback computes: the window drops playing, queued and recent ones.
FALLBACK_K = 15


class RecommendationFeed(QObject):
    """Follows the session's recommendations.

    Signals
    -------
    waiting(PlayItem)
        A track started (or the listener asked for tracks like it); its recommendations are on
        their way.
    received(list, str)
        Recommendation dicts for that track, best first, and where they came from (``"worker"``,
        ``"local"`` for the in-process bus, or ``"library"`` for the fallback).
    radioPicks(list)
        The session's next radio picks in order (the document's ``radio``; the recommendations
        when it has none).
    problem(str)
        Why the worker's recommendations are missing (empty string: resolved).
    """

    waiting = Signal(object)
    received = Signal(object, str)
    radioPicks = Signal(object)
    problem = Signal(str)
    _doc = Signal(object)
    _error = Signal(str)
    _fallback = Signal(str, object, str)

    def __init__(self, store: MongoStore, session_id: str, *, bootstrap: str | None = None,
                 bus=None, timeout_s: float = WORKER_TIMEOUT_S, parent: QObject | None = None):
        super().__init__(parent)
        self.store, self.session_id = store, session_id
        self.seed: str | None = None
        self._answered = self._gave_up = self._closed = False
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="encore-fallback")
        self._recommender = Recommender(store)
        self._timer = QTimer(self, singleShot=True, interval=int(timeout_s * 1000))
        self._timer.timeout.connect(self._timed_out)
        self._doc.connect(self._on_doc)
        self._error.connect(self._give_up)
        self._fallback.connect(self._on_fallback)
        self._listener = None
        self._bus = bus
        if bus is not None and hasattr(bus, "subscribe"):
            bus.subscribe(self._from_bus)
        elif bootstrap:
            self._listener = RecommendationListener(bootstrap, session_id, self._emit_doc,
                                                    self._emit_error)

    # Listener threads may still report while the window closes: drop what comes after close().
    def _emit_doc(self, doc: dict) -> None:
        if not self._closed:
            self._doc.emit(doc)

    def _emit_error(self, message: str) -> None:
        if not self._closed:
            self._error.emit(message)

    def _from_bus(self, doc: dict | None) -> None:
        if isinstance(doc, dict) and doc.get("session_id") == self.session_id:
            self._emit_doc(doc)

    def expect(self, item: PlayItem) -> None:
        """Expect recommendations seeded by ``item`` (it started, or it was sent as a seed)."""
        self.seed, self._answered, self._gave_up = item.track_id, False, False
        self.waiting.emit(item)
        self._timer.start()

    def _on_doc(self, doc: dict) -> None:
        if doc.get("seed") != self.seed:
            return  # for an earlier track (or a skip of it)
        self._timer.stop()
        self._answered = True
        self.problem.emit("")
        recs = list(doc.get("recommendations") or [])
        self.received.emit(recs, "worker" if self._listener is not None else "local")
        self.radioPicks.emit(list(doc.get("radio") or recs))

    def _timed_out(self) -> None:
        if getattr(self._bus, "connected", True):
            self._give_up("The recommender worker did not answer")
        else:  # the publisher has not reached the broker: say so, not "no worker"
            self._give_up(f"Kafka at {self._bus.bootstrap} is unreachable (play events wait in "
                          "the outbox)")

    def _give_up(self, reason: str) -> None:
        """Tell the user and recommend from the store directly."""
        if self._answered or self._gave_up or self.seed is None or self._closed:
            return
        self._gave_up = True
        self._timer.stop()
        self.problem.emit(f"{reason}; showing recommendations straight from the library.")
        seed = self.seed
        self._pool.submit(self._direct, seed)

    def _direct(self, seed: str) -> None:  # runs on the fallback thread
        try:
            recent = tuple(self.store.recent_track_ids(self.session_id))
            recs = self._recommender.recommend([seed], k=FALLBACK_K, exclude=recent)
            self._fallback.emit(seed, [r.as_dict() | {"why": r.why} for r in recs], "")
        except EncoreError as exc:
            self._fallback.emit(seed, [], str(exc))

    def _on_fallback(self, seed: str, recs: list, error: str) -> None:
        if seed != self.seed or self._answered:
            return
        if error:
            self.problem.emit(f"No recommendations: {error}")
        self.received.emit(recs, "library")
        self.radioPicks.emit(recs)

    def close(self) -> None:
        """Stop listening, without waiting on the UI thread for the listener's thread to end:
        with the broker gone it sits in a connection attempt for seconds (``_closed`` already
        drops whatever it still reports)."""
        self._closed = True
        self._timer.stop()
        if self._listener is not None:
            threading.Thread(target=self._listener.close, name="encore-recs-close", daemon=True).start()
        self._pool.shutdown(wait=False, cancel_futures=True)
