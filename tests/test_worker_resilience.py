"""The worker group under failure: shared partitions, a SIGKILLed member, a database outage."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from core.events import make_event
from core.library.pipeline import run_import
from core.services import HOST, free_port, mongo_uri
from core.store.mongo import MongoStore
from core.worker import RecommenderWorker


@pytest.fixture
def library_store(store, generated_library):
    run_import(str(generated_library), store, jobs=2)
    return store


def _spawn_worker(kafka, mongo, db, topic, group, tmp_path):
    """A worker process; its log is ``proc.log`` (a path)."""
    env = {**os.environ, "ENCORE_KAFKA_BOOTSTRAP": kafka, "ENCORE_MONGO_URI": mongo,
           "ENCORE_DB": db, "ENCORE_TOPIC": topic, "ENCORE_DATA_DIR": str(tmp_path)}
    log = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "player.launch", "worker", "--group", group],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    proc.log = log
    return proc


def _wait_joined(*workers, timeout=90):
    """Until every worker holds partitions. A fixed sleep raced start-up on a loaded CI machine;
    a worker that joins second takes part of the partitions, so all holding some means all joined."""
    def joined():
        return all("newly assigned partitions" in w.log.read_text() for w in workers)

    assert _wait_for(joined, timeout), "\n".join(w.log.read_text()[-2000:] for w in workers)


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _send(kafka, topic, track_ids, sessions, delay=0.0):
    producer = KafkaProducer(bootstrap_servers=kafka)
    for i, session in enumerate(sessions):
        event = make_event("play", track_ids[i % len(track_ids)], session)
        producer.send(topic, key=session.encode(), value=event.to_json())
        if delay:
            producer.flush()
            time.sleep(delay)
    producer.flush()
    producer.close()


def _done(store, sessions):
    return store.recommendations.count_documents({"session_id": {"$in": sessions}})


@pytest.fixture
def topic_and_group():
    name = uuid.uuid4().hex[:8]
    return f"events_{name}", f"group_{name}"


def test_two_workers_split_the_partitions(kafka, mongo_uri, library_store, topic_and_group, tmp_path):
    topic, group = topic_and_group
    workers = [_spawn_worker(kafka, mongo_uri, library_store.db.name, topic, group, tmp_path)
               for _ in range(2)]
    try:
        _wait_joined(*workers)  # before the first event, so the group is split from the start
        tracks = [d["_id"] for d in library_store.iter_tracks({}, {"_id": 1})]
        sessions = [f"split-{i}" for i in range(30)]
        _send(kafka, topic, tracks, sessions)
        assert _wait_for(lambda: _done(library_store, sessions) == 30, 90)
        by = {d["computed_by"] for d in library_store.recommendations.find(
            {"session_id": {"$in": sessions}}, {"computed_by": 1})}
        assert len(by) == 2  # each member processed its share of the partitions
    finally:
        for w in workers:
            w.terminate()
            w.wait(20)


def test_sigkilled_worker_loses_no_event(kafka, mongo_uri, library_store, topic_and_group,
                                          tmp_path):
    topic, group = topic_and_group
    first = _spawn_worker(kafka, mongo_uri, library_store.db.name, topic, group, tmp_path)
    second = _spawn_worker(kafka, mongo_uri, library_store.db.name, topic, group, tmp_path)
    try:
        _wait_joined(first, second)
        tracks = [d["_id"] for d in library_store.iter_tracks({}, {"_id": 1})]
        sessions = [f"kill-{uuid.uuid4().hex[:6]}-{i}" for i in range(60)]
        sender = threading.Thread(target=_send, args=(kafka, topic, tracks, sessions, 0.05))
        sender.start()
        assert _wait_for(lambda: _done(library_store, sessions) >= 10, 60)
        first.send_signal(signal.SIGKILL)  # mid-stream: events keep arriving
        first.wait(10)
        sender.join(60)
        assert _wait_for(lambda: _done(library_store, sessions) == 60, 120)
        assert library_store.plays.count_documents({"session_id": {"$in": sessions}}) == 60
    finally:
        for w in (first, second):
            if w.poll() is None:
                w.terminate()
                w.wait(20)


def _start_mongo(port, path):
    exe = shutil.which("secantusd-py") or os.path.join(os.path.dirname(sys.executable),
                                                        "secantusd-py")
    proc = subprocess.Popen([exe, "--host", HOST, "--port", str(port), "--storage-path", str(path),
                             "--log-level", "WARNING"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    probe = MongoStore(mongo_uri(port), timeout_ms=500)
    assert _wait_for(lambda: _ping(probe), 30)
    probe.close()
    return proc


def _ping(store):
    try:
        store.client.admin.command("ping")
        return True
    except Exception:
        return False


def test_database_outage_delays_but_loses_nothing(kafka, generated_library, tmp_path,
                                                  topic_and_group):
    topic, group = topic_and_group
    port, data = free_port(), tmp_path / "db"
    mongo = _start_mongo(port, data)
    store = MongoStore(mongo_uri(port), "outage", timeout_ms=1000)
    store.ensure_schema()
    run_import(str(generated_library / "kind1"), store, jobs=1)
    track = next(store.iter_tracks({}, {"_id": 1}))["_id"]
    worker = RecommenderWorker(kafka, store, topic=topic, group=group)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        mongo.terminate()
        mongo.wait(20)
        _send(kafka, topic, [track], ["outage-session"])
        time.sleep(10)  # the worker polls the event and keeps failing to store it
        assert thread.is_alive() and worker.processed == 0
        probe = KafkaConsumer(bootstrap_servers=kafka, group_id=group)
        committed = [probe.committed(TopicPartition(topic, p)) for p in range(3)]
        probe.close()
        assert all(c in (None, 0) for c in committed)  # nothing committed early
        mongo = _start_mongo(port, data)  # same port, same files
        assert _wait_for(lambda: worker.processed == 1, 60)
        assert store.get_recommendations("outage-session") is not None
    finally:
        worker.stop_event.set()
        thread.join(20)
        mongo.terminate()
        mongo.wait(20)


def test_worker_stops_promptly_after_its_servers_are_gone(tmp_path):
    from core.config import Config
    from core.services import LocalStack

    stack = LocalStack(Config(tmp_path / "own", None, None))
    broker, db = stack.ensure("kafka").address, mongo_uri(stack.ensure("mongo").port)
    worker = _spawn_worker(broker, db, "encore", "music_topic", "stopping", tmp_path)
    _wait_joined(worker)
    stack.stop()  # as when the player and its local stack exit together
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0, worker.log.read_text()[-4000:]
