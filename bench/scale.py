"""Distributed analysis on this machine, and what 1,000,000 tracks on 10 machines would take.

The same folder is imported into a fresh database with the local process pool (``--jobs``) and
with ``encore import --distributed``'s coordinator and 1, 2 and 3 ``encore analysis-worker``
processes (``--workers``), all against one local stack (tansu + SecantusDB). Each run reports the
wall time of the analysis phase (first job to last result stored) and of the library-wide steps
(codebook, shingles/MinHash/LSH, clustering), which always run once, in the importer.

It then measures what a projection needs: seconds of analysis per file and per minute of audio
(one worker), the scaling from 1 to 2 workers, the bytes and write time of one stored track, the
job publish rate, the library-wide steps per track, and one K-means fit. The projection printed at
the end scales these to ``--tracks`` on ``--machines`` x ``--cores``:

- analysis: tracks x seconds per track / active workers, where active workers = min(workers,
  partitions of ``analysis_jobs``): a partition feeds one group member, so the topic's partition
  count (``ENCORE_ANALYSIS_PARTITIONS``, default 12) caps the parallelism;
- Kafka: one job and one result message per track (a few hundred bytes) is far below a real
  cluster's capacity, and even the local broker publishes the jobs in seconds;
- MongoDB: the bytes per track arrive at workers / seconds-per-track tracks per second; the local
  single-process server's measured write rate is shown, a real replica set's must be looked up;
- library-wide steps: run once, in one process, after the last file: shingles/MinHash per track
  (linear) and K-means with k chosen among 8 candidates around sqrt(n/2), each fit ~ n x k
  (superlinear in n): at a million tracks this serial step, not the analysis, dominates.

The machine is shared while this runs: figures are indicative; rerun on a quiet machine.

Usage: python bench/scale.py [--every N | --folder DIR] [--workers 1 2 3] [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ensure_corpus, tracks
from core.config import Config
from core.library.distributed import run_distributed_import
from core.library.pipeline import run_import
from core.services import encore_command, resolve_kafka_bootstrap, resolve_mongo_uri
from core.store.mongo import MongoStore

GROUP = "bench-scale"
JOIN_TIMEOUT_S = 120


@dataclass
class Run:
    """One import: how long its phases took."""

    label: str
    files: int
    analysis_s: float
    models_s: float  # fitting the codebook and K-means
    pass_s: float  # the index's one pass over the tracks (shingles, clusters, scales)
    step_s: dict[str, float] = field(default_factory=dict)

    @property
    def index_s(self) -> float:
        """The library-wide steps."""
        return self.models_s + self.pass_s


class PhaseClock:
    """A progress callback noting when each phase's first message arrived."""

    def __init__(self):
        self.start = time.monotonic()
        self.first: dict[str, float] = {}

    def __call__(self, done: int, total: int, message: str) -> None:
        self.first.setdefault(message, time.monotonic())

    def run(self, label: str, files: int, timings: dict[str, float]) -> Run:
        """Phases from the messages of ``index_library``: its models are fitted from "learning
        audio words" on, its pass over the tracks reports "shingles and MinHash"."""
        end = time.monotonic()
        words = self.first.get("learning audio words", end)
        tracks_pass = self.first.get("shingles and MinHash", end)
        return Run(label, files, words - self.start, tracks_pass - words, end - tracks_pass, timings)


