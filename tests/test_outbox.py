"""The outbox and its publisher under faults: broker down, killed and restarted; torn entries;
two processes on one outbox. Real tansu brokers, a real database, SIGKILL."""

import functools
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import pytest
from kafka import KafkaConsumer

from core.bus.outbox import EventPublisher, Outbox, open_outbox
from core.events import make_event, parse_event
from core.library.pipeline import run_import
from core.services import free_port, tansu_binary
from core.stack_servers import Server
from core.store.plays import settled_event_ids
from core.worker import RecommenderWorker
from tests.waiting import poll

pytestmark = pytest.mark.skipif(tansu_binary() is None, reason="tansu is not available here")


@pytest.fixture
def library_store(store, generated_library):
    run_import(str(generated_library / "kind0"), store, jobs=1)
    return store


@pytest.fixture
def broker(tmp_path):
    """A private tansu broker that a test may SIGKILL and start again on the same port."""
    server = Server("kafka", tmp_path, free_port())
    server.start()
    yield server
    server.stop()


def _restart(server: Server) -> None:
    server.proc.kill()
    server.proc.wait(10)
    server.start()


def _address(server: Server) -> str:
    return f"127.0.0.1:{server.port}"


def _event_ids(bootstrap, topic, count, timeout=60):
    """Event ids found on ``topic`` (read until ``count`` distinct ones or the timeout)."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=uuid.uuid4().hex,
                             auto_offset_reset="earliest", session_timeout_ms=6000,
                             heartbeat_interval_ms=1000, consumer_timeout_ms=500)
    found, deadline = set(), time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        found |= {parse_event(m.value).event_id for m in consumer}
    consumer.close()
    return found


def _start_worker(bootstrap, store, group):
    worker = RecommenderWorker(bootstrap, store, group=group)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def _failed_attempt(caplog):
    return any("cannot deliver" in r.getMessage() for r in caplog.records)


def test_outbox_holds_events_while_broker_is_down(tmp_path, library_store, caplog):
    caplog.set_level(logging.WARNING, logger="encore.bus")
    server = Server("kafka", tmp_path, free_port())  # not started yet
    publisher = EventPublisher(_address(server), "music_topic", Outbox(tmp_path / "outbox.db"),
                               settled=functools.partial(settled_event_ids, library_store))
    tracks = [d["_id"] for d in library_store.iter_tracks({}, {"_id": 1})]
    events = [make_event("play", track, "outbox-session") for track in tracks]
    for event in events:
        publisher.publish(event)  # returns at once although no broker listens
    assert poll(lambda: _failed_attempt(caplog), 30)
    assert publisher.backlog.unsent == len(events) and not publisher.connected
    server.start()
    worker, thread = _start_worker(_address(server), library_store, "outbox-group")
    try:
        assert publisher.flush(timeout=60)  # the publisher creates the topics itself
        assert publisher.wait_settled(timeout=90)  # kept until each play was stored
        assert library_store.plays.count_documents({"session_id": "outbox-session"}) == len(events)
    finally:
        worker.stop_event.set()
        thread.join(20)
        publisher.close()
        server.stop()


@pytest.mark.parametrize("after_s", [0.2, 1.5])
def test_closing_with_the_broker_gone_is_quick(tmp_path, after_s):
    """The sender cannot be interrupted while it waits for a broker; that wait bounds a player's
    teardown (it was 5 s: closes took 2-5 s)."""
    publisher = EventPublisher(f"127.0.0.1:{free_port()}", "music_topic",
                               Outbox(tmp_path / "outbox.db"), settled=lambda ids: set())
    publisher.publish(make_event("play", "t1", "s1"))
    time.sleep(after_s)  # inside the first connection attempt, or a later one
    started = time.monotonic()
    publisher.close()
    assert time.monotonic() - started < 2.0
    assert Outbox(tmp_path / "outbox.db").backlog().unsent == 1  # kept for the next run


def test_acknowledged_events_survive_a_broker_restart(broker, library_store):
    """The in-memory broker forgets what it acknowledged; the outbox sends it again."""
    publisher = EventPublisher(_address(broker), "music_topic", Outbox(broker.folder / "o.db"),
                               settled=functools.partial(settled_event_ids, library_store),
                               resend_after_s=2.0)
    session = f"restart-{uuid.uuid4().hex[:6]}"
    tracks = [d["_id"] for d in library_store.iter_tracks({}, {"_id": 1})]
    for track in tracks:
        publisher.publish(make_event("play", track, session))
    try:
        assert publisher.flush(timeout=60)  # acknowledged by the broker, read by no worker
        _restart(broker)  # SIGKILL: everything it held is gone
        worker, thread = _start_worker(_address(broker), library_store, f"g-{session}")
        try:
            assert publisher.wait_settled(timeout=120), publisher.backlog
        finally:
            worker.stop_event.set()
            thread.join(20)
        plays = list(library_store.plays.find({"session_id": session}, {"event_id": 1}))
        assert len(plays) == len(tracks) == len({p["event_id"] for p in plays})
    finally:
        publisher.close()


def test_sender_survives_broker_death_and_reconnects_on_the_same_address(broker, caplog):
    caplog.set_level(logging.WARNING, logger="encore.bus")
    publisher = EventPublisher(_address(broker), "music_topic", Outbox(broker.folder / "o.db"))
    session = f"death-{uuid.uuid4().hex[:6]}"
    first = make_event("play", "t0", session)
    try:
        publisher.publish(first)
        assert publisher.flush(timeout=60) and publisher.connected
        broker.proc.kill()
        broker.proc.wait(10)
        later = [make_event("play", f"t{i}", session) for i in range(1, 6)]
        for event in later:
            publisher.publish(event)
        assert poll(lambda: _failed_attempt(caplog), 60)
        assert not publisher.connected and publisher.backlog.unsent == len(later)
        broker.start()  # the same address
        assert publisher.flush(timeout=90), publisher.backlog
        assert publisher.connected
        wanted = {e.event_id for e in later}
        assert wanted <= _event_ids(_address(broker), "music_topic", len(wanted))
    finally:
        publisher.close()  # must not raise with the broker gone or back


def test_torn_and_invalid_entries_are_quarantined_and_delivery_goes_on(kafka, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="encore.bus")
    session = f"torn-{uuid.uuid4().hex[:6]}"
    good = [make_event("play", f"t{i}", session) for i in range(3)]
    legacy = tmp_path / "outbox.jsonl"  # the old format, cut off mid-line by a crash
    legacy.write_bytes(good[0].to_json() + b"\n" + good[1].to_json() + b"\n"
                       + good[2].to_json()[:17])
    outbox = open_outbox(tmp_path)
    with sqlite3.connect(outbox.path) as db:  # an entry that is not an event
        db.execute("INSERT INTO events(event_id, payload) VALUES ('x', x'7b2274797065')")
    topic = f"torn_{uuid.uuid4().hex[:6]}"
    publisher = EventPublisher(kafka, topic, outbox)
    try:
        assert publisher.flush(timeout=60)
        assert publisher.backlog.quarantined == 2
        assert not legacy.exists()
        wanted = {e.event_id for e in good[:2]}
        assert _event_ids(kafka, topic, 2) == wanted
        assert sum("quarantined" in r.getMessage() for r in caplog.records) == 2
    finally:
        publisher.close()


PUBLISH_SCRIPT = """
import sys
from pathlib import Path
from core.bus.outbox import EventPublisher, Outbox
from core.events import make_event, parse_event
bootstrap, topic, path, name = sys.argv[1:]
publisher = EventPublisher(bootstrap, topic, Outbox(Path(path)))
for i in range(100):
    publisher.publish(make_event("play", f"t{i}", name))
