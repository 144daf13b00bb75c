"""``encore import DIR --distributed``: the coordinator of an import analysed by other processes.

It remembers the folder and chooses the files to analyse exactly like a local import (one shared
planning step, ``files_to_analyse``), then publishes one job per file to ``analysis_jobs``
instead of using a local process pool. ``encore analysis-worker`` processes (on any machine that
sees the files at the same paths) analyse and store them; the coordinator follows their results
to report progress, and runs the library-wide steps (codebook, shingles, LSH, clustering) once,
after the last file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from kafka import KafkaProducer
from kafka.errors import KafkaError
from pymongo.errors import PyMongoError

from core.bus.analysis_jobs import (
    ANALYSIS_JOBS,
    ANALYSIS_RESULTS,
    AnalysisJob,
    AnalysisResult,
    ensure_analysis_topics,
    parse_result,
)
from core.bus.keyed import follow_key
from core.errors import BusError, EventError, StoreError
from core.library.analyse import AnalyseOptions
from core.library.discover import Skipped
from core.library.folders import add_folder
from core.library.lock import import_lock
from core.library.pipeline import (
    ImportReport,
    Progress,
    files_to_analyse,
    index_after_import,
    load_index_modules,
)
from core.store.mongo import MongoStore

log = logging.getLogger("encore.import")
#: Said on the progress line while no worker has answered for this long.
QUIET_NOTICE_S = 10.0


@dataclass
class DistributedReport(ImportReport):
    """An import's report plus how many files each analysis worker stored."""

    workers: dict[str, int] = field(default_factory=dict)


def _imports(store: MongoStore):
    return store.db["analysis_imports"]


def cancel_import(store: MongoStore, import_id: str) -> None:
    """Tell the workers to drop the import's remaining jobs (what they stored stays stored)."""
    try:
        _imports(store).update_one({"_id": import_id}, {"$set": {"cancelled": True}}, upsert=True)
    except PyMongoError as exc:
        raise StoreError(f"database error while cancelling an import: {exc}") from exc


def is_cancelled(store: MongoStore, import_id: str) -> bool:
    """Whether the import's coordinator was cancelled."""
    try:
        return _imports(store).find_one({"_id": import_id, "cancelled": True}, {"_id": 1}) is not None
    except PyMongoError as exc:
        raise StoreError(f"database error while reading an import's state: {exc}") from exc


def run_distributed_import(root: str, store: MongoStore, *, bootstrap: str,
                           options: AnalyseOptions | None = None, progress: Progress | None = None,
                           cancel: threading.Event | None = None) -> DistributedReport:
    """Import every audio file under ``root`` with the analysis workers' help.

    Parameters
    ----------
    root : str
        Folder to import; workers must see it at the same path.
    store : MongoStore
        The library (the workers use the same database).
    bootstrap : str
        Kafka bootstrap servers (the workers use the same cluster).
    options : AnalyseOptions, optional
        Sent with every job (for enhanced copies, ``library_dir`` must be shared too).
    progress : callable, optional
        ``progress(done, total, message)``, called from this thread as results arrive.
    cancel : threading.Event, optional
        Set it to stop waiting; workers then drop the remaining jobs, and the next import
        resumes with what was stored.

    Returns
    -------
    DistributedReport

    Raises
    ------
    BusError
        If Kafka cannot be reached.
    ImportLockedError
        If another import is running on this library.
    FileNotFoundError, NotADirectoryError
        If ``root`` is missing or not a folder.
    StoreError
        If the database cannot be reached.
    """
    options = options or AnalyseOptions()
    report_progress = progress or (lambda done, total, message: None)
    cancel = cancel or threading.Event()
    store.ensure_schema()
    with import_lock(store, cancel):
        add_folder(store, root, options=options)  # so that a rescan or a watcher follows it
        todo, unchanged, skipped = files_to_analyse(store, root, options)
        report = DistributedReport(unchanged=unchanged, skipped=skipped)
        if todo:
            import_id = uuid.uuid4().hex
            _publish_jobs(bootstrap, import_id, todo, options)
            load_index_modules()  # while the workers analyse, not after the last file
            _collect(bootstrap, import_id, todo, report, report_progress, cancel)
        if cancel.is_set():
            if todo:
                cancel_import(store, import_id)
            report.cancelled = True
            return report
        report.index = index_after_import(store, report_progress)
    return report


