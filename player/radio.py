"""Endless listening: when nothing the listener chose is left, the radio's next pick waits in the
queue before the current track ends, so the engine continues into it without a gap."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from core.playback.playqueue import PlayQueue
from core.playback.source import PlayItem

ToItem = Callable[[dict], PlayItem | None]
Excluded = Callable[[], set[str]]


class Radio(QObject):
    """Keeps one radio pick queued while the radio is on and the listener's own tracks run out.

    Parameters
    ----------
    queue : PlayQueue
    to_item : callable
        A pick (a recommendation dict) as something to play; ``None`` if it cannot be played.
    excluded : callable
        Ids never to pick now: playing, queued and recently played tracks.
    """

    _queueChanged = Signal()  # the decoder thread changes the queue too: refill on this thread

    def __init__(self, queue: PlayQueue, to_item: ToItem, excluded: Excluded,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.queue, self._to_item, self._excluded = queue, to_item, excluded
        self.enabled = True
        self._picks: list[dict] = []
        self._queueChanged.connect(self.refill)
        queue.subscribe(self._queueChanged.emit)

    def set_enabled(self, on: bool) -> None:
        """The transport's Radio switch."""
        self.enabled = on
        self.refill()

    def set_picks(self, picks: list[dict]) -> None:
        """The session's next radio picks, best first (they replace the previous ones)."""
        self._picks = list(picks)
        self.refill()

    def refill(self) -> None:
        """Queue the first pick that is not excluded when the radio has to decide, else nothing."""
        if not (self.enabled and self.queue.needs_radio()):
            self.queue.set_radio([])
            return
        excluded = self._excluded()
        for pick in self._picks:
            item = None if pick.get("id") in excluded else self._to_item(pick)
            if item is not None:
                self.queue.set_radio([item])
                return
        self.queue.set_radio([])
