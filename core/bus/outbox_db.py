"""The outbox's storage: events waiting for delivery in an SQLite database (WAL mode).

Crash-safe: every change is one SQLite transaction, so a process killed at any instant leaves
whole rows (no torn lines); with ``synchronous=NORMAL`` an OS crash may forget the last
moments' events but never corrupts the file. Multi-process-safe: a sender *claims* the rows it
is about to send (their ``due`` time moves past a lease), so two processes on one data
directory never send or delete each other's rows by position; rows are only ever deleted by
their own key once acknowledged or settled. Work is linear: each event is inserted, updated
per send and deleted once, all through indexes.

A row that cannot be an event (unreadable, or a torn line imported from the old JSON-lines
outbox) is moved to the ``quarantine`` table with its reason and logged; delivery goes on.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import BusError, EventError
from core.events import PlayEvent, parse_event

log = logging.getLogger("encore.bus")
#: A claim lasts this long: a sender that dies mid-send frees its rows for another after it
#: (twice the publisher's longest send, so a live sender's claim never runs out).
LEASE_S = 20.0
#: Re-sends of an unsettled event back off up to ``resend_after_s * 2**MAX_DOUBLINGS``.
MAX_DOUBLINGS = 6

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,   -- deliveries the broker acknowledged
    due REAL NOT NULL DEFAULT 0        -- not (re-)sent before this time: a claim or a delay
);
CREATE INDEX IF NOT EXISTS events_due ON events(due, seq);
CREATE INDEX IF NOT EXISTS events_sent ON events(sent, seq);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payload BLOB,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    """A claimed row: ``seq`` identifies it, ``payload`` is the event's wire form, ``key`` its
    partition key (the session id)."""

    seq: int
    key: bytes
    payload: bytes


@dataclass(frozen=True)
class Backlog:
    """What the outbox holds: not yet acknowledged by the broker, acknowledged but not yet
    stored by a worker, and quarantined (never sent)."""

    unsent: int
    unsettled: int
    quarantined: int

    @property
    def total(self) -> int:
        """Events still to be delivered."""
        return self.unsent + self.unsettled


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an advisory lock on ``lock_path`` (created private to the user) across processes."""
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class Outbox:
    """Events in an SQLite database, shared safely by threads and processes.

    Parameters
    ----------
    path : Path
        The database file (created private to the user if missing). An unreadable file is
        moved aside (``*.corrupt-<time>``) and a new one started.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock, self._append_lock = threading.Lock(), threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One opener at a time per file: two processes creating the database together see
        # transient "locked" / "disk I/O" errors, and a live outbox must never be taken for a
        # corrupt one and moved aside under the other process.
        with _exclusive(self.path.with_name(f"{self.path.name}.lock")):
            try:
                self._db = self._open()
            except sqlite3.OperationalError:
                raise  # locked or unreachable, not damaged: keep the file
            except sqlite3.DatabaseError as exc:  # not a database, malformed, failed check
                self._move_aside(exc)
                self._db = self._open()
        # ``append`` (the player's thread) has a connection of its own that never checkpoints:
        # copying the WAL back into the file (with an fsync) is left to the sender's connection,
        # so a publish is one buffered write (p50 0.04 ms) and never waits for the disk.
        self._appender = self._connect()
        self._appender.execute("PRAGMA wal_autocheckpoint=0")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _open(self) -> sqlite3.Connection:
        with contextlib.suppress(FileExistsError):  # 0600 before SQLite creates it
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        db = self._connect()
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _move_aside(self, exc: Exception) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        log.error("outbox %s is unreadable (%s); moved to %s, starting a new one", self.path, exc,
                  aside)
        self.path.replace(aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").replace(Path(f"{aside}{suffix}"))

    @contextlib.contextmanager
    def _transaction(self, *, appending: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``IMMEDIATE``) so claims never interleave."""
        db, lock = (self._appender, self._append_lock) if appending else (self._db, self._lock)
        with lock:
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise BusError(f"outbox {self.path}: {exc}") from exc

    # -- writing -----------------------------------------------------------------------------
    def append(self, event: PlayEvent) -> None:
        """Add an event (once: an event already waiting is not added again).

        Raises
        ------
        BusError
            If the database cannot be written (full disk, locked for over 10 s).
        """
        with self._transaction(appending=True) as db:
            db.execute("INSERT OR IGNORE INTO events(event_id, payload) VALUES (?, ?)",
                       (event.event_id, event.to_json()))

    def checkpoint(self) -> None:
        """Copy the WAL back into the database file when nobody is reading (the sender's job)."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def claim(self, limit: int, *, now: float | None = None) -> list[Entry]:
        """Take up to ``limit`` due rows, oldest first, for ``LEASE_S``; nobody else sends them.

        Rows that are not events are quarantined on the way.
        """
        now = time.time() if now is None else now
        with self._transaction() as db:
            rows = db.execute("SELECT seq, event_id, payload FROM events WHERE due <= ? "
                              "ORDER BY due, seq LIMIT ?", (now, limit)).fetchall()
            entries = [e for e in (self._checked(db, *row) for row in rows) if e is not None]
            db.executemany("UPDATE events SET due = ? WHERE seq = ?",
                           [(now + LEASE_S, e.seq) for e in entries])
        return entries

    def _checked(self, db: sqlite3.Connection, seq: int, event_id: str, payload) -> Entry | None:
        try:
            event = parse_event(bytes(payload))
            if event.event_id != event_id:
                raise EventError(f"event_id {event_id!r} does not match the payload")
        except (EventError, TypeError) as exc:
            _quarantine(db, payload, f"outbox entry {seq}: {exc}")
            db.execute("DELETE FROM events WHERE seq = ?", (seq,))
            return None
        return Entry(seq, event.session_id.encode(), bytes(payload))

    def mark_sent(self, seqs: list[int], resend_after_s: float) -> None:
        """The broker acknowledged these: re-send each later (doubling) unless it settles first."""
        with self._transaction() as db:
            db.executemany(
                f"UPDATE events SET sent = sent + 1, "
                f"due = ? + ? * (1 << min(sent, {MAX_DOUBLINGS})) WHERE seq = ?",
                [(time.time(), resend_after_s, seq) for seq in seqs])

    def release(self, seqs: list[int]) -> None:
        """Sending these failed: they are due again at once."""
        with self._transaction() as db:
            db.executemany("UPDATE events SET due = 0 WHERE seq = ?", [(s,) for s in seqs])

    def resend_unsettled(self) -> None:
        """Make every acknowledged but unsettled event due now (after the broker went away, what
        it had acknowledged may be lost: the local broker keeps its log in memory)."""
        with self._transaction() as db:
            db.execute("UPDATE events SET due = 0 WHERE sent > 0")

    def delete(self, seqs: list[int]) -> None:
        """Forget delivered events."""
        with self._transaction() as db:
            db.executemany("DELETE FROM events WHERE seq = ?", [(s,) for s in seqs])

    def import_lines(self, path: Path) -> int:
        """Take in the events of an old JSON-lines outbox, then remove it; returns how many.

        Torn or invalid lines are quarantined. The file is read inside the write transaction, so
        of two processes starting together only one imports it; a crash before the removal
        imports it again, and events still waiting are not doubled (unique ``event_id``).
        """
        with self._transaction() as db:
            try:
                lines = path.read_bytes().splitlines()
            except FileNotFoundError:  # another process imported it first
                return 0
            added = sum(self._import_line(db, number, line)
                        for number, line in enumerate(lines, 1) if line.strip())
        path.unlink(missing_ok=True)
        return added

    @staticmethod
    def _import_line(db: sqlite3.Connection, number: int, line: bytes) -> int:
        try:
            event = parse_event(line)
        except EventError as exc:
            _quarantine(db, line, f"old outbox line {number}: {exc}")
            return 0
        db.execute("INSERT OR IGNORE INTO events(event_id, payload) VALUES (?, ?)",
                   (event.event_id, event.to_json()))
        return 1

    # -- reading -----------------------------------------------------------------------------
    def unsettled(self, limit: int) -> list[tuple[int, str]]:
        """``(seq, event_id)`` of up to ``limit`` acknowledged events, oldest first."""
        with self._lock:
            return self._db.execute("SELECT seq, event_id FROM events WHERE sent > 0 "
                                    "ORDER BY sent, seq LIMIT ?", (limit,)).fetchall()

    def backlog(self) -> Backlog:
        """Counts of unsent, unsettled and quarantined events."""
        with self._lock:
            unsent, unsettled = self._db.execute(
                "SELECT COUNT(*) FILTER (WHERE sent = 0), COUNT(*) FILTER (WHERE sent > 0) "
                "FROM events").fetchone()
            quarantined = self._db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
        return Backlog(unsent, unsettled, quarantined)

    def close(self) -> None:
        """Close the database."""
        with self._lock, self._append_lock:
            self._db.close()
            self._appender.close()


def _quarantine(db: sqlite3.Connection, payload, reason: str) -> None:
    log.warning("outbox: quarantined (not sent): %s", reason)
    db.execute("INSERT INTO quarantine(payload, reason, at) VALUES (?, ?, ?)",
               (payload, reason, time.time()))
