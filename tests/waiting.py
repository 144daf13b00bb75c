"""Waiting for the event a test means, with a deadline, instead of a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable


def poll(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Call ``predicate`` until it is true or ``timeout`` seconds passed; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "the condition",
             interval: float = 0.05) -> None:
    """Like ``poll``, but fail the test with ``what`` when the deadline passes."""
    if not poll(predicate, timeout, interval):
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
