"""Faults through the local stack: nothing lost, nothing stored twice, nothing stuck.

Every row runs against the real local stack (tansu + SecantusDB started by Encore's own code, in
a private data directory), real ``encore worker`` and ``encore import`` processes, and the
player's publisher (``EventPublisher`` with its outbox, confirming each event against the
database); faults are SIGKILLs. Rows:

- database server SIGKILLed during ``encore import``, then the import run again;
- a worker SIGKILLed mid-stream, three times in a row;
- two workers, one SIGKILLed;
- the broker SIGKILLed (its supervisor restarts it on the same port) while the publisher keeps
  sending, after it had events acknowledged that no worker had read;
- an old JSON-lines outbox with a torn line (and an outbox row that is not an event);
- a publishing process SIGKILLed mid-publish, its outbox delivered by the next one;
- two Encore processes sharing one stack while the one that started it exits.

Every wait is bounded (``--timeout`` per row); the bench stops by itself and exits 1 if a row
failed. Usage: ``python bench/faults.py [--events 200] [--timeout 300] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.bus.outbox import EventPublisher, Outbox, open_outbox
from core.config import Config
from core.events import PlayEvent, make_event
from core.services import LocalStack, encore_command, mongo_uri
from core.store.mongo import MongoStore
from core.store.plays import settled_event_ids
from tests.audio import music_like, write

LIBRARY_FILES = 24


@dataclass
class Row:
    """One fault and what came of it."""

    name: str
    sent: int = 0
    stored: int = 0
    twice: int = 0
    tracks_expected: int | None = None
    tracks_stored: int | None = None
    outbox_left: int = 0
    counted: int | None = None
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        tracks_ok = self.tracks_expected is None or self.tracks_expected == self.tracks_stored
        counted_ok = self.counted is None or self.counted == self.sent
        return (self.sent == self.stored and self.twice == 0 and self.outbox_left == 0
                and tracks_ok and counted_ok)


def wait_for(predicate, timeout: float, every: float = 0.2) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


class Bench:
    """The local stack of one data directory, its database, and the processes started on it."""

    def __init__(self, data: Path, timeout: float):
        self.data, self.timeout = data, timeout
        self.config = Config(data, None, None)
        self.stack = LocalStack(self.config)
        self.db = "faults"
        self.procs: list[subprocess.Popen] = []
        (data / "logs").mkdir(parents=True, exist_ok=True)

    # -- processes ---------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("ENCORE_KAFKA_BOOTSTRAP", "ENCORE_MONGO_URI")}
        return env | {"ENCORE_DATA_DIR": str(self.data), "ENCORE_DB": self.db}

    def spawn(self, *args: str, log: str) -> subprocess.Popen:
        with (self.data / "logs" / f"{log}-{uuid.uuid4().hex[:4]}.log").open("w") as out:
            proc = subprocess.Popen(encore_command(*args), env=self.env(), stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        proc.log = Path(out.name)
        self.procs.append(proc)
        return proc

    def worker(self) -> subprocess.Popen:
        """An ``encore worker`` that holds a lease on the stack (waited for)."""
        before = len(self.stack.clients())
        proc = self.spawn("worker", log="worker")
        wait_for(lambda: len(self.stack.clients()) > before or proc.poll() is not None,
                 self.timeout)
        return proc

    def joined(self, *workers: subprocess.Popen) -> bool:
        return wait_for(lambda: all("newly assigned partitions" in w.log.read_text(errors="replace")
                                    for w in workers), self.timeout)

    def kill(self, proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        if proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(60)

    def kill_server(self, name: str) -> int:
        """SIGKILL the stack's broker or database; returns its port."""
        info = self.stack.status()[name]
        os.kill(info.pid, signal.SIGKILL)
        return info.port

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):  # reported, not fatal
                    proc.wait(30)
        self.stack.stop()

    # -- servers -----------------------------------------------------------------------------
    def running(self, name: str) -> bool:
        return name in self.stack.status()

    def store(self) -> MongoStore:
        assert wait_for(lambda: self.running("mongo"), self.timeout), "no database"
        return MongoStore(mongo_uri(self.stack.status()["mongo"].port), self.db)

    def publisher(self, store: MongoStore, name: str) -> EventPublisher:
        assert wait_for(lambda: self.running("kafka"), self.timeout), "no broker"
        return EventPublisher(self.stack.status()["kafka"].address, "music_topic",
                              Outbox(self.data / f"outbox-{name}.db"),
                              settled=functools.partial(settled_event_ids, store))