ok = publisher.flush(timeout=120)
publisher.close()
sys.exit(0 if ok else 3)
"""


def test_two_processes_on_one_outbox_lose_nothing(kafka, tmp_path):
    topic = f"shared_{uuid.uuid4().hex[:6]}"
    path = tmp_path / "outbox.db"
    procs = [subprocess.Popen([sys.executable, "-c", PUBLISH_SCRIPT, kafka, topic, str(path),
                               f"proc{n}"]) for n in range(2)]
    assert [p.wait(180) for p in procs] == [0, 0]
    assert len(_event_ids(kafka, topic, 200)) == 200  # every event of both arrived
    assert Outbox(path).backlog().total == 0


def test_unreadable_outbox_is_moved_aside(tmp_path, caplog):
    path = tmp_path / "outbox.db"
    path.write_bytes(b"this is not a database" * 100)
    outbox = Outbox(path)
    outbox.append(make_event("play", "t1", "s1"))
    assert outbox.backlog().unsent == 1
    assert len(list(tmp_path.glob("outbox.db.corrupt-*"))) == 1
    assert any("unreadable" in r.getMessage() for r in caplog.records)


def test_events_are_kept_once(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    event = make_event("like", "t1", "s1")
    outbox.append(event)
    outbox.append(event)  # e.g. an old outbox imported twice
    assert outbox.backlog().unsent == 1
    assert json.loads(outbox.claim(10)[0].payload)["type"] == "like"


def test_draining_a_backlog_is_linear_work(tmp_path):
    """After an outage, each delivered batch costs the same whatever the backlog (the JSON-lines
    outbox rewrote the whole file per dropped event: quadratic)."""
    def drain_time(count: int) -> float:
        outbox = Outbox(tmp_path / f"outbox-{count}.db")
        for i in range(count):
            outbox.append(make_event("play", f"t{i}", "backlog"))
        started = time.perf_counter()
        while batch := outbox.claim(200):
            seqs = [e.seq for e in batch]
            outbox.mark_sent(seqs, 30.0)
            outbox.delete(seqs)
        elapsed = time.perf_counter() - started
        assert outbox.backlog().total == 0
        outbox.close()
        return elapsed

    small, large = drain_time(500), drain_time(4000)
    assert large < 16 * small  # 8x the events: linear is at most ~8x, quadratic ~64x


def test_the_outbox_is_private_to_the_user(tmp_path):
    previous = os.umask(0o022)  # a usual umask: new files readable by all unless Encore says not
    try:
        outbox = Outbox(tmp_path / "outbox.db")
        outbox.append(make_event("play", "t1", "s1"))
        modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
        outbox.close()
    finally:
        os.umask(previous)
    assert modes and all(mode == 0o600 for mode in modes.values()), modes  # with -wal and -shm



def test_a_locked_outbox_is_never_taken_for_a_corrupt_one(tmp_path):
    # Another process holds the database (as two starting at once once did): the opener must
    # fail and leave it alone, not move a live outbox aside as unreadable.
    path = tmp_path / "outbox.db"
    first = Outbox(path)
    first.append(make_event("play", "t1", "s1"))
    first.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            Outbox(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not list(tmp_path.glob("outbox.db.corrupt-*"))
    assert Outbox(path).backlog().unsent == 1
