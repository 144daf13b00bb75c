"""Reads the library's rows on a background thread, in batches, so the window opens at once."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from core.errors import EncoreError
from core.library.catalog import iter_rows
from core.store.mongo import MongoStore
from player.history import read_history


class LibraryLoader(QObject):
    """Signals ``batch(list[TrackRow])`` per batch, ``history(ListeningHistory)``, then
    ``done(int)`` or ``failed(str)``.

    Python objects cross threads as ``object`` signals: a ``list`` signal is converted to a Qt
    list on the way, and PySide6 crashed doing that (``none_dealloc``) under a 50,000-row load.
    """

    batch = Signal(object)
    history = Signal(object)
    done = Signal(int)
    failed = Signal(str)

    def __init__(self, store: MongoStore, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store

    def start(self) -> None:
        """Load on a new thread."""
        threading.Thread(target=self._run, name="encore-library", daemon=True).start()

    def _run(self) -> None:
        total = 0
        try:
            for rows in iter_rows(self.store):
                total += len(rows)
                self.batch.emit(rows)
            self.history.emit(read_history(self.store))
        except EncoreError as exc:
            self.failed.emit(str(exc))
            return
        self.done.emit(total)