def sample_folder(every: int) -> Path:
    """Every ``every``-th corpus track, linked into a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="encore-scale-"))
    for path in tracks(ensure_corpus())[::every]:
        (folder / f"{path.parent.name}-{path.name}").symlink_to(path)
    return folder


def fresh_store(mongo: str, label: str) -> MongoStore:
    store = MongoStore(mongo, f"scale_{label}_{uuid.uuid4().hex[:6]}")
    store.ensure_schema()
    return store


def spawn_workers(n: int, mongo: str, bootstrap: str, db: str, logs: Path) -> list:
    """``n`` analysis workers, returned once each holds partitions."""
    env = {**os.environ, "ENCORE_MONGO_URI": mongo, "ENCORE_KAFKA_BOOTSTRAP": bootstrap,
           "ENCORE_DB": db, "ENCORE_DATA_DIR": str(logs)}
    workers = []
    for i in range(n):
        log = logs / f"worker-{db}-{i}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(encore_command("analysis-worker", "--group", GROUP), env=env,
                                    stdout=out, stderr=subprocess.STDOUT)
        proc.log = log
        workers.append(proc)
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    while not all(_holds_partitions(w.log) for w in workers):
        if time.monotonic() > deadline:
            raise TimeoutError("analysis workers did not join the group")
        time.sleep(0.2)
    return workers


def _holds_partitions(log: Path) -> bool:
    lines = [line for line in log.read_text().splitlines() if "assigned partitions [" in line]
    return bool(lines) and not lines[-1].endswith("[]")


def stop(workers: list) -> None:
    for proc in workers:
        proc.terminate()
    for proc in workers:
        proc.wait(60)


def run_local(mongo: str, folder: Path, jobs: int) -> tuple[Run, MongoStore]:
    store = fresh_store(mongo, f"local{jobs}")
    clock = PhaseClock()
    report = run_import(str(folder), store, jobs=jobs, progress=clock)
    return clock.run(f"local pool, {jobs} process(es)", len(report.imported), report.timings), store


def run_workers(mongo: str, bootstrap: str, folder: Path, n: int, logs: Path) -> Run:
    store = fresh_store(mongo, f"dist{n}")
    workers = spawn_workers(n, mongo, bootstrap, store.db.name, logs)
    try:
        clock = PhaseClock()
        report = run_distributed_import(str(folder), store, bootstrap=bootstrap, progress=clock)
    finally:
        stop(workers)
    shares = "/".join(str(v) for v in sorted(report.workers.values(), reverse=True))
    return clock.run(f"{n} analysis worker(s) [{shares}]", len(report.imported), report.timings)


def measure_writes(store: MongoStore) -> tuple[float, float]:
    """Seconds to store one analysed track again, and its bytes (track document + frames)."""
    docs = {d["_id"]: d for d in store.iter_tracks({})}
    frames = {f["_id"]: f for f in store.iter_frames(list(docs))}
    entries = [(docs[i], frames[i]["data"], frames[i]["shape"]) for i in docs if i in frames]
    import bson

    size = np.mean([len(bson.encode(d)) + len(f) for d, f, _ in entries])
    start = time.perf_counter()
    for entry in entries:  # one at a time, as a worker writes
        store.put_tracks([entry])
    return (time.perf_counter() - start) / len(entries), float(size)


def measure_index_parts(store: MongoStore) -> tuple[float, float, float]:
    """Per track: seconds to read its frames, seconds for its shingles/MinHash/LSH keys; and
    seconds to learn a codebook from the largest sample a refit takes (100,000 segments)."""
    from core.library.index import SAMPLE_TOTAL, _frames_of
    from core.similarity import minhash, shingles

    start = time.perf_counter()
    frames = [_frames_of(doc) for doc in store.iter_frames()]
    read_s = (time.perf_counter() - start) / len(frames)
    book = shingles.Codebook.from_doc(store.get_model("codebook"))
    start = time.perf_counter()
    for matrix in frames:
        minhash.band_keys(minhash.signature(shingles.shingle_set(shingles.to_words(matrix, book))))
    shingle_s = (time.perf_counter() - start) / len(frames)
    pool = np.vstack(frames)
    sample = [pool[np.random.default_rng(i).integers(0, len(pool), 256)]
              for i in range(SAMPLE_TOTAL // 256)]
    start = time.perf_counter()
    shingles.learn_codebook(sample)
    return read_s, shingle_s, time.perf_counter() - start


def measure_publish(bootstrap: str, n: int = 5000) -> float:
    """Job messages per second one producer publishes (to a scratch topic)."""
    from kafka import KafkaProducer

    from core.bus.analysis_jobs import AnalysisJob
    from core.library.analyse import AnalyseOptions

    payload = AnalysisJob(uuid.uuid4().hex, "/srv/music/" + "x" * 60 + ".flac",
                          AnalyseOptions(library_dir="/srv/encore/library")).to_json()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    start = time.perf_counter()
    for i in range(n):
        producer.send("bench_scale_jobs", key=str(i).encode(), value=payload)
    producer.flush()
    elapsed = time.perf_counter() - start
    producer.close()
    return n / elapsed


def measure_kmeans(n: int = 20000, k: int = 100, dims: int = 24) -> float:
    """Seconds of one K-means fit as the clustering runs it (n_init=3)."""
    from sklearn.cluster import KMeans

    points = np.random.default_rng(0).standard_normal((n, dims))
    start = time.perf_counter()
    KMeans(n_clusters=k, n_init=3, random_state=0).fit(points)
    return time.perf_counter() - start


def candidate_ks(n: int) -> list[int]:
    """The k values ``clustering._choose_k`` tries for ``n`` tracks."""
    centre = max(2.0, np.sqrt(n / 2))
    return sorted({int(k) for k in np.geomspace(max(2, centre / 3), min(n - 1, 2 * centre), 8)})


def hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:,.1f} min"


HEADER = (f"{'run':38} {'files':>5} {'analysis':>9} {'files/s':>8} {'library-wide':>13} "
          f"{'total':>8}")


def row(run: Run) -> str:
    """One line of the table."""
    return (f"{run.label:38} {run.files:5d} {run.analysis_s:8.1f}s "
            f"{run.files / run.analysis_s:8.2f} {run.index_s:12.1f}s "
            f"{run.analysis_s + run.index_s:7.1f}s")


@dataclass
class Basis:
    """The measured numbers a projection scales."""

    per_file: float  # seconds of analysis per file, one worker
    audio_min: float  # minutes of audio per file
    efficiency: float  # 2 workers on this machine's 2 cores, share of linear scaling
    write_s: float  # seconds to store one track (one writer, local server)
    write_bytes: float  # track document + frames
    publish_rate: float  # job messages per second, one producer
    read_s: float  # seconds to read one track's frames back (library-wide steps read them all)
    shingle_s: float  # shingles/MinHash/LSH keys of one track
    codebook_s: float  # learning the codebook from its largest sample
    kmeans_s: float  # one K-means fit, 20,000 points, k=100
    partitions: int  # of analysis_jobs


def _analysis_text(b: Basis, n: int, workers: int) -> str:
    active = min(workers, b.partitions)
    return f"""Measured here: one worker analysed a file ({b.audio_min:.2f} min of audio) in
  {b.per_file:.2f} s = {b.per_file / b.audio_min:.2f} s per minute of audio; 2 workers on this
  machine's 2 cores reached {b.efficiency:.0%} of twice that rate (shared cores, other load, and
  the path hash giving one worker more files than the other in a small folder).
