"""The import pipeline: discover, analyse in parallel, store as results arrive, then index.

One serial writer (the calling thread) owns database writes; worker processes only analyse.
Finished files are stored in small batches, so a cancelled or crashed import resumes where it
stopped: unchanged files (same path, size, mtime and import options) are never analysed twice.
No single file can stop an import: whatever goes wrong with one (an exception of any type, a
value the database cannot hold, an analysis process killed by the OOM killer) skips that file
with a reason and the import goes on. One import runs at a time per library (``lock``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing.context import BaseContext

import numpy as np
from threadpoolctl import threadpool_limits

from core.errors import DecodeError
from core.features.extract import FEATURES_VERSION
from core.library.analyse import AnalyseOptions, TrackAnalysis, analyse_file
from core.library.discover import Skipped, discover
from core.library.folders import add_folder
from core.library.lock import import_lock
from core.processes import die_with_parent, keep_freed_memory
from core.similarity import shingles
from core.store.mongo import FileState, MongoStore
from core.store.paths import display

Progress = Callable[[int, int, str], None]
Result = TrackAnalysis | Skipped
#: Added to the analysis processes' niceness (0..19: higher yields more).
WORKER_NICENESS = 10
#: Finished files stored per bulk write, and the longest one waits before it is stored.
BATCH_SIZE = 8
BATCH_AGE_S = 1.0
KILLED_REASON = ("the analysis process died on this file twice (killed by the system, "
                 "e.g. when memory ran out)")
#: What the library-wide index loads (scikit-learn, scipy, datasketch): about a second of CPU.
INDEX_MODULES = ("core.library.index", "sklearn.cluster", "sklearn.decomposition", "sklearn.metrics")


@dataclass
class ImportReport:
    """What an import did."""

    imported: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    cancelled: bool = False
    index: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


def options_key(options: AnalyseOptions) -> str:
    """The import options a file's stored result depends on (part of its state).

    Parameters
    ----------
    options : AnalyseOptions

    Returns
    -------
    str
        Equal for two imports exactly when they would store the same result for a file.
    """
    if options.enhance is None or not options.library_dir:
        return "analysis"
    return "copy " + json.dumps(asdict(options.enhance), sort_keys=True)


def _safe_analyse(path: str, options: AnalyseOptions) -> Result:
    """Worker entry point: a result or a reason, never an exception across the process boundary."""
    try:
        return analyse_file(path, options)
    except DecodeError as exc:
        return Skipped(path, str(exc))
    except Exception as exc:  # any failure of one file skips that file, whatever its type
        return Skipped(path, f"{type(exc).__name__}: {exc}")


def _init_worker() -> None:
    """Analysis is batch work: run it niced, so playback and the UI keep the CPU when they need it,
    without page-fault storms (see ``keep_freed_memory``), and end with the import: a killed
    import must not leave workers waiting for work forever. Ctrl-C reaches the whole process
    group: the import cancels and lets the files in flight finish, so workers ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(WORKER_NICENESS)
    keep_freed_memory()
    die_with_parent()


def is_current(state: FileState, stat: os.stat_result, key: str) -> bool:
    """Whether a stored track still stands for its file, so neither an import nor a rescan
    analyses it again.

    Parameters
    ----------
    state : FileState
        What the store knows of the file.
    stat : os.stat_result
        The file now.
    key : str
        ``options_key`` of the import options.

    Returns
    -------
    bool
        Same size, mtime and import options, analysed by this feature extractor (an older one
        left newer fields missing), and its enhanced copy, if any, still there (a deleted copy
        is redone).
    """
    return ((stat.st_size, stat.st_mtime, key, FEATURES_VERSION)
            == (state.size, state.mtime, state.options, state.features_version)
            and (state.copy_path is None or os.path.exists(state.copy_path)))


def _unchanged(path: str, state: FileState | None, key: str) -> bool:
    if state is None:
        return False
    try:
        stat = os.stat(path)
    except OSError:
        return False  # let the analysis report the reason
    return is_current(state, stat, key)


def _changed(paths: list[str], known: dict[str, FileState], key: str) -> list[str]:
    return [p for p in paths if not _unchanged(p, known.get(os.path.abspath(p)), key)]


