"""The scenario a user meets, as far as events go: workers with no servers configured bring up
the local stack and share it; 200 play events go straight to ``music_topic`` while the worker
processing them is SIGKILLed after about a quarter and a new one takes over — 200 plays are
stored, each once."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from kafka import KafkaProducer

from core.config import Config
from core.events import make_event
from core.library.pipeline import run_import
from core.services import LocalStack, mongo_uri, tansu_binary
from core.store.mongo import MongoStore
from tests.waiting import poll

pytestmark = pytest.mark.skipif(tansu_binary() is None, reason="tansu is not available here")
EVENTS = 200


class Worker:
    """``encore worker`` with no servers configured (it finds or starts the local stack)."""

    def __init__(self, data: str, db: str, logs):
        env = {k: v for k, v in os.environ.items()
               if k not in ("ENCORE_KAFKA_BOOTSTRAP", "ENCORE_MONGO_URI")}
        env |= {"ENCORE_DATA_DIR": data, "ENCORE_DB": db}
        self.log = logs / f"worker-{uuid.uuid4().hex[:6]}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], env=env,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)

    def joined(self) -> bool:
        return "newly assigned partitions" in self.log.read_text(errors="replace")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)


def _send(bootstrap: str, events) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for event in events:
        producer.send("music_topic", key=event.session_id.encode(), value=event.to_json())
        producer.flush()
        time.sleep(0.02)  # a stream, so the kill lands in the middle of it
    producer.close()


def test_200_plays_survive_a_sigkilled_worker(tmp_path, generated_library):
    config = Config(tmp_path / "data", None, None)
    stack, db = LocalStack(config), f"scenario_{uuid.uuid4().hex[:6]}"
    workers = [Worker(str(config.data_dir), db, tmp_path)]
    try:
        # the first worker brings up the stack (this test takes no lease of its own)
        assert poll(lambda: {"mongo", "kafka"} <= set(stack.status()), 120), workers[0].tail()
        running = stack.status()
        store = MongoStore(mongo_uri(running["mongo"].port), db)
        store.ensure_schema()
        run_import(str(generated_library), store, jobs=1)
        workers.append(Worker(str(config.data_dir), db, tmp_path))  # a second one joins
        assert poll(lambda: all(w.joined() for w in workers), 120), workers[1].tail()
        workers[0].stop()  # the first exits; the stack stays for the second
        assert set(stack.status()) == {"mongo", "kafka"}

        tracks = [d["_id"] for d in store.iter_tracks({}, {"_id": 1})]
        events = [make_event("play", tracks[i % len(tracks)], f"user-{i % 7}")
                  for i in range(EVENTS)]
        sender = threading.Thread(target=_send, args=(running["kafka"].address, events))
        sender.start()
        stored = lambda: store.plays.count_documents({"session_id": {"$regex": "^user-"}})  # noqa: E731
        assert poll(lambda: stored() >= EVENTS // 4, 120), workers[1].tail()
        workers.append(Worker(str(config.data_dir), db, tmp_path))  # its replacement
        # ... holds the stack before the kill (with no client left the stack would stop)
        assert poll(lambda: len(stack.clients()) == 2, 60), workers[2].tail()
        workers[1].stop(signal.SIGKILL)
        assert stored() < EVENTS  # killed mid-stream
        sender.join(120)
        assert poll(lambda: stored() == EVENTS, 180), workers[2].tail()

        ids = [d["event_id"] for d in store.plays.find({"session_id": {"$regex": "^user-"}},
                                                         {"event_id": 1})]
        assert sorted(ids) == sorted(e.event_id for e in events)  # all, each once
    finally:
        for worker in workers:
            worker.stop()
        stack.stop()