- Analysis: {n:,} x {b.per_file:.2f} s = {hours(n * b.per_file)} of worker time. With the
  default {b.partitions} partitions only {active} workers get jobs: {hours(n * b.per_file / active)}.
  With >= {workers} partitions (ENCORE_ANALYSIS_PARTITIONS={workers} before the topic is first
  created) and one worker per core: {hours(n * b.per_file / workers)} at this machine's speed
  per core ({hours(n * b.per_file / (workers * b.efficiency))} at the measured 2-core efficiency).
  Longer tracks cost proportionally more. The partition count is the only Kafka-side cap.
- Kafka: {n:,} jobs + {n:,} results of ~0.3 KB; one producer published {b.publish_rate:,.0f}
  jobs/s to the local broker here ({hours(n / b.publish_rate)} for all of them, while the first
  workers already analyse); the importer reads only its import's results partition. Not a bound."""


def _store_text(b: Basis, n: int, workers: int) -> str:
    arrival = workers / b.per_file
    return f"""- MongoDB: {b.write_bytes / 1024:.0f} KB per track (document + segment frames),
  {n * b.write_bytes / 2**30:.0f} GB in total, arriving at {arrival:.0f} tracks/s
  ({arrival * b.write_bytes / 2**20:.2f} MB/s) with all {workers} workers busy. The local
  single-process server stored one track in {b.write_s * 1000:.0f} ms ({1 / b.write_s:.0f}
  tracks/s for one writer, the output of ~{b.per_file / b.write_s:.0f} busy workers); a real
  replica set's primary takes this rate easily. Writes are not the bound."""


