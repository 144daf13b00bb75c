"""Follow the library folders while the player runs: file-system events, debounced and batched,
become rescans of the folders they touched.

A watchdog observer reports events from its own thread; they only mark folders as dirty. A worker
thread waits until no event has arrived for ``quiet_s`` (a copy of an album is one batch, not one
rescan per file), then rescans the dirty folders together (so a move between two watched folders
is a move) and hands the report to a callback. No Qt: the player adapts the callback to a signal.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MODIFIED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from core.audio.decode import supported_extensions
from core.library.folders import is_inside, list_folders, outermost
from core.library.rescan import RescanReport, rescan
from core.store.mongo import MongoStore

log = logging.getLogger(__name__)
#: Events that can change the library; opening and reading files (a rescan does) cannot.
RELEVANT = frozenset({EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MODIFIED, EVENT_TYPE_MOVED,
                      EVENT_TYPE_CLOSED})
QUIET_S = 2.0
#: Seconds before a failed rescan (database down, an import holding the lock) is tried again.
RETRY_S = 30.0


class LibraryWatcher:
    """Watch folders and rescan them after changes.

    Parameters
    ----------
    store : MongoStore
    on_result : callable
        ``on_result(report)`` after each rescan, called from the watcher's thread.
    folders : list of str, optional
        Folders to watch (default: the remembered folders whose watch flag is set).
    quiet_s : float
        Seconds without events before a batch is rescanned.
    on_error : callable, optional
        ``on_error(exc)`` when a rescan fails (the database is down, an import is running);
        watching goes on and the folders are rescanned again after ``retry_s``.
    mp_context : str
        How the import's worker processes start (``"spawn"`` from a process with threads).
    jobs : int, optional
        Analysis processes per rescan.
    retry_s : float
        Delay before a failed rescan is tried again.
    """

    def __init__(self, store: MongoStore, on_result: Callable[[RescanReport], None], *,
                 folders: list[str] | None = None, quiet_s: float = QUIET_S,
                 on_error: Callable[[Exception], None] | None = None, mp_context: str = "spawn",
                 jobs: int | None = None, retry_s: float = RETRY_S):
        self.store, self.on_result, self.quiet_s, self.retry_s = store, on_result, quiet_s, retry_s
        self.on_error = on_error or (lambda exc: log.warning("library rescan failed: %s", exc))
        self.folders = folders
        self.import_args = {"mp_context": mp_context, "jobs": jobs}
        self._dirty: set[str] = set()
        self._last_event = 0.0
        self._not_before = 0.0  # after a failure: when to try again
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._observer = None
        self._thread: threading.Thread | None = None
        self.roots: list[str] = []

    def start(self) -> None:
        """Start watching (once per watcher; missing folders are left out)."""
        folders = self.folders if self.folders is not None else [
            f.path for f in list_folders(self.store) if f.watch]
        self.roots = [f for f in outermost([os.path.abspath(p) for p in folders]) if os.path.isdir(f)]
        self._observer = Observer()
        handler = _Handler(self._changed)
        for root in self.roots:
            self._observer.schedule(handler, root, recursive=True)
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="encore-library-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching; a running rescan is cancelled (what it finished stays)."""
        self._stop.set()
        self._cancel.set()
        with self._wake:
            self._wake.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def _changed(self, path: str) -> None:
        roots = [r for r in self.roots if is_inside(path, r)]
        with self._wake:
            self._dirty.update(roots)
            self._last_event = time.monotonic()
            self._wake.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            if batch:
                self._rescan(batch)

    def _next_batch(self) -> list[str]:
        """Wait for dirty folders, then for ``quiet_s`` without events; take the dirty set."""
        with self._wake:
            while not self._stop.is_set():
                due = max(self._last_event + self.quiet_s, self._not_before)
                if self._dirty and time.monotonic() >= due:
                    batch, self._dirty = sorted(self._dirty), set()
                    return batch
                self._wake.wait(due - time.monotonic() if self._dirty else None)
        return []

    def _rescan(self, folders: list[str]) -> None:
        try:
            report = rescan(self.store, folders, cancel=self._cancel, **self.import_args)
        except Exception as exc:  # whatever it was, the watcher must keep running
            with self._wake:
                self._dirty.update(folders)
                self._not_before = time.monotonic() + self.retry_s
            self.on_error(exc)
            return
        if not report.cancelled:
            self.on_result(report)


class _Handler(FileSystemEventHandler):
    """Passes the paths of relevant events on: audio files, and folders (a moved or deleted
    folder is one event for all the files in it)."""

    def __init__(self, changed: Callable[[str], None]):
        super().__init__()
        self.changed = changed
        self.extensions = supported_extensions()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in RELEVANT or (event.is_directory
                                                and event.event_type == EVENT_TYPE_MODIFIED):
            return  # a folder is "modified" by any file in it, audio or not
        for path in (event.src_path, getattr(event, "dest_path", "")):
            path = os.fsdecode(path)
            if path and (event.is_directory or os.path.splitext(path)[1].lower() in self.extensions):
                self.changed(path)
