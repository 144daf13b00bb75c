"""Cover thumbnails, read and scaled in a thread pool, kept in memory, announced when ready.

A worker finds the track's cover with ``core.audio.covers.cached_cover`` (embedded art, else the
folder's ``cover``/``folder``/``front`` image, written once to the disk cache) and scales it to a
``QImage``; only the UI thread turns it into a ``QPixmap`` (pixmaps are not thread-safe). Views ask
``thumbnail(track, size)``: a hit returns at once, a miss returns ``None`` and queues one load, and
``ready`` tells them to repaint.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from core.audio.covers import cached_cover

#: Thumbnails kept in memory (a 160 px cover is ~100 KB).
CAPACITY = 600
log = logging.getLogger("encore.player.covers")
Key = tuple[str, int]


def load_thumbnail(track: str, size: int, cache_dir: str | os.PathLike) -> QImage | None:
    """A track's cover scaled to fit ``size`` × ``size`` (any thread), or ``None`` without one.

    Parameters
    ----------
    track : str
        Audio file.
    size : int
        Longest side in pixels.
    cache_dir : str or PathLike
        The disk cache of original covers.
    """
    try:
        path = cached_cover(track, cache_dir)
    except OSError as exc:  # an unreadable file or a full disk: no cover, not a crash
        log.info("no cover for %s: %s", track, exc)
        return None
    image = QImage(str(path)) if path is not None else QImage()
    if image.isNull():
        return None
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


class _Done(QObject):
    finished = Signal(str, int, object)


class _Load(QRunnable):
    def __init__(self, key: Key, cache_dir: str, done: _Done):
        super().__init__()
        self.key, self.cache_dir, self.done = key, cache_dir, done

    def run(self) -> None:
        track, size = self.key
        self.done.finished.emit(track, size, load_thumbnail(track, size, self.cache_dir))


class CoverLoader(QObject):
    """Thumbnails by track path and size.

    Parameters
    ----------
    cache_dir : str or PathLike
        ``core.audio.covers.cover_cache_dir(config)``.
    threads : int
        Loader threads (its own pool: covers never wait behind other work, nor starve it).

    Signals
    -------
    ready(str, int)
        The thumbnail of ``(track, size)`` is loaded (or known to be missing).
    """

    ready = Signal(str, int)

    def __init__(self, cache_dir: str | os.PathLike, *, threads: int = 2, capacity: int = CAPACITY,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.cache_dir, self.capacity = str(cache_dir), capacity
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._cache: OrderedDict[Key, QPixmap | None] = OrderedDict()
        self._pending: set[Key] = set()
        self._done = _Done(self)  # lives in this thread, so results arrive here queued
        self._done.finished.connect(self._finished)

    def thumbnail(self, track: str, size: int) -> QPixmap | None:
        """The thumbnail if loaded; else ``None`` (a load is queued once, ``ready`` follows)."""
        key = (track, size)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if key not in self._pending:
            self._pending.add(key)
            self.pool.start(_Load(key, self.cache_dir, self._done))
        return None

    def is_known(self, track: str, size: int) -> bool:
        """Whether ``(track, size)`` was loaded (with or without a cover)."""
        return (track, size) in self._cache

    def _finished(self, track: str, size: int, image: QImage | None) -> None:
        key = (track, size)
        self._pending.discard(key)
        self._cache[key] = QPixmap.fromImage(image) if image is not None else None
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.ready.emit(track, size)

    def close(self) -> None:
        """Drop queued loads and wait for running ones (before the window goes)."""
        self.pool.clear()
        self.pool.waitForDone()
