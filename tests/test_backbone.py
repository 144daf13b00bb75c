"""Play events through a real Kafka-protocol broker (tansu) into the worker and MongoDB."""

import json
import subprocess
import threading
import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer

from core.bus.topics import DEAD_LETTER, RECOMMENDATIONS
from core.errors import EventError
from core.events import make_event, parse_event
from core.library.pipeline import run_import
from core.worker import RecommenderWorker


@pytest.fixture
def library_store(store, generated_library):
    run_import(str(generated_library), store, jobs=2)
    return store


def _read(bootstrap, topic, done, timeout=60):
    """``(key, doc)`` of the topic's messages, read until ``done(messages)`` or the timeout."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"t-{uuid.uuid4().hex}",
                             auto_offset_reset="earliest", session_timeout_ms=6000,
                             heartbeat_interval_ms=1000, consumer_timeout_ms=500)
    out, deadline = [], time.monotonic() + timeout
    while not done(out) and time.monotonic() < deadline:
        out += [(m.key, json.loads(m.value)) for m in consumer]
    consumer.close()
    return out


def _run_worker(worker):
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def test_play_event_in_top5_out(kafka, library_store):
    topic = f"events_{uuid.uuid4().hex[:6]}"
    worker = RecommenderWorker(kafka, library_store, topic=topic, group=f"g-{topic}")
    thread = _run_worker(worker)
    seed = next(library_store.iter_tracks({}, {"_id": 1}))["_id"]
    session = f"s{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(bootstrap_servers=kafka)
    producer.send(topic, key=session.encode(), value=make_event("play", seed, session).to_json())
    producer.flush()
    deadline = time.monotonic() + 60
    while library_store.get_recommendations(session) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.stop_event.set()
    thread.join(20)
    stored = library_store.get_recommendations(session)
    ids = [r["id"] for r in stored["recommendations"]]
    assert len(ids) >= 5 and len(set(ids)) == len(ids) and seed not in ids  # k is the fewest
    key = session.encode()
    messages = _read(kafka, RECOMMENDATIONS, lambda ms: any(k == key for k, _ in ms))
    published = [doc for k, doc in messages if k == key]
    assert [r["id"] for r in published[-1]["recommendations"]] == ids
    assert library_store.recent_track_ids(session) == [seed]


MALFORMED = {
    "bad json": b"{not json",
    "not an object": b"[1, 2]",
    "missing field": json.dumps({"type": "play", "session_id": "s", "ts": 1, "v": 1}).encode(),
    "wrong type": json.dumps({"type": "play", "track_id": 5, "session_id": "s", "ts": 1,
                              "v": 1}).encode(),
    "operator": json.dumps({"type": "play", "track_id": {"$ne": None}, "session_id": "s",
                            "ts": 1, "v": 1}).encode(),
    "unknown kind": json.dumps({"type": "dance", "track_id": "a", "session_id": "s", "ts": 1,
                                "v": 1}).encode(),
    "unknown track": json.dumps({"type": "play", "track_id": "feedfacefeedface",
                                 "session_id": "s", "ts": 1, "v": 1}).encode(),
    "oversized": json.dumps({"type": "play", "track_id": "a", "session_id": "s", "ts": 1, "v": 1,
                             "pad": "x" * 10000}).encode(),
    # Python's json reads NaN and Infinity; a control character hides after an id
    "nan ts": b'{"type": "play", "track_id": "a", "session_id": "s", "ts": NaN, "v": 1}',
    "infinite position": b'{"type": "play", "track_id": "a", "session_id": "s", "ts": 1, '
                         b'"position_s": Infinity, "v": 1}',
    "control character": json.dumps({"type": "play", "track_id": "a\n", "session_id": "s",
                                     "ts": 1, "v": 1}).encode(),
}


def test_malformed_events_go_to_dead_letter_and_worker_keeps_running(kafka, library_store):
    topic = f"events_{uuid.uuid4().hex[:6]}"
    worker = RecommenderWorker(kafka, library_store, topic=topic, group=f"g-{topic}")
    mine = f"bad-{topic}".encode()  # the dead-letter topic is shared with other tests
    thread = _run_worker(worker)
    producer = KafkaProducer(bootstrap_servers=kafka, max_request_size=2 ** 20)
    for value in MALFORMED.values():
        producer.send(topic, key=mine, value=value)
    seed = next(library_store.iter_tracks({}, {"_id": 1}))["_id"]
    producer.send(topic, key=b"ok", value=make_event("skip", seed, "ok-session").to_json())
    producer.flush()
    deadline = time.monotonic() + 60
    while worker.processed < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.stop_event.set()
    thread.join(20)
    assert worker.processed == 1 and thread.is_alive() is False
    letters = _read(kafka, DEAD_LETTER, lambda ms: sum(k == mine for k, _ in ms) >= len(MALFORMED))
    reasons = [doc["reason"] for k, doc in letters if k == mine]
    assert len(reasons) == len(MALFORMED)
    for expected in ("not valid JSON", "not a JSON object", "missing fields: track_id",
                     "track_id must be a plain identifier, got 5", '{"$ne": null}',
                     "unknown event type", "no track with id", "oversized event",
                     "ts must be a finite", "position_s must be a finite",
                     'track_id must be a plain identifier, got "a\\n"'):
        assert any(expected in r for r in reasons), (expected, reasons)


@pytest.mark.parametrize("payload, reason", [
    ({"type": "play", "track_id": "a", "session_id": "s", "ts": -1, "v": 1}, "non-negative"),
    ({"type": "play", "track_id": "a", "session_id": "s", "ts": 1, "v": 2}, "schema version"),
    ({"type": "play", "track_id": "a", "session_id": "s", "ts": True, "v": 1}, "number"),
])
def test_event_validation_reasons(payload, reason):
    with pytest.raises(EventError, match=reason):
        parse_event(json.dumps(payload))


def test_local_servers_listen_on_loopback_only(kafka, mongo_uri):
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=False).stdout
    ports = {kafka.rsplit(":", 1)[1], mongo_uri.split(":")[2].split("/")[0]}
    lines = [line for line in listening.splitlines() if any(f":{p} " in line for p in ports)]
    assert lines and all("127.0.0.1:" in line for line in lines), lines


def test_an_event_with_a_huge_key_is_dead_lettered_not_wedging_the_worker(kafka, library_store):
    topic = f"events_{uuid.uuid4().hex[:6]}"
    worker = RecommenderWorker(kafka, library_store, topic=topic, group=f"g-{topic}")
    thread = _run_worker(worker)
    producer = KafkaProducer(bootstrap_servers=kafka, max_request_size=4 * 2 ** 20)
    huge = b"k" * (2 ** 20 + 10)  # more than a producer may send by default, as a dead letter's key
    producer.send(topic, key=huge, value=b"{not json")
    seed = next(library_store.iter_tracks({}, {"_id": 1}))["_id"]
    producer.send(topic, key=huge, value=make_event("play", seed, "after-huge").to_json())
    producer.flush()
    deadline = time.monotonic() + 60
    while worker.processed < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.stop_event.set()
    thread.join(20)
    assert worker.processed == 1  # the event behind the bad one went through
