"""The play queue and the history behind "previous", shared by the UI and the decoder thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from core.playback.source import PlayItem

Listener = Callable[[], None]


class PlayQueue:
    """Upcoming tracks. Every method is thread-safe; listeners run on the thread that changed it.

    The decoder thread takes the next track with ``pop_next`` when a file ends, the UI edits
    the rest; a short lock (never taken by the audio callback) keeps both views consistent.
    """

    def __init__(self, items: Iterable[PlayItem] = ()):
        self._items = list(items)
        self._history: list[PlayItem] = []
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener()`` after every change."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def items(self) -> list[PlayItem]:
        """A copy of the upcoming tracks."""
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, items: Iterable[PlayItem]) -> None:
        """Append to the end."""
        with self._lock:
            self._items.extend(items)
        self._changed()

    def insert_next(self, items: Iterable[PlayItem]) -> None:
        """Put before everything else ("play next")."""
        with self._lock:
            self._items[0:0] = list(items)
        self._changed()

    def move(self, rows: list[int], before: int) -> None:
        """Move the tracks at ``rows`` (in their order) so they sit before row ``before``."""
        with self._lock:
            rows = sorted(set(r for r in rows if 0 <= r < len(self._items)))
            moving = [self._items[r] for r in rows]
            before -= sum(1 for r in rows if r < before)
            rest = [item for i, item in enumerate(self._items) if i not in set(rows)]
            before = min(max(0, before), len(rest))
            self._items = rest[:before] + moving + rest[before:]
        self._changed()

    def remove(self, rows: Iterable[int]) -> None:
        """Drop the tracks at ``rows``."""
        with self._lock:
            drop = set(rows)
            self._items = [item for i, item in enumerate(self._items) if i not in drop]
        self._changed()

    def clear(self) -> None:
        """Drop every upcoming track."""
        with self._lock:
            self._items.clear()
        self._changed()

    def pop_next(self) -> PlayItem | None:
        """Take the first track, or ``None`` when the queue is empty."""
        with self._lock:
            item = self._items.pop(0) if self._items else None
        if item is not None:
            self._changed()
        return item

    def played(self, item: PlayItem) -> None:
        """Remember a started track for ``previous``."""
        with self._lock:
            if not self._history or self._history[-1] is not item:
                self._history = [*self._history[-199:], item]

    def previous(self, current: PlayItem | None) -> PlayItem | None:
        """The track before ``current``; ``current`` goes back to the head of the queue."""
        with self._lock:
            if self._history and self._history[-1] is current:
                self._history.pop()
            if not self._history:
                return None
            item = self._history.pop()
            if current is not None:
                self._items.insert(0, current)
        self._changed()
        return item
