"""Logging for the player: one line per repeated problem a minute, not one per retry.

With its broker gone, kafka-python logs a connection error per attempt from several threads; a
player left running would fill the terminal (and any log file) with them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

PERIOD_S = 60.0
#: Numbers (ports, backoff seconds, counts) do not make a message new.
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


class RepeatFilter(logging.Filter):
    """Passes a message (by logger and text, numbers aside) at most once per ``period_s``, then
    says how many repeats it held back."""

    def __init__(self, period_s: float = PERIOD_S, *, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.period_s, self._clock = period_s, clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, _NUMBER.sub("#", str(record.msg)))
        now = self._clock()
        last, held = self._seen.get(key, (-self.period_s, 0))
        if now - last < self.period_s:
            self._seen[key] = (last, held + 1)
            return False
        self._seen[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {self.period_s:.0f} s)"
        return True


def setup_logging() -> None:
    """INFO for Encore, WARNING for Kafka's client, repeats held back."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # connection chatter, not Encore's news
    for handler in logging.getLogger().handlers:
        handler.addFilter(RepeatFilter())