# -- measuring ---------------------------------------------------------------------------------
def plays_of(store: MongoStore, events: list[PlayEvent]) -> tuple[int, int]:
    """``(stored, stored twice)`` among ``events``, by ``event_id``."""
    ids = [e.event_id for e in events]
    counts: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        for doc in store.plays.find({"event_id": {"$in": ids[start:start + 500]}}, {"event_id": 1}):
            counts[doc["event_id"]] = counts.get(doc["event_id"], 0) + 1
    return len(counts), sum(1 for c in counts.values() if c > 1)


def play_counter(bench: Bench) -> int | None:
    """Sum of the per-track play counters (``track_stats``), a second effect of each play that
    a re-processed event would count twice; ``None`` while no database runs."""
    mongo = bench.stack.status().get("mongo")
    if mongo is None:
        return None
    store = MongoStore(mongo_uri(mongo.port), bench.db)
    try:
        total = list(store.db.track_stats.aggregate([{"$group": {"_id": None,
                                                                  "n": {"$sum": "$plays"}}}]))
    finally:
        store.close()
    return total[0]["n"] if total else 0


def settle(row: Row, store: MongoStore, events: list[PlayEvent], publisher: EventPublisher,
           timeout: float) -> Row:
    """Wait (bounded) until every event is stored and the outbox let go of it; fill the row."""
    wait_for(lambda: plays_of(store, events)[0] >= len(events), timeout, every=0.5)
    publisher.wait_settled(timeout)
    row.sent, row.outbox_left = len(events), publisher.backlog.total
    row.stored, row.twice = plays_of(store, events)
    return row


class Stream:
    """Events published at a steady pace from a thread (the player keeps playing)."""

    def __init__(self, publisher, tracks: list[str], count: int, session: str, per_s: float = 25):
        self.events: list[PlayEvent] = []
        self._args = (publisher, tracks, count, session, 1.0 / per_s)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        publisher, tracks, count, session, pause = self._args
        for i in range(count):
            event = make_event("play", tracks[i % len(tracks)], f"{session}-{i % 10}")
            publisher.publish(event)
            self.events.append(event)
            time.sleep(pause)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def tracks_of(store: MongoStore) -> list[str]:
    return [d["_id"] for d in store.iter_tracks({"indexed": True}, {"_id": 1})]


# -- rows --------------------------------------------------------------------------------------
def import_with_database_kill(bench: Bench) -> Row:
    """Database SIGKILLed during ``encore import``; the import run again."""
    library = bench.data / "music"
    for i in range(LIBRARY_FILES):
        write(library / f"kind{i % 4}" / f"piece-{i}.wav", music_like(i % 4, seed=i), 22050)
    row = Row("database SIGKILLed during import, import again", tracks_expected=LIBRARY_FILES)
    first = bench.spawn("import", str(library), "--json", "--jobs", "1", log="import")
    store = bench.store()
    wait_for(lambda: store.count_tracks() >= 3 or first.poll() is not None, bench.timeout)
    row.note = f"killed after {store.count_tracks()} of {LIBRARY_FILES} stored"
    bench.kill_server("mongo")
    first.wait(bench.timeout)
    second = bench.spawn("import", str(library), "--json", "--jobs", "1", log="import")
    second.wait(bench.timeout * 2)
    complete = {"complete": True, "indexed": True}
    row.tracks_stored = len({d["path"] for d in store.tracks.find(complete, {"path": 1})})
    row.twice = store.count_tracks(complete) - row.tracks_stored
    row.note += f"; exit codes {first.returncode}, {second.returncode}"
    store.close()
    return row


def worker_killed_three_times(bench: Bench, store: MongoStore, count: int) -> Row:
    row = Row("worker SIGKILLed mid-stream, 3 times in a row")
    worker = bench.worker()
    bench.joined(worker)
    publisher = bench.publisher(store, "kill3")
    stream = Stream(publisher, tracks_of(store), count, "kill3")
    for quarter in (1, 2, 3):
        wait_for(lambda q=quarter: plays_of(store, stream.events)[0] >= q * count // 4,
                 bench.timeout)
        replacement = bench.worker()  # holds the stack before the kill
        bench.kill(worker)
        worker = replacement
    stream.join(bench.timeout)
    settle(row, store, stream.events, publisher, bench.timeout)
    publisher.close()
    bench.kill(worker, signal.SIGTERM)
    return row


