"""Which processes use the local stack: one lease file per client, and process identities.

A process is identified by its PID *and* its start time (``psutil`` create time), because PIDs are
reused: after a crash or a reboot the PID written in a file may belong to an unrelated process.
A lease is a file ``<pid>-<create time>`` under ``services/leases``; it is live while that very
process runs. The ``pinned`` lease (``encore services up``) has no process and lives until
``encore services down`` removes it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from pathlib import Path

import psutil

PINNED = "pinned"
# psutil derives create times from clock ticks since boot (10 ms); allow for float rounding.
_SAME_START_S = 0.05


def identity(pid: int | None = None) -> dict | None:
    """PID, create time and command line of a running process (this one by default).

    Returns
    -------
    dict or None
        ``{"pid", "create_time", "cmdline"}``, or ``None`` if it is gone, a zombie or not ours
        to inspect.
    """
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return {"pid": proc.pid, "create_time": proc.create_time(), "cmdline": proc.cmdline()}
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def same_process(record: dict | None, *, check_cmdline: bool = True) -> psutil.Process | None:
    """The running process a record describes, or ``None`` if that process is gone.

    Parameters
    ----------
    record : dict or None
        As returned by :func:`identity`.
    check_cmdline : bool
        Also require the same command line (servers); leases only know PID and start time.

    Returns
    -------
    psutil.Process or None
        A handle whose signals go to that very process (psutil checks the start time again
        before it sends one).
    """
    try:
        pid, started = int(record["pid"]), float(record["create_time"])
    except (KeyError, TypeError, ValueError):
        return None  # no record, or one written by an older Encore (PID only): not trusted
    now = identity(pid)
    if now is None or abs(now["create_time"] - started) > _SAME_START_S:
        return None
    if check_cmdline and now["cmdline"] != record.get("cmdline"):
        return None
    with contextlib.suppress(psutil.NoSuchProcess):
        return psutil.Process(pid)
    return None


class Leases:
    """The lease files in one folder.

    Parameters
    ----------
    folder : Path
        ``services/leases``; created private to the user.
    """

    def __init__(self, folder: Path):
        self.folder = folder

    def take(self) -> Path:
        """Write (if missing) the lease of this process; it is released at exit.

        A SIGKILLed process cannot release it: :meth:`live` notices the dead process instead.
        """
        me = identity()
        path = self.folder / f"{me['pid']}-{me['create_time']:.2f}"
        if path in _RELEASE_AT_EXIT and path.exists():
            return path
        self._touch(path)
        if path not in _RELEASE_AT_EXIT:
            _RELEASE_AT_EXIT.add(path)
            atexit.register(_release, path, me["pid"])
        return path

    def pin(self) -> None:
        """Keep the stack running with no client until :meth:`unpin`."""
        self._touch(self.folder / PINNED)

    def unpin(self) -> None:
        """Remove the pinned lease."""
        (self.folder / PINNED).unlink(missing_ok=True)

    def live(self) -> list[str]:
        """Names of the leases whose process still runs; dead ones are deleted on the way.

        Returns
        -------
        list of str
            File names (the pinned lease included).
        """
        try:
            names = sorted(entry.name for entry in os.scandir(self.folder))
        except FileNotFoundError:
            return []
        alive = []
        for name in names:
            if name == PINNED or _lease_alive(name):
                alive.append(name)
            else:
                (self.folder / name).unlink(missing_ok=True)
        return alive

    def _touch(self, path: Path) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


# Leases this process took (a forked child inherits the set but not the leases: see _release).
_RELEASE_AT_EXIT: set[Path] = set()


def _release(path: Path, owner: int) -> None:
    if os.getpid() == owner:  # a forked child runs its parent's exit handlers too
        path.unlink(missing_ok=True)


def _lease_alive(name: str) -> bool:
    pid, _, started = name.partition("-")
    try:
        record = {"pid": int(pid), "create_time": float(started)}
    except ValueError:
        return False  # not a lease: a stray file is cleaned up like a dead lease
    return same_process(record, check_cmdline=False) is not None
