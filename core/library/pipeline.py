"""The import pipeline: discover, analyse in parallel, store as results arrive, then index.

One serial writer (the calling thread) owns database writes; worker processes only analyse.
Every finished file is stored at once, so a cancelled or crashed import resumes where it stopped:
unchanged files (same path, size and mtime) are never analysed twice.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext

import numpy as np

from core.errors import DecodeError
from core.library.analyse import AnalyseOptions, TrackAnalysis, analyse_file
from core.library.discover import Skipped, discover
from core.library.index import index_library
from core.processes import die_with_parent, keep_freed_memory
from core.store.mongo import MongoStore

Progress = Callable[[int, int, str], None]
#: Added to the analysis processes' niceness (0..19: higher yields more).
WORKER_NICENESS = 10


@dataclass
class ImportReport:
    """What an import did."""

    imported: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    cancelled: bool = False
    index: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


def _safe_analyse(path: str, options: AnalyseOptions) -> TrackAnalysis | Skipped:
    """Worker entry point: a result or a reason, never an exception across the process boundary."""
    try:
        return analyse_file(path, options)
    except DecodeError as exc:
        return Skipped(path, str(exc))
    except (OSError, ValueError, MemoryError) as exc:
        return Skipped(path, f"{type(exc).__name__}: {exc}")


def _init_worker() -> None:
    """Analysis is batch work: run it niced, so playback and the UI keep the CPU when they need it,
    without page-fault storms (see ``keep_freed_memory``), and end with the import: a killed
    import must not leave workers waiting for work forever."""
    os.nice(WORKER_NICENESS)
    keep_freed_memory()
    die_with_parent()


def _changed(paths: list[str], known: dict[str, tuple[int, float]]) -> list[str]:
    out = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            out.append(path)  # let the analysis report the reason
            continue
        if known.get(os.path.abspath(path)) != (stat.st_size, stat.st_mtime):
            out.append(path)
    return out


def run_import(root: str, store: MongoStore, *, options: AnalyseOptions | None = None,
               jobs: int | None = None, progress: Progress | None = None,
               cancel: threading.Event | None = None, mp_context: str | None = None) -> ImportReport:
    """Import every audio file under ``root``.

    Parameters
    ----------
    root : str
        Folder to import (recursively).
    store : MongoStore
        Where results go.
    options : AnalyseOptions, optional
        Enhanced copies and where to put them.
    jobs : int, optional
        Worker processes (default: all cores).
    progress : callable, optional
        ``progress(done, total, message)``, called from this thread.
    cancel : threading.Event, optional
        Set it to stop; finished files stay stored and the next import resumes.
    mp_context : str, optional
        How worker processes start (``"spawn"`` from a process with threads, like the player,
        where forking could copy a held lock); default: the platform's.

    Returns
    -------
    ImportReport
    """
    options = options or AnalyseOptions()
    report_progress = progress or (lambda done, total, message: None)
    cancel = cancel or threading.Event()
    store.ensure_schema()
    files, skipped = discover(root)
    todo = _changed(files, store.file_states())
    report = ImportReport(unchanged=len(files) - len(todo), skipped=skipped)
    report_progress(0, len(todo), "analysing")
    context = multiprocessing.get_context(mp_context)
    _analyse_all(todo, store, options, jobs or os.cpu_count() or 1, report, report_progress, cancel,
                 context)
    if cancel.is_set():
        report.cancelled = True
        return report
    report.index = index_library(store, report_progress)
    return report


def _analyse_all(todo: list[str], store: MongoStore, options: AnalyseOptions, jobs: int,
                 report: ImportReport, progress: Progress, cancel: threading.Event,
                 context: BaseContext) -> None:
    if not todo:
        return
    timings: dict[str, list[float]] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context,
                             initializer=_init_worker) as pool:
        pending: set[Future] = set()
        queue = iter(todo)
        # Keep a short queue per worker so a cancel does not wait for the whole list.
        for path in queue:
            pending.add(pool.submit(_safe_analyse, path, options))
            if len(pending) >= 2 * jobs:
                break
        done_count = 0
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                done_count += 1
                result = future.result()
                _store_result(result, store, report, timings)
                progress(done_count, len(todo), os.path.basename(_path_of(result)))
                if not cancel.is_set():
                    path = next(queue, None)
                    if path is not None:
                        pending.add(pool.submit(_safe_analyse, path, options))
            if cancel.is_set():
                for future in pending:
                    future.cancel()
                pending = {f for f in pending if not f.cancelled()}
    report.timings = {key: float(np.sum(vals)) for key, vals in timings.items()}


def _path_of(result: TrackAnalysis | Skipped) -> str:
    return result.path if isinstance(result, Skipped) else result.doc["source_path"]


def _store_result(result: TrackAnalysis | Skipped, store: MongoStore, report: ImportReport,
                  timings: dict[str, list[float]]) -> None:
    if isinstance(result, Skipped):
        report.skipped.append(result)
        return
    store.upsert_track(result.doc, result.frames.tobytes(), list(result.frames.shape))
    report.imported.append(result.doc["_id"])
    for key, value in result.timings.items():
        timings.setdefault(key, []).append(value)
