"""The analysis worker: a consumer-group member turning analysis jobs into stored tracks.

Per job (one at a time): analyse the file, store the result through the import's own writer
(frames first, the track document last, an idempotent upsert keyed by track id), publish the
result for the importer, and only then commit the job's offset. A worker killed mid-file never
commits that job, so the group hands it to another member; storing it again replaces the same
documents, so nothing is stored twice.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from core.bus.analysis_jobs import (
    ANALYSIS_JOBS,
    ANALYSIS_RESULTS,
    AnalysisJob,
    AnalysisResult,
    ensure_analysis_topics,
    parse_job,
)
from core.config import Config
from core.errors import EventError, StoreError
from core.library.distributed import is_cancelled
from core.library.pipeline import WORKER_NICENESS, ImportReport, _safe_analyse, _Writer, options_key
from core.processes import keep_freed_memory
from core.similarity.session import WORKER_ID
from core.store.mongo import MongoStore

log = logging.getLogger("encore.analysis")
SESSION_TIMEOUT_MS = 6000  # tansu makes joins wait half of this: keep it short
#: A member that does not poll for this long leaves the group: longer than any one file takes.
MAX_POLL_INTERVAL_MS = 60 * 60 * 1000
MAX_BACKOFF_S = 5.0
CLOSE_TIMEOUT_MS = 3000


class _LogAssignments(ConsumerRebalanceListener):
    """Says which partitions this member holds: how operators (and tests) see the group split."""

    def on_partitions_revoked(self, revoked) -> None:
        log.info("revoked partitions %s", sorted(p.partition for p in revoked))

    def on_partitions_assigned(self, assigned) -> None:
        log.info("assigned partitions %s", sorted(p.partition for p in assigned))


class AnalysisWorker:
    """One member of the analysis consumer group.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers.
    store : MongoStore
        Where analysed tracks go.
    group : str
        Consumer group id; workers in one group share the jobs.
    """

    def __init__(self, bootstrap: str, store: MongoStore, *, group: str = "encore-analysis"):
        self.store = store
        self.stop_event = threading.Event()
        self.processed = 0
        ensure_analysis_topics(bootstrap)
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=1000, max_poll_records=1,
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS, fetch_max_wait_ms=20)
        self.consumer.subscribe([ANALYSIS_JOBS], listener=_LogAssignments())
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")

    def run(self) -> None:
        """Consume jobs until ``stop_event`` is set."""
        try:
            while not self.stop_event.is_set():
                for records in self.consumer.poll(timeout_ms=500).values():
                    for record in records:
                        self._process_with_retry(record.value)
        finally:
            self.consumer.close(autocommit=False, timeout_ms=CLOSE_TIMEOUT_MS)
            self.producer.close(timeout=CLOSE_TIMEOUT_MS / 1000)

    def _process_with_retry(self, value: bytes | None) -> None:
        backoff = 0.2
        while not self.stop_event.is_set():
            try:
                self.handle(value)
                break
            except (StoreError, KafkaError) as exc:  # nothing committed: retried here or elsewhere
                log.warning("%s; retrying the job in %.1f s", exc, backoff)
                self.stop_event.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)
        else:  # stopping before the job was done: leave it uncommitted for another member
            return
        try:
            self.consumer.commit()  # only now: the result is stored and announced
        except KafkaError as exc:  # e.g. the group rebalanced meanwhile: redelivery is harmless
            log.warning("could not commit (%s); the job may be analysed again", exc)

    def handle(self, value: bytes | None) -> AnalysisResult | None:
        """Analyse, store and announce one job; ``None`` for a malformed or cancelled one.

        Raises
        ------
        StoreError, KafkaError
            If the database or the broker is unreachable (the caller retries; nothing is
            committed).
        """
        try:
            job = parse_job(value)
        except EventError as exc:
            log.warning("ignoring an analysis job: %s", exc)
            return None
        if is_cancelled(self.store, job.import_id):
            return None
        log.info("analysing %s", job.path)
        result = self._analyse_and_store(job)
        self.producer.send(ANALYSIS_RESULTS, key=job.import_id.encode(),
                           value=result.to_json()).get(timeout=30)
        self.processed += 1
        log.info("done %s: %s", job.path, result.track_id or result.reason)
        return result

    def _analyse_and_store(self, job: AnalysisJob) -> AnalysisResult:
        analysis = _safe_analyse(job.path, job.options)
        report = ImportReport()
        writer = _Writer(self.store, report, options_key(job.options))
        writer.add(analysis)
        writer.flush()
        if report.imported:
            return AnalysisResult(job.import_id, job.path, WORKER_ID, track_id=report.imported[0],
                                  timings=writer.totals())
        return AnalysisResult(job.import_id, job.path, WORKER_ID, reason=report.skipped[0].reason)


def run_analysis_worker(config: Config, *, group: str) -> int:
    """``encore analysis-worker``: run until SIGINT/SIGTERM."""
    from core.cli.common import open_store
    from core.services import resolve_kafka_bootstrap

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    # Batch work: yield the CPU to playback and the UI; no page-fault storms (see pipeline).
    os.nice(WORKER_NICENESS)
    keep_freed_memory()
    store = open_store(config)
    try:
        worker = AnalysisWorker(resolve_kafka_bootstrap(config), store, group=group)
    except KafkaError as exc:
        log.error("cannot reach Kafka: %s", exc)
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: worker.stop_event.set())
    log.info("analysis worker %s in group %r consuming %r", WORKER_ID, group, ANALYSIS_JOBS)
    worker.run()
    return 0
