"""The worker group under failure: shared partitions, a SIGKILLed member, a database outage."""

import json
import logging
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
from core.stack_servers import Server
from core.store.mongo import MongoStore
from core.worker import RecommenderWorker
from tests.waiting import poll


@pytest.fixture
def library_store(store, generated_library):
    run_import(str(generated_library), store, jobs=2)
    return store


MAX_POLL_MS = 8000


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

    assert poll(joined, timeout), "\n".join(w.log.read_text()[-2000:] for w in workers)


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
        assert poll(lambda: _done(library_store, sessions) == 30, 90)
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
        assert poll(lambda: _done(library_store, sessions) >= 10, 60)
        first.send_signal(signal.SIGKILL)  # mid-stream: events keep arriving
        first.wait(10)
        sender.join(60)
        assert poll(lambda: _done(library_store, sessions) == 60, 120)
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
    assert poll(lambda: _ping(probe), 30)
    probe.close()
    return proc


def _ping(store):
    try:
        store.client.admin.command("ping")
        return True
    except Exception:
        return False


def _committed(kafka, topic, group):
    probe = KafkaConsumer(bootstrap_servers=kafka, group_id=group)
    committed = [probe.committed(TopicPartition(topic, p)) for p in range(3)]
    probe.close()
    return committed


def test_database_outage_longer_than_max_poll_interval(kafka, generated_library, tmp_path,
                                                       topic_and_group, caplog):
    """The worker pauses its partitions and keeps polling: it stays in the group, and commits
    the event once it is stored (before: it stopped polling, was dropped from the group, and its
    commit failed and killed it)."""
    caplog.set_level(logging.INFO)
    topic, group = topic_and_group
    port, data = free_port(), tmp_path / "db"
    mongo = _start_mongo(port, data)
    store = MongoStore(mongo_uri(port), "outage", timeout_ms=1000)
    store.ensure_schema()
    run_import(str(generated_library / "kind1"), store, jobs=1)
    track = next(store.iter_tracks({}, {"_id": 1}))["_id"]
    worker = RecommenderWorker(kafka, store, topic=topic, group=group,
                               max_poll_interval_ms=MAX_POLL_MS)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        mongo.kill()
        mongo.wait(20)
        _send(kafka, topic, [track], ["outage-session"])
        # the worker polled the event and failed to store it
        assert poll(lambda: _logged(caplog, "database unavailable"), 60)
        # the outage lasts three poll intervals (the event meant is that much time passing)
        assert not poll(lambda: not thread.is_alive(), 3 * MAX_POLL_MS / 1000)
        assert worker.processed == 0
        assert all(c in (None, 0) for c in _committed(kafka, topic, group))  # nothing early
        mongo = _start_mongo(port, data)  # same port, same files
        assert poll(lambda: worker.processed == 1, 60)
        assert poll(lambda: sorted(c or 0 for c in _committed(kafka, topic, group)) == [0, 0, 1],
                         30)
        assert thread.is_alive()
        assert not _logged(caplog, "leaving group"), "the worker was dropped from its group"
        assert store.get_recommendations("outage-session") is not None
    finally:
        worker.stop_event.set()
        thread.join(20)
        mongo.terminate()
        mongo.wait(20)


def _logged(caplog, text):
    return any(text in r.getMessage().lower() for r in caplog.records)


def test_worker_waits_for_the_broker_and_reconnects_after_it_restarts(mongo_uri, library_store,
                                                                      tmp_path, topic_and_group):
    """Before: ``encore worker`` exited (code 2) without a broker, and never saw a restarted one."""
    topic, group = topic_and_group
    broker = Server("kafka", tmp_path, free_port())  # not running yet
    address = f"{HOST}:{broker.port}"
    worker = _spawn_worker(address, mongo_uri, library_store.db.name, topic, group, tmp_path)
    tracks = [d["_id"] for d in library_store.iter_tracks({}, {"_id": 1})]
    try:
        assert poll(lambda: "reconnecting" in worker.log.read_text(), 60)
        assert worker.poll() is None
        broker.start()
        for round_ in range(2):
            session = f"reconnect-{round_}-{uuid.uuid4().hex[:6]}"
            _send(address, topic, tracks[:1], [session])
            assert poll(lambda s=session: library_store.plays.count_documents(
                {"session_id": s}) == 1, 120), worker.log.read_text()[-3000:]
            broker.proc.kill()  # SIGKILL: topics, messages, the group and its offsets are gone
            broker.proc.wait(10)
            broker.start()
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(20)
        broker.stop()


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


def test_events_with_non_finite_times_or_control_characters_are_dead_lettered(kafka, store,
                                                                            topic_and_group):
    """Values Python's JSON reads (NaN, Infinity) and ids that would corrupt a log line or a
    terminal reach the dead-letter topic with the reason; nothing is stored."""
    from core.bus.topics import DEAD_LETTER

    topic, group = topic_and_group
    base = {"type": "play", "track_id": "t1", "session_id": "s1", "ts": 1.0, "position_s": 0.0,
            "v": 1}
    bad = {b"nan-ts": base | {"ts": float("nan")}, b"inf-pos": base | {"position_s": float("-inf")},
           b"ctl-id": base | {"track_id": "t1\x1b[2J"}}
    worker = RecommenderWorker(kafka, store, topic=topic, group=group)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    producer = KafkaProducer(bootstrap_servers=kafka)
    try:
        assert poll(lambda: worker.consumer is not None and worker.consumer.assignment(), 60)
        for key, event in bad.items():
            producer.send(topic, key=topic.encode() + key, value=json.dumps(event).encode())
        producer.flush()
        reader = KafkaConsumer(bootstrap_servers=kafka, auto_offset_reset="earliest",
                               consumer_timeout_ms=500)
        reader.assign([TopicPartition(DEAD_LETTER, 0)])
        letters: dict[bytes, str] = {}

        def read() -> bool:
            for message in reader:
                if message.key and message.key.startswith(topic.encode()):
                    letters[message.key[len(topic):]] = json.loads(message.value)["reason"]
            return len(letters) == len(bad)

        assert poll(read, 60), letters
        reader.close()
    finally:
        producer.close()
        worker.stop_event.set()
        thread.join(20)
    assert "ts must be a finite" in letters[b"nan-ts"]
    assert "position_s must be a finite" in letters[b"inf-pos"]
    assert "track_id must be a plain identifier" in letters[b"ctl-id"]
    assert store.plays.count_documents({}) == 0
