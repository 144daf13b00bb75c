"""Backbone speed through the local stack: events/s, play -> recommendation latency, and top-5
query latency at 1k, 10k and 100k tracks against a brute-force scan, all in one run.

Libraries are synthetic (the real corpus has 187 tracks): tracks belong to topics, draw their
shingles from their topic's vocabulary, and carry a signature that shares ~35% of its topic's
hash values (same-album pairs of the real corpus have Jaccard ~0.1-0.4), with band keys
computed by the real ``minhash.band_keys``; they also carry what the audio scorer reads (a
feature vector near their topic's, a frame-MFCC Gaussian, the index's neighbour scales and
loudness profile) and the library a clustering model, so every query scores with
``audio_score`` as on a real library. Query latency is shown cold (a new recommender per query:
nothing cached) and warm (one recommender, as in a running worker); recall is against the same
scorer over the whole library.

Usage: python bench/backbone.py [--sizes 1000 10000 100000] [--events 400] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from kafka import KafkaConsumer, KafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import percentiles
from core.config import Config
from core.events import make_event
from core.features import stereo
from core.features.extract import N_MFCC, VECTOR_SIZE
from core.services import LocalStack, mongo_uri
from core.similarity import audio_score, minhash, timbre_gauss
from core.similarity.clustering import AUDIO_DIMS, ClusterModel
from core.similarity.pool import Pool
from core.similarity.recommend import SEED_FIELDS, Recommender
from core.store.cluster_blocks import CANDIDATE_FIELDS
from core.store.mongo import MongoStore

TOPICS_PER_1K = 10
#: Share of its topic's hash values a synthetic signature keeps.
SHARED = 0.35


def synthetic_library(store: MongoStore, n: int, seed: int = 0) -> list[str]:
    """Insert ``n`` indexed synthetic tracks and a clustering model; returns their ids."""
    rng = np.random.default_rng(seed)
    topics = max(2, n * TOPICS_PER_1K // 1000)
    clusters = max(2, round(np.sqrt(n / 2)))  # where the import's choice of k centres
    base = rng.integers(0, 2**63, size=(topics, minhash.NUM_PERM), dtype=np.uint64)
    centres = rng.normal(size=(topics, VECTOR_SIZE))
    ids = []
    for start in range(0, n, 2000):
        docs = []
        for i in range(start, min(n, start + 2000)):
            topic = int(rng.integers(topics))
            words = rng.choice(2000, size=300, replace=False).astype(np.uint64) + np.uint64(topic * 2000)
            sig = np.where(rng.random(minhash.NUM_PERM) < SHARED, base[topic],
                           rng.integers(0, 2**63, minhash.NUM_PERM, dtype=np.uint64))
            track_id = f"{i:016x}"
            ids.append(track_id)
            docs.append({"_id": track_id, "path": f"/synthetic/{i}.ogg", "title": f"Track {i}",
                         "artist": f"Artist {i % 997}", "album": f"Album {topic}",
                         "duration_s": 180.0 + i % 60, "cluster": topic % clusters,
                         "shingles": np.unique(words).tobytes(), "minhash": sig.tobytes(),
                         "lsh": minhash.band_keys(sig), "indexed": True,
                         **_audio_fields(rng, centres[topic])})
        store.tracks.insert_many(docs, ordered=False)
    model = ClusterModel(np.zeros(VECTOR_SIZE), np.ones(VECTOR_SIZE), np.eye(AUDIO_DIMS, VECTOR_SIZE),
                         rng.normal(size=(clusters, AUDIO_DIMS)), n)
    store.put_model("kmeans", model.to_doc())
    return ids


def _audio_fields(rng: np.random.Generator, centre: np.ndarray) -> dict:
    """A track's feature vector near its topic's centre, Gaussian and index-time audio fields."""
    frames = rng.normal(size=(4 * N_MFCC, N_MFCC)) @ rng.normal(size=(N_MFCC, N_MFCC))
    vector = (centre + 0.5 * rng.normal(size=VECTOR_SIZE)).astype(np.float32)
    return {"features": {"vector": vector.tobytes(),
                         "timbre_gauss": timbre_gauss.to_doc(*timbre_gauss.fit(frames)),
                         "stereo_width_db": round(float(rng.normal(-5.0, 3.0)), 1)},
            # One neighbour radius for every track: random radii, not the audio, would decide
            # the brute-force top 5 through the local scaling (recall 0.07 at 100k).
            "audio": {"scale": [1.0] * len(audio_score.COMPONENTS), "version": 1,
                      "loudness": rng.normal(size=6).astype(np.float32).tobytes(),
                      "stereo": rng.normal(size=stereo.SIZE).astype(np.float32).tobytes()}}


def brute_force(store: MongoStore, recommender: Recommender, seed_id: str, k: int = 5) -> list[str]:
    """Top k by the recommender's own scoring over the whole library (what the indexes avoid)."""
    pool = Pool(list(store.iter_tracks({"_id": {"$ne": seed_id}}, CANDIDATE_FIELDS)),
                recommender.model())
    score = pool.similarity(store.get_track(seed_id, SEED_FIELDS)).score
    return [pool.docs[i]["_id"] for i in np.argsort(-score, kind="stable")[:k]]