def two_workers_one_killed(bench: Bench, store: MongoStore, count: int) -> Row:
    row = Row("two workers, one SIGKILLed")
    workers = [bench.worker(), bench.worker()]
    bench.joined(*workers)
    publisher = bench.publisher(store, "two")
    stream = Stream(publisher, tracks_of(store), count, "two")
    wait_for(lambda: plays_of(store, stream.events)[0] >= count // 3, bench.timeout)
    bench.kill(workers[0])
    stream.join(bench.timeout)
    settle(row, store, stream.events, publisher, bench.timeout)
    publisher.close()
    bench.kill(workers[1], signal.SIGTERM)
    return row


def broker_restart(bench: Bench, store: MongoStore, count: int) -> Row:
    """Acknowledged but unread events, then the broker SIGKILLed while the publisher sends."""
    row = Row("broker SIGKILLed and restarted while the publisher sends")
    publisher = bench.publisher(store, "broker")
    tracks = tracks_of(store)
    unread = [make_event("play", tracks[i % len(tracks)], f"broker-unread-{i % 10}")
              for i in range(count // 2)]
    for event in unread:
        publisher.publish(event)
    acknowledged = publisher.flush(timeout=bench.timeout)  # no worker runs: nobody read them
    port = bench.kill_server("kafka")
    stream = Stream(publisher, tracks, count - len(unread), "broker")
    back = wait_for(lambda: bench.running("kafka"), bench.timeout)
    same_port = back and bench.stack.status()["kafka"].port == port
    worker = bench.worker()
    stream.join(bench.timeout)
    settle(row, store, unread + stream.events, publisher, bench.timeout)
    row.note = (f"{len(unread)} acknowledged before the kill: {acknowledged}; "
                f"broker back on the same port: {same_port}")
    publisher.close()
    bench.kill(worker, signal.SIGTERM)
    return row


def torn_outbox(bench: Bench, store: MongoStore, count: int) -> Row:
    row = Row("old outbox with a torn line (+ a row that is no event)")
    folder = bench.data / "torn"
    folder.mkdir()
    tracks = tracks_of(store)
    events = [make_event("play", tracks[i % len(tracks)], f"torn-{i % 10}") for i in range(count)]
    lines = [e.to_json() for e in events] + [events[0].to_json()[:20]]  # cut off by a crash
    (folder / "outbox.jsonl").write_bytes(b"\n".join(lines))
    outbox = open_outbox(folder)
    with sqlite3.connect(outbox.path) as db:
        db.execute("INSERT INTO events(event_id, payload) VALUES ('junk', x'00ff')")
    worker = bench.worker()
    publisher = EventPublisher(bench.stack.status()["kafka"].address, "music_topic", outbox,
                               settled=functools.partial(settled_event_ids, store))
    settle(row, store, events, publisher, bench.timeout)
    row.note = f"quarantined {publisher.backlog.quarantined}"
    publisher.close()
    bench.kill(worker, signal.SIGTERM)
    return row


PUBLISHER_SCRIPT = """
import sys, time
from pathlib import Path
from core.bus.outbox import EventPublisher, Outbox
from core.events import make_event
bootstrap, path, tracks = sys.argv[1], Path(sys.argv[2]), sys.argv[3].split(",")
publisher = EventPublisher(bootstrap, "music_topic", Outbox(path))
for i in range(100000):
    event = make_event("play", tracks[i % len(tracks)], f"crash-{i % 10}")
    publisher.publish(event)
    print(event.to_json().decode(), flush=True)
    time.sleep(0.01)
"""


def publisher_killed(bench: Bench, store: MongoStore, count: int) -> Row:
    """A process SIGKILLed while publishing; the next one delivers its outbox."""
    from core.events import parse_event

    row = Row("publishing process SIGKILLed, next one delivers")
    path = bench.data / "outbox-crash.db"
    bootstrap = bench.stack.status()["kafka"].address
    proc = subprocess.Popen([sys.executable, "-c", PUBLISHER_SCRIPT, bootstrap, str(path),
                             ",".join(tracks_of(store))], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=bench.env(), text=True)
    published = [parse_event(proc.stdout.readline()) for _ in range(count)]
    proc.kill()  # mid-publish: its next event may be half written
    proc.wait(30)
    # an event appended but not yet printed when the kill came is published too
    printed = {e.event_id for e in published}
    with sqlite3.connect(path) as db:
        published += [e for e in (parse_event(bytes(p)) for (p,) in db.execute(
            "SELECT payload FROM events")) if e.event_id not in printed]
    worker = bench.worker()
    publisher = EventPublisher(bootstrap, "music_topic", Outbox(path),
                               settled=functools.partial(settled_event_ids, store))
    settle(row, store, published, publisher, bench.timeout)
    publisher.close()
    bench.kill(worker, signal.SIGTERM)
    return row


def starter_exits(bench: Bench, count: int) -> Row:
    """Two processes share a stack that neither pinned; the one that started it exits."""
    row = Row("shared stack, the process that started it exits")
    starter = bench.spawn("worker", log="starter")
    assert wait_for(lambda: bench.running("kafka") and bench.running("mongo"), bench.timeout)
    other = bench.worker()
    bench.joined(starter, other)
    store = bench.store()
    publisher = bench.publisher(store, "shared")  # no lease: only the two workers hold it
    stream = Stream(publisher, tracks_of(store), count, "shared")
    wait_for(lambda: plays_of(store, stream.events)[0] >= count // 3, bench.timeout)
    bench.kill(starter, signal.SIGTERM)
    stream.join(bench.timeout)
    settle(row, store, stream.events, publisher, bench.timeout)
    stayed = bench.running("kafka") and bench.running("mongo")
    publisher.close()
    bench.kill(other, signal.SIGTERM)
    stopped = wait_for(lambda: not bench.stack.status(), bench.timeout)
    row.note = f"stack stayed: {stayed}; stopped after the last one: {stopped}"
    if not (stayed and stopped):
        row.stored = -1  # marks the row failed
    store.close()
    return row


# -- table ---------------------------------------------------------------------------------------
def print_table(rows: list[Row]) -> None:
    print("\n| fault | events sent | stored | stored twice | play counters + | left in outbox "
          "| tracks expected | tracks stored | s | ok | note |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        tracks = ("", "") if r.tracks_expected is None else (r.tracks_expected, r.tracks_stored)
        counted = "" if r.counted is None else r.counted
        print(f"| {r.name} | {r.sent} | {r.stored} | {r.twice} | {counted} | {r.outbox_left} "
              f"| {tracks[0]} "
              f"| {tracks[1]} "
              f"| {r.seconds:.0f} | {'yes' if r.ok else 'NO'} | {r.note} |")


def timed(bench: Bench, func, *args) -> Row:
    start, before = time.monotonic(), play_counter(bench)
    try:
        row = func(bench, *args)
    except Exception as exc:  # one broken row must not hide the others
        row = Row(func.__name__, stored=-1, note=f"failed: {exc!r}"[:200])
    if before is not None and row.sent:  # the counters follow each play within milliseconds
        wait_for(lambda: (play_counter(bench) or 0) - before >= row.sent, 15)
        row.counted = (play_counter(bench) or 0) - before
    row.seconds = time.monotonic() - start
    print(f"{row.name}: {'ok' if row.ok else 'FAILED'} ({row.seconds:.0f} s) {row.note}",
          flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300.0, help="bound of each wait (s)")
    parser.add_argument("--keep", help="data directory to use and keep (default: a temporary one)")
    args = parser.parse_args()
    data = Path(args.keep or tempfile.mkdtemp(prefix="encore-faults-"))
    bench = Bench(data, args.timeout)
    rows = []
    try:
        bench.stack.up()  # pinned while the first rows kill and replace its clients
        rows.append(timed(bench, import_with_database_kill))
        store = bench.store()
        for func in (worker_killed_three_times, two_workers_one_killed, broker_restart,
                     torn_outbox, publisher_killed):
            rows.append(timed(bench, func, store, args.events))
        store.close()
        bench.stack.stop()  # unpinned: the last row's processes start and keep it themselves
        rows.append(timed(bench, starter_exits, args.events))
    finally:
        bench.close()
    print_table(rows)
    print(f"\ndata: {data}")
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
