"""The play queue and the history behind "previous", shared by the UI and the decoder thread.

What plays next, in this order: the tracks the listener queued, then the rest of the list a
track was chosen from (``PlayOrder``: shuffle, repeat), then the radio's pick.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from core.playback.playorder import REPEAT_MODES, PlayOrder
from core.playback.source import PlayItem

Listener = Callable[[], None]
#: Where an upcoming track comes from (``PlayQueue.upcoming``).
QUEUED, CONTINUE, RADIO = "queued", "continue", "radio"


class PlayQueue:
    """Upcoming tracks. Every method is thread-safe; listeners run on the thread that changed it.

    The decoder thread takes the next track with ``next_on_end`` when a file ends, the UI edits
    the rest; a short lock (never taken by the audio callback) keeps both views consistent.
    """

    def __init__(self, items: Iterable[PlayItem] = ()):
        self._items = list(items)
        self._history: list[PlayItem] = []
        self._order: PlayOrder | None = None
        self._radio: list[PlayItem] = []
        self._shuffle, self._repeat = False, "off"
        #: The track last handed to the engine (it may still wait behind the one sounding).
        self.current: PlayItem | None = None
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
        """Take the next track (queued, else the list's next, else the radio's), or ``None``."""
        with self._lock:
            item = self._take()
        if item is not None:
            self._changed()
        return item

    def _take(self) -> PlayItem | None:
        if self._items:
            item = self._items.pop(0)
        else:
            item = self._order.advance() if self._order is not None else None
            if item is None and self._radio:
                item = self._radio.pop(0)
        if item is not None:
            self.current = item
        return item

    def next_on_end(self) -> PlayItem | None:
        """What follows a track that played to its end: itself with repeat "one", else ``pop_next``."""
        with self._lock:
            if self._repeat == "one" and self.current is not None:
                return self.current
        return self.pop_next()

    def start(self, items: Sequence[PlayItem], index: int) -> PlayItem:
        """Play ``items[index]`` and continue through ``items`` (the list as shown)."""
        with self._lock:
            self._order = PlayOrder(items, index, shuffle=self._shuffle, repeat=self._repeat)
            self.current = self._order.current
        self._changed()
        return self.current

    def play_alone(self, item: PlayItem) -> None:
        """``item`` plays without a list to continue through ("start radio")."""
        with self._lock:
            self._order, self.current = None, item
        self._changed()

    @property
    def shuffle(self) -> bool:
        """Shuffle the list being played through."""
        return self._shuffle

    def set_shuffle(self, on: bool) -> None:
        """Turn shuffle on or off (the current track keeps playing)."""
        with self._lock:
            self._shuffle = on
            if self._order is not None:
                self._order.shuffle = on
        self._changed()

    @property
    def repeat(self) -> str:
        """``"off"``, ``"all"`` (the list) or ``"one"`` (the track)."""
        return self._repeat

    def set_repeat(self, mode: str) -> None:
        """One of ``REPEAT_MODES``."""
        if mode not in REPEAT_MODES:
            raise ValueError(f"repeat must be one of {', '.join(REPEAT_MODES)}, not {mode!r}")
        with self._lock:
            self._repeat = mode
            if self._order is not None:
                self._order.repeat = mode
        self._changed()

    def needs_radio(self) -> bool:
        """The list being played through is over: after the queued tracks, the radio decides
        (its pick waits behind them, so it is ready before the last one ends)."""
        with self._lock:
            return self._order is None or self._order.exhausted()

    def set_radio(self, items: Iterable[PlayItem]) -> None:
        """The radio's next picks (played when nothing else is left)."""
        items = list(items)
        with self._lock:
            if [i.track_id for i in items] == [i.track_id for i in self._radio]:
                return
            self._radio = items
        self._changed()

    def upcoming(self, limit: int = 20) -> list[tuple[str, PlayItem]]:
        """``(origin, item)`` in play order: ``QUEUED``, then ``CONTINUE``, then ``RADIO``."""
        with self._lock:
            rows = [(QUEUED, i) for i in self._items[:limit]]
            if self._order is not None:
                rows += [(CONTINUE, i) for i in self._order.upcoming(limit - len(rows))]
            rows += [(RADIO, i) for i in self._radio]
        return rows[:limit]

    def history(self, limit: int = 50) -> list[PlayItem]:
        """Tracks started most recently, newest last."""
        with self._lock:
            return self._history[-limit:]

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
            self.current = item
        self._changed()
        return item