def files_to_analyse(store: MongoStore, root: str, options: AnalyseOptions,
                     ) -> tuple[list[str], int, list[Skipped]]:
    """What an import of ``root`` has to analyse (call it holding the import lock).

    Parameters
    ----------
    store : MongoStore
    root : str
        Folder to import.
    options : AnalyseOptions

    Returns
    -------
    todo : list of str
        New files, changed ones, incomplete ones, ones stored with other options or whose
        managed copy is gone.
    unchanged : int
        Files whose stored track is current.
    skipped : list of Skipped
        What discovery left out, with the reason.
    """
    files, skipped = discover(root, exclude=options.library_dir)
    todo = _changed(files, store.file_states(), options_key(options))
    return todo, len(files) - len(todo), skipped


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

    Raises
    ------
    ImportLockedError
        If another import is running on this library.
    StoreError
        If the database cannot be reached (what was stored stays stored).
    """
    options = options or AnalyseOptions()
    report_progress = progress or (lambda done, total, message: None)
    cancel = cancel or threading.Event()
    store.ensure_schema()
    with import_lock(store, cancel):
        add_folder(store, root, options=options)  # so that a rescan or the watcher follows it
        todo, unchanged, skipped = files_to_analyse(store, root, options)
        report = ImportReport(unchanged=unchanged, skipped=skipped)
        report_progress(0, len(todo), "analysing")
        if todo:
            _analyse_all(todo, store, options, jobs or os.cpu_count() or 1, report,
                         report_progress, cancel, multiprocessing.get_context(mp_context))
        if cancel.is_set():
            report.cancelled = True
            return report
        report.index = index_after_import(store, report_progress)
    return report


def index_after_import(store: MongoStore, progress: Progress) -> dict:
    """The import's library-wide step (``index_library``), on one OpenMP and BLAS thread.

    scikit-learn's OpenMP loops and BLAS would use every core, and they wait at a barrier after
    each of the codebook's thousand mini-batches: on a shared or busy machine one descheduled
    thread stalls the others (measured with two other jobs running: codebook fit 0.48 -> 0.15 s,
    K-means 0.21 -> 0.03 s). The results are the same bit for bit.

    Parameters
    ----------
    store : MongoStore
    progress : callable
        ``progress(done, total, message)``.

    Returns
    -------
    dict
        ``index_library``'s report.
    """
    load_index_modules()  # already done unless there was nothing to analyse
    from core.library.index import index_library

    with threadpool_limits(limits=1):
        return index_library(store, progress)


def load_index_modules() -> None:
    """Import what the library-wide index needs, once the analysis processes exist.

    Not at module level: forked analysis processes would carry it (bigger, slower to start) and
    never index. Not after the last file either: the index is the import's serial tail, with
    one core idle, so loading it there costs twice the wall time it costs while the analysis
    processes still work on the last files.
    """
    for name in INDEX_MODULES:
        importlib.import_module(name)


def _analyse_all(todo: list[str], store: MongoStore, options: AnalyseOptions, jobs: int,
                 report: ImportReport, progress: Progress, cancel: threading.Event,
                 context: BaseContext) -> None:
    writer = _Writer(store, report, options_key(options), codebook=_stored_codebook(store))
    analyser = _Analyser(options, min(jobs, len(todo)), context)
    done, loaded = 0, False
    with contextlib.closing(analyser.run(_largest_first(todo), cancel)) as results:
        for result in results:
            if not loaded and analyser.all_submitted:  # the pool's processes are forked by now
                load_index_modules()
                loaded = True
            writer.add(result)
            if result is not None:
                done += 1
                progress(done, len(todo), display(os.path.basename(_path_of(result))))
    writer.flush()
    report.timings = writer.totals()


def _stored_codebook(store: MongoStore) -> tuple[shingles.Codebook, int] | None:
    """The library's codebook and its version, if it has one."""
    doc = store.get_model("codebook")
    return (shingles.Codebook.from_doc(doc), doc["version"]) if doc else None


def _largest_first(paths: list[str]) -> list[str]:
    """The files by decreasing size: the last ones in flight are then short, so no process
    idles at the end while another finishes a long track (a library sorted by name may end on
    its longest album; on the soundtracks this is within 1 % of the ideal split, 0.8 % better)."""
    def size(path: str) -> int:
        try:
            return os.stat(path).st_size
        except OSError:
            return 0  # the analysis reports the reason

    return sorted(paths, key=size, reverse=True)


def _path_of(result: Result) -> str:
    return result.path if isinstance(result, Skipped) else result.doc["source_path"]


