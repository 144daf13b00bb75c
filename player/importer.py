"""Runs ``encore import``'s pipeline on a background thread and reports through signals."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal

from core.errors import EncoreError
from core.library.analyse import AnalyseOptions
from core.library.catalog import flagged_tracks
from core.library.pipeline import ImportReport, run_import
from core.store.mongo import MongoStore
from core.store.paths import display

#: Progress messages that name a phase rather than a file (no per-file ETA for them).
PHASES = {"analysing", "learning audio words", "shingles and MinHash", "clustering"}


class ImportRunner(QObject):
    """One import. The pipeline's worker processes analyse; this thread stores; Qt only listens.

    Signals
    -------
    progress(int, int, str, float)
        Files done, files to do, current file or phase, estimated seconds left (-1: unknown).
    finished(object, list)
        The ``ImportReport`` and the ``(path, issues)`` of imported files with quality issues.
    failed(str)
        The import stopped (database down, unreadable folder, another import running, or any
        unexpected error): the page must never stay on "Importing" because the thread died.
    """

    progress = Signal(int, int, str, float)
    finished = Signal(object, object)
    failed = Signal(str)

    def __init__(self, store: MongoStore, folder: str, options: AnalyseOptions, *,
                 jobs: int | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.store, self.folder, self.options, self.jobs = store, folder, options, jobs
        self.cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="encore-import", daemon=True)
        self._started = 0.0
        self._last_emit = 0.0

    def start(self) -> None:
        """Begin (returns at once)."""
        self._started = time.monotonic()
        self._thread.start()

    def is_running(self) -> bool:
        """Whether the import thread is still working."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the import ends (tests, shutdown)."""
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            report = run_import(self.folder, self.store, options=self.options, jobs=self.jobs,
                                progress=self._progress, cancel=self.cancel, mp_context="spawn")
            flagged = flagged_tracks(self.store, report.imported)
        except (EncoreError, OSError, ValueError) as exc:
            self.failed.emit(display(str(exc)))
            return
        except Exception as exc:  # whatever it was, the wizard must hear that the import ended
            self.failed.emit(display(f"{type(exc).__name__}: {exc}"))
            return
        self.finished.emit(report, flagged)

    def _progress(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if now - self._last_emit < 0.1 and done < total:
            return  # the UI repaints at most ten times a second
        self._last_emit = now
        elapsed = now - self._started
        eta = elapsed / done * (total - done) if done and message not in PHASES else -1.0
        self.progress.emit(done, total, message, eta)


def summary_counts(report: ImportReport) -> dict[str, int]:
    """Headline numbers of a finished import."""
    return {"imported": len(report.imported), "unchanged": report.unchanged,
            "skipped": len(report.skipped)}