def _publish_jobs(bootstrap: str, import_id: str, paths: list[str],
                  options: AnalyseOptions) -> None:
    ensure_analysis_topics(bootstrap)
    try:
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
        try:
            for path in paths:
                producer.send(ANALYSIS_JOBS, key=os.fsencode(path),
                              value=AnalysisJob(import_id, path, options).to_json())
            producer.flush(timeout=60)
        finally:
            producer.close(timeout=5)
    except KafkaError as exc:
        raise BusError(f"cannot publish analysis jobs to Kafka at {bootstrap}: {exc}") from exc


def _collect(bootstrap: str, import_id: str, todo: list[str], report: DistributedReport,
             progress: Progress, cancel: threading.Event) -> None:
    """Follow the import's results until every file answered (or ``cancel``)."""
    waiting = set(todo)
    timings: dict[str, list[float]] = defaultdict(list)
    workers: Counter[str] = Counter()
    key = import_id.encode()
    consumer = follow_key(bootstrap, ANALYSIS_RESULTS, key, client_id="encore-import")
    if consumer is None:
        raise BusError(f"topic {ANALYSIS_RESULTS} is missing on {bootstrap}")
    last = time.monotonic()
    progress(0, len(todo), "waiting for analysis workers")
    try:
        while waiting and not cancel.is_set():
            for records in consumer.poll(timeout_ms=200).values():
                for result in _results(records, key, import_id):
                    if result.path not in waiting:
                        continue  # a re-delivered job answered twice: counted once
                    waiting.discard(result.path)
                    _record(result, report, workers, timings)
                    last = time.monotonic()
                    progress(len(todo) - len(waiting), len(todo), os.path.basename(result.path))
            if waiting and time.monotonic() - last > QUIET_NOTICE_S:
                progress(len(todo) - len(waiting), len(todo), "waiting for analysis workers")
                # Also on stderr without a progress bar (scripts, --json): else it looks hung.
                log.warning("no analysis worker has answered for %.0f s: start `encore "
                            "analysis-worker` here or on a machine that sees %d waiting files at "
                            "the same paths (Ctrl-C keeps what is done)", QUIET_NOTICE_S, len(waiting))
                last = time.monotonic()
    finally:
        consumer.close()
    report.workers = dict(workers)
    report.timings = {name: float(sum(values)) for name, values in timings.items()}


def _results(records, key: bytes, import_id: str):
    for record in records:
        if record.key != key:
            continue
        try:
            result = parse_result(record.value)
        except EventError:
            continue  # not ours to judge: some other producer's garbage
        if result.import_id == import_id:
            yield result


def _record(result: AnalysisResult, report: DistributedReport, workers: Counter,
            timings: dict[str, list[float]]) -> None:
    if result.track_id is None:
        report.skipped.append(Skipped(result.path, result.reason or "unknown reason"))
        return
    report.imported.append(result.track_id)
    workers[result.worker] += 1
    for name, seconds in result.timings.items():
        timings[name].append(seconds)


def import_with_workers(config, root: str, store: MongoStore, **kwargs) -> DistributedReport:
    """``run_distributed_import`` on the configured (or local) Kafka: ``encore import --distributed``.

    Parameters
    ----------
    config : Config
    root : str
    store : MongoStore
    **kwargs
        ``options``, ``progress``, ``cancel`` as for ``run_distributed_import``.
    """
    from core.services import resolve_kafka_bootstrap

    return run_distributed_import(root, store, bootstrap=resolve_kafka_bootstrap(config), **kwargs)
