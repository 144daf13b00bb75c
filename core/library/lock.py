"""One import at a time per library: a lock in the database with an owner and an expiry.

The holder renews the lock on a heartbeat; a crashed import stops renewing, so its lock expires
by itself. On the same machine a lock whose process is gone (checked with its start time, since
PIDs are reused) is taken over at once, so a rerun after a crash need not wait for the expiry.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime

import psutil

from core.errors import ImportLockedError, StoreError
from core.store.mongo import MongoStore

LOCK_NAME = "import"
#: Seconds an import lock lives without a heartbeat.
LOCK_TTL_S = 60.0
#: Seconds between heartbeats (well inside the TTL, so a busy database does not lose the lock).
HEARTBEAT_S = 10.0


def _me() -> dict:
    pid = os.getpid()
    return {"id": uuid.uuid4().hex, "host": socket.gethostname(), "pid": pid,
            "started": psutil.Process(pid).create_time()}


def _gone(owner: dict) -> bool:
    """Whether ``owner`` is a process of this machine that no longer runs."""
    if owner.get("host") != socket.gethostname() or "pid" not in owner:
        return False
    try:
        process = psutil.Process(owner["pid"])
        return (process.create_time() != owner.get("started")
                or process.status() == psutil.STATUS_ZOMBIE)
    except psutil.Error:  # no such process
        return True


def _locked_message(holder: dict) -> str:
    owner = holder.get("owner") or {}
    expires = holder.get("expires")
    until = f" (its lock expires at {expires:%H:%M:%S} UTC unless it is still working)" \
        if isinstance(expires, datetime) else ""
    return (f"another import is already running on this library: process {owner.get('pid', '?')} "
            f"on {owner.get('host', '?')}{until}. Wait for it to finish, then import again.")


@contextlib.contextmanager
def import_lock(store: MongoStore, cancel: threading.Event, *,
                ttl_s: float = LOCK_TTL_S, heartbeat_s: float = HEARTBEAT_S) -> Iterator[None]:
    """Hold the library's import lock for the ``with`` block.

    Parameters
    ----------
    store : MongoStore
    cancel : threading.Event
        Set if the lock is lost (another import took an expired lock): the import stops.
    ttl_s, heartbeat_s : float
        Lock lifetime without renewal, and the renewal period.

    Raises
    ------
    ImportLockedError
        If another live import holds the lock.
    """
    me = _me()
    holder = store.acquire_lock(LOCK_NAME, me, ttl_s)
    if holder is not None and not (_gone(holder.get("owner") or {}) and store.take_over_lock(
            LOCK_NAME, holder["owner"]["id"], me, ttl_s)):
        raise ImportLockedError(_locked_message(holder))
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(store, me["id"], ttl_s, heartbeat_s, stop,
                                                     cancel), name="encore-import-lock", daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        with contextlib.suppress(StoreError):  # a dead database: the lock expires by itself
            store.release_lock(LOCK_NAME, me["id"])


def _heartbeat(store: MongoStore, owner_id: str, ttl_s: float, period_s: float,
               stop: threading.Event, cancel: threading.Event) -> None:
    while not stop.wait(period_s):
        try:
            held = store.renew_lock(LOCK_NAME, owner_id, ttl_s)
        except StoreError:
            continue  # the writer meets the same outage and reports it
        if not held:
            cancel.set()
            return
