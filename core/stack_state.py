"""The local stack's shared files: ``stack.json`` (where it runs) and ``stack.lock``.

``stack.json`` is written only by the stack's supervisor (and by ``services down`` when the
supervisor is already gone)::

    {"ports": {"mongo": 40123, "kafka": 40124},          # kept after a stop, reused at restart
     "supervisor": {"pid", "create_time", "cmdline"},
     "mongo": {"pid", "create_time", "cmdline", "port", "data_path"},
     "kafka": {...}}

Every file here is private to the user (0600) in a private folder (0700): the database files
and logs hold the user's library.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from core.config import private_dir
from core.errors import ServiceError

STATE = "stack.json"
LOCK = "stack.lock"
LOCK_TIMEOUT_S = 90.0  # longer than a start (30 s) plus a stop (a few seconds) by someone else


def services_folder(path: Path) -> Path:
    """Create (if needed) the services folder and make it private even if an older Encore did not."""
    private_dir(path.parent)
    path.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)
    return path


@contextlib.contextmanager
def stack_lock(folder: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold ``stack.lock`` (an ``flock``, released by the kernel if the holder dies).

    Parameters
    ----------
    folder : Path
        The services folder.
    wait : bool
        Wait up to ``LOCK_TIMEOUT_S`` for it; otherwise give up at once.

    Yields
    ------
    bool
        Whether the lock is held (always True when ``wait``).

    Raises
    ------
    ServiceError
        If another process holds it for longer than ``LOCK_TIMEOUT_S``.
    """
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        held = _acquire(fd, LOCK_TIMEOUT_S if wait else 0.0)
        if wait and not held:
            raise ServiceError(f"another Encore process has been starting or stopping the local "
                               f"stack for over {LOCK_TIMEOUT_S:.0f} s ({folder / LOCK})")
        yield held
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(fd: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def read_state(folder: Path) -> dict:
    """The content of ``stack.json`` (``{}`` when missing or unreadable)."""
    try:
        state = json.loads((folder / STATE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(folder: Path, state: dict) -> None:
    """Replace ``stack.json`` atomically (a reader sees the old or the new file, never half)."""
    tmp = folder / f"{STATE}.{os.getpid()}.tmp"
    write_private(tmp, json.dumps(state, indent=1))
    tmp.replace(folder / STATE)


def write_private(path: Path, text: str) -> None:
    """Write a text file readable by this user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def open_log(path: Path):
    """Open a log file for appending, private to the user (binary, for child processes)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