def query_latency(uri: str, sizes: list[int]) -> dict[int, str]:
    rng = np.random.default_rng(1)
    print(f"\n{'tracks':>7}  {'top-5 cold (nothing cached)':<32}  {'top-5 warm (worker)':<32}  "
          f"{'brute-force scan':<32}  recall")
    dbs = {}
    for n in sizes:
        store = MongoStore(uri, f"bench_backbone_{n}", timeout_ms=60000)
        if store.count_tracks({"features.stereo_width_db": {"$exists": True}}) != n:  # this form
            store.client.drop_database(store.db.name)
            synthetic_library(store, n)
            # Indexes built once over the loaded collection: maintaining the multikey band-key
            # index document by document made a 100k load take over an hour on SecantusDB.
            start = time.perf_counter()
            store.ensure_schema()
            print(f"  (loaded {n} tracks; indexes built in {time.perf_counter() - start:.1f} s)")
        packed = store.meta.find_one({"_id": "blocks"}, {"generation": 1}) or {}
        if packed.get("generation") != store.generation():
            start = time.perf_counter()  # as the index does after every run
            blocks = store.write_cluster_blocks(store.bump_generation())
            print(f"  (packed {blocks} cluster blocks in {time.perf_counter() - start:.1f} s)")
        dbs[n] = store.db.name
        ids = [d["_id"] for d in store.iter_tracks({}, {"_id": 1})]
        recommender = Recommender(store)
        seeds = rng.choice(ids, 100, replace=False)
        cold, warm = [], []
        for s in seeds:
            start = time.perf_counter()
            Recommender(store).recommend([s], max_per_artist=None)
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            recommender.recommend([s], max_per_artist=None)
            warm.append(time.perf_counter() - start)
        slow, recall = [], []
        for s in seeds[: max(3, 30_000 // n)]:
            start = time.perf_counter()
            exact = brute_force(store, recommender, s)
            slow.append(time.perf_counter() - start)
            got = {r.id for r in recommender.recommend([s], max_per_artist=None)}
            recall.append(len(got & set(exact)) / 5)
        print(f"{n:>7}  {percentiles(cold):<32}  {percentiles(warm):<32}  {percentiles(slow):<32}  "
              f"{np.mean(recall):.2f}")
        store.close()
    return dbs


def spawn_workers(count: int, bootstrap: str, uri: str, db: str, topic: str, group: str):
    """``count`` workers in one group, returned once each holds partitions (a group join takes
    session_timeout/2 on tansu; a fixed sleep was either too short or wasted time)."""
    data = Path(tempfile.mkdtemp())
    env = {**os.environ, "ENCORE_KAFKA_BOOTSTRAP": bootstrap, "ENCORE_MONGO_URI": uri,
           "ENCORE_DB": db, "ENCORE_TOPIC": topic, "ENCORE_DATA_DIR": str(data)}
    workers, logs = [], [data / f"worker-{i}.log" for i in range(count)]
    for log in logs:
        with log.open("w") as out:
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "player.launch", "worker", "--group", group], env=env,
                stdout=out, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 120
    while not all("newly assigned partitions" in log.read_text() for log in logs):
        if time.monotonic() > deadline:
            raise SystemExit(f"workers did not join their group; see {data}")
        time.sleep(0.2)
    return workers


def throughput(bootstrap: str, uri: str, db: str, events: int) -> None:
    store = MongoStore(uri, db)
    ids = [d["_id"] for d in store.iter_tracks({}, {"_id": 1}, batch_size=5000)][:5000]
    print(f"\nevents through the worker group ({events} events, library of {store.count_tracks()})")
    for count in (1, 2):
        name = uuid.uuid4().hex[:6]
        topic, group = f"bench_{name}", f"bench_{name}"
        workers = spawn_workers(count, bootstrap, uri, db, topic, group)
        sessions = [f"{name}-{i}" for i in range(events)]
        producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        start = time.perf_counter()
        for i, session in enumerate(sessions):
            producer.send(topic, key=session.encode(),
                          value=make_event("play", ids[i % len(ids)], session).to_json())
        producer.flush()
        while store.recommendations.count_documents({"session_id": {"$in": sessions}}) < events:
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        print(f"  {count} worker(s): {events / elapsed:7.1f} events/s")
        for w in workers:
            w.terminate()
            w.wait(20)


def play_latency(bootstrap: str, uri: str, db: str, samples: int = 100) -> None:
    store = MongoStore(uri, db)
    ids = [d["_id"] for d in itertools.islice(store.iter_tracks({}, {"_id": 1}), 2000)]
    name = uuid.uuid4().hex[:6]
    topic, group = f"lat_{name}", f"lat_{name}"
    workers = spawn_workers(1, bootstrap, uri, db, topic, group)
    listener = KafkaConsumer("recommendations", bootstrap_servers=bootstrap,
                             group_id=f"listen_{name}", auto_offset_reset="earliest",
                             session_timeout_ms=6000, heartbeat_interval_ms=1000,
                             fetch_max_wait_ms=20)
    listener.poll(timeout_ms=5000)
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    latencies = []
    for i in range(samples):
        session = f"{name}-{i}"
        start = time.perf_counter()
        producer.send(topic, key=session.encode(),
                      value=make_event("play", ids[i % len(ids)], session).to_json())
        producer.flush()
        while not any(m.key == session.encode() for part in listener.poll(timeout_ms=100).values()
                      for m in part):
            if time.perf_counter() - start > 30:
                break
        latencies.append(time.perf_counter() - start)
    print(f"\nplay -> recommendation on topic (library of {store.count_tracks()}): "
          f"{percentiles(latencies)}")
    listener.close()
    for w in workers:
        w.terminate()
        w.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--play-sizes", type=int, nargs="+", default=[10000],
                        help="library sizes (among --sizes) whose play latency is measured")
    parser.add_argument("--data-dir", help="keep the local stack's data here (synthetic libraries "
                        "are reused across runs; default: a new temporary folder)")
    args = parser.parse_args()
    data = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="encore-bench-"))
    stack = LocalStack(Config(data, None, None))
    uri = mongo_uri(stack.ensure("mongo").port)
    bootstrap = stack.ensure("kafka").address
    dbs = query_latency(uri, args.sizes)
    db10k = dbs.get(10000, dbs[max(dbs)])
    throughput(bootstrap, uri, db10k, args.events)
    for size in args.play_sizes:
        play_latency(bootstrap, uri, dbs.get(size, db10k))


if __name__ == "__main__":
    main()