class _Analyser:
    """Analyses files in a process pool that is rebuilt whenever one of its processes dies.

    The files in flight when a process died are retried one at a time; a file that kills its
    process again while it is the only one in flight is skipped with ``KILLED_REASON``.
    """

    def __init__(self, options: AnalyseOptions, jobs: int, context: BaseContext):
        self.options, self.jobs, self.context = options, jobs, context
        self.pool = self._new_pool()
        self.pending: dict[Future, str] = {}
        self.queue: deque[str] = deque()
        self.retry: deque[str] = deque()
        self.deaths: Counter[str] = Counter()

    @property
    def all_submitted(self) -> bool:
        """Whether every file is analysed or in flight (none waits for a free process)."""
        return not (self.queue or self.retry)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, mp_context=self.context,
                                   initializer=_init_worker)

    def run(self, todo: list[str], cancel: threading.Event) -> Iterator[Result | None]:
        """Each file's result or reason as it finishes; ``None`` now and then while waiting."""
        self.queue = deque(todo)
        try:
            while True:
                if cancel.is_set():
                    self._drop_waiting()
                else:
                    self._fill()
                if not self.pending and (cancel.is_set() or self.all_submitted):
                    return
                finished, _ = wait(self.pending, timeout=0.2, return_when=FIRST_COMPLETED)
                if not finished:
                    yield None
                for future in finished:
                    if future in self.pending:  # a dead pool empties ``pending`` at once
                        yield from self._outcome(future)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _fill(self) -> None:
        # A short queue per worker, so a cancel does not wait for the whole list; a suspect of a
        # process death runs alone, so that a second death names it.
        if any(self.deaths[path] for path in self.pending.values()):
            return
        if self.retry:
            if not self.pending:
                self._submit(self.retry.popleft())
            return
        while self.queue and len(self.pending) < 2 * self.jobs:
            self._submit(self.queue.popleft())

    def _submit(self, path: str) -> None:
        try:
            future = self.pool.submit(_safe_analyse, path, self.options)
        except BrokenProcessPool:  # a process died while idle
            self.pool = self._new_pool()
            future = self.pool.submit(_safe_analyse, path, self.options)
        self.pending[future] = path

    def _drop_waiting(self) -> None:
        for future in [f for f in self.pending if f.cancel()]:
            del self.pending[future]

    def _outcome(self, future: Future) -> Iterator[Result]:
        path = self.pending.pop(future)
        if future.cancelled():
            return
        try:
            result = future.result()
        except BrokenProcessPool:
            yield from self._pool_died(path)
            return
        except Exception as exc:  # e.g. a result that could not be sent back
            result = Skipped(path, f"{type(exc).__name__}: {exc}")
        yield result

    def _pool_died(self, path: str) -> Iterator[Skipped]:
        lost = [path, *self.pending.values()]
        self.pending.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        for suspect in lost:
            self.deaths[suspect] += 1
            if len(lost) == 1 and self.deaths[suspect] >= 2:
                yield Skipped(suspect, KILLED_REASON)
            else:
                self.retry.append(suspect)


class _Writer:
    """The serial writer: stores finished files in small bulk writes (frames first, track last).

    Given the library's codebook, each track is stored with its shingles, MinHash and LSH keys
    (``shingles.index_fields``, about 1 ms of CPU): built while the analysis processes work, they
    leave the index nothing to redo for it unless the index learns a new codebook.
    """

    def __init__(self, store: MongoStore, report: ImportReport, options_key: str, *,
                 codebook: tuple[shingles.Codebook, int] | None = None):
        self.store, self.report, self.key, self.codebook = store, report, options_key, codebook
        self.batch: list[TrackAnalysis] = []
        self.oldest = 0.0
        self.timings: dict[str, list[float]] = defaultdict(list)

    def add(self, result: Result | None) -> None:
        """Take one outcome (``None``: nothing new, but maybe time to store the batch)."""
        if isinstance(result, Skipped):
            self.report.skipped.append(result)
        elif result is not None:
            if not self.batch:
                self.oldest = time.monotonic()
            self.batch.append(result)
        if len(self.batch) >= BATCH_SIZE or (
                self.batch and time.monotonic() - self.oldest >= BATCH_AGE_S):
            self.flush()

    def flush(self) -> None:
        """Store the batch; a file the database refuses is skipped with the reason."""
        batch, self.batch = self.batch, []
        ready: list[tuple[tuple[dict, bytes, list[int]], TrackAnalysis]] = []
        for result in batch:
            try:
                frames = np.ascontiguousarray(result.frames, dtype=np.float32)
                entry = ({**result.doc, "options": self.key, **self._index_fields(frames)},
                         frames.tobytes(), list(frames.shape))
            except Exception as exc:  # a malformed result: that file alone is skipped
                self.report.skipped.append(Skipped(_path_of(result), f"{type(exc).__name__}: {exc}"))
                continue
            ready.append((entry, result))
        refused = self.store.put_tracks([entry for entry, _ in ready])
        for (doc, _, _), result in ready:
            if doc["_id"] in refused:
                self.report.skipped.append(Skipped(doc["source_path"], refused[doc["_id"]]))
                continue
            self.report.imported.append(doc["_id"])
            for key, value in result.timings.items():
                self.timings[key].append(value)

    def _index_fields(self, frames: np.ndarray) -> dict:
        if self.codebook is None:
            return {}
        try:
            return shingles.index_fields(frames, *self.codebook)
        except Exception:  # e.g. frames of another dimension: left to the index, not skipped
            return {}

    def totals(self) -> dict[str, float]:
        """Seconds per analysis step, summed over the stored files."""
        return {key: float(np.sum(values)) for key, values in self.timings.items()}
