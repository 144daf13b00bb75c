"""The automatic continuation after a track chosen from a list: the rest of the list, in order or
shuffled, once or repeated."""

from __future__ import annotations

import random
from collections.abc import Sequence

from core.playback.source import PlayItem

#: Repeat modes: stop at the end of the list, start the list again, replay the track.
REPEAT_MODES = ("off", "all", "one")


class PlayOrder:
    """Walks ``items`` from ``start``.

    Shuffle plays every item of the list once, in random order, before any repeats; turning it
    on or off keeps the current track and re-plans only what has not played yet. Repeat "one" is
    applied by the queue (it replays whatever track ends, whatever its origin).

    Parameters
    ----------
    items : sequence of PlayItem
        The list as the listener saw it (sorted and filtered).
    start : int
        Index of the track that plays first.
    shuffle : bool
    repeat : str
        One of ``REPEAT_MODES``.
    rng : random.Random, optional
        For reproducible shuffles in tests.
    """

    def __init__(self, items: Sequence[PlayItem], start: int = 0, *, shuffle: bool = False,
                 repeat: str = "off", rng: random.Random | None = None):
        if not 0 <= start < len(items):
            raise ValueError(f"start {start} is outside a list of {len(items)} tracks")
        self.items = list(items)
        self.repeat = repeat
        self._rng = rng or random.Random()
        self._shuffle = False
        self._order = list(range(len(items)))
        self._pos = start
        self._played = {start}  # indices played in this round
        self.shuffle = shuffle

    @property
    def current(self) -> PlayItem:
        """The list's track that plays (or played last)."""
        return self.items[self._order[self._pos]]

    @property
    def shuffle(self) -> bool:
        """Random order without repeats until every track has played."""
        return self._shuffle

    @shuffle.setter
    def shuffle(self, on: bool) -> None:
        if on == self._shuffle:
            return
        self._shuffle = on
        current = self._order[self._pos]
        if on:  # what has not played in this round, in random order, after the current track
            rest = [i for i in range(len(self.items)) if i not in self._played]
            self._rng.shuffle(rest)
            self._order, self._pos = [current, *rest], 0
        else:  # back to list order, from the current track on
            self._order, self._pos = list(range(len(self.items))), current

    def advance(self) -> PlayItem | None:
        """Move to the next track and return it; ``None`` at the end (unless repeating all)."""
        if self._pos + 1 < len(self._order):
            self._pos += 1
        elif self.repeat != "all":
            return None
        else:
            self._new_round()
        self._played.add(self._order[self._pos])
        return self.current

    def _new_round(self) -> None:
        last = self._order[self._pos]
        self._order, self._pos, self._played = list(range(len(self.items))), 0, set()
        if self._shuffle:
            self._rng.shuffle(self._order)
            if len(self._order) > 1 and self._order[0] == last:  # never the same track twice
                self._order.append(self._order.pop(0))

    def upcoming(self, limit: int = 20) -> list[PlayItem]:
        """What follows in this round, at most ``limit`` tracks (a new round is not planned yet)."""
        return [self.items[i] for i in self._order[self._pos + 1 : self._pos + 1 + limit]]

    def exhausted(self) -> bool:
        """Nothing would follow the current track."""
        return self._pos + 1 >= len(self._order) and self.repeat != "all"