def _index_text(b: Basis, n: int, analysis_s: float, machines: int) -> str:
    from core.library.index import CLUSTER_FIT_MAX

    fitted = min(n, CLUSTER_FIT_MAX)  # K-means learns from a sample spread over the library
    ks = candidate_ks(fitted)
    fits = b.kmeans_s * sum(fitted * k for k in ks) / (20000 * 100)
    serial = n * (2 * b.read_s + b.shingle_s) + b.codebook_s + fits
    even = analysis_s * machines / serial  # machines at which the analysis takes as long
    return f"""- Library-wide steps (once, in the importer, in one process, after the last file):
  reading a track's frames back took {b.read_s * 1000:.1f} ms and its shingles/MinHash/LSH keys
  {b.shingle_s * 1000:.1f} ms; a codebook refit samples at most 100,000 segments
  ({b.codebook_s:.1f} s, independent of library size) but reads every track's frames to draw
  them, and the shingle pass reads them again: {hours(n * (2 * b.read_s + b.shingle_s))} at
  {n:,} tracks. K-means is fitted on at most {CLUSTER_FIT_MAX:,} tracks spread over the library
  (one fit of 20,000 points with k=100 took {b.kmeans_s:.1f} s; choosing k among
  {ks[0]}..{ks[-1]} on {fitted:,} points, 8 fits: about {hours(fits)}), then every track is
  assigned to its nearest centre (one distance pass, seconds).
  Serial tail ~{hours(serial)}, which more machines do not shorten: with {machines} machines the
  analysis ({hours(analysis_s)}) and the tail are of one order; beyond ~{even:.0f} machines the
  tail is the larger. Shortening it further needs the shingle pass in the workers (once a
  codebook exists), so the importer no longer reads every track's frames back."""


def projection(args, b: Basis) -> str:
    """The written projection for ``args.tracks`` on ``args.machines`` x ``args.cores``."""
    workers = args.machines * args.cores
    head = (f"Projection: {args.tracks:,} tracks on {args.machines} machines x {args.cores} "
            f"cores ({workers} analysis workers), real Kafka and MongoDB clusters")
    return "\n".join([head, _analysis_text(b, args.tracks, workers),
                      _store_text(b, args.tracks, workers),
                      _index_text(b, args.tracks, args.tracks * b.per_file / workers,
                                  args.machines)])


def run_all(args, mongo: str, bootstrap: str, folder: Path, data: Path):
    """The local-pool runs, then the distributed ones; each row printed as it finishes."""
    print(f"{folder}: {len(list(folder.iterdir()))} files\n{HEADER}")
    runs, stores = [], []
    for jobs in args.jobs:
        run, store = run_local(mongo, folder, jobs)
        runs.append(run)
        stores.append(store)
        print(row(run), flush=True)
    for n in args.workers:
        runs.append(run_workers(mongo, bootstrap, folder, n, data))
        print(row(runs[-1]), flush=True)
    return runs, stores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=8, help="every N-th corpus track")
    parser.add_argument("--folder", help="import this folder instead of the corpus sample")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tracks", type=int, default=1_000_000)
    parser.add_argument("--machines", type=int, default=10)
    parser.add_argument("--cores", type=int, default=8, help="analysis workers per machine")
    args = parser.parse_args()
    from core.bus.analysis_jobs import job_partitions

    folder = Path(args.folder) if args.folder else sample_folder(args.every)
    data = Path(tempfile.mkdtemp(prefix="encore-scale-data-"))
    config = Config(data_dir=data, kafka_bootstrap=None, mongo_uri=None)
    mongo, bootstrap = resolve_mongo_uri(config), resolve_kafka_bootstrap(config)
    runs, stores = run_all(args, mongo, bootstrap, folder, data)
    print("\n" + HEADER + "\n" + "\n".join(row(run) for run in runs))
    distributed = runs[len(args.jobs):]
    one = distributed[0]
    two = next((r for r, n in zip(distributed, args.workers, strict=True) if n == 2), one)
    audio_s = sum(d["duration_s"] for d in stores[0].iter_tracks({}, {"duration_s": 1}))
    write_s, write_bytes = measure_writes(stores[0])
    basis = Basis(one.analysis_s / one.files, audio_s / 60 / one.files,
                  one.analysis_s / two.analysis_s / 2 if two is not one else 1.0, write_s,
                  write_bytes, measure_publish(bootstrap), *measure_index_parts(stores[0]),
                  measure_kmeans(), job_partitions())
    print("\n" + projection(args, basis))
    for store in stores:
        store.client.drop_database(store.db.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
