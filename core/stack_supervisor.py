"""The local stack's supervisor: one small process that owns the broker and the database.

Why a supervisor, and not only leases that clients check when they exit:

* The stack must outlive the process that asked for it. The supervisor runs in its own session,
  so neither that process's exit nor a Ctrl-C to its terminal's process group reaches it or its
  servers.
* Clients die without notice (SIGKILL, the OOM killer). Each client holds a lease
  (:mod:`core.leases`); the supervisor checks them every ``POLL_S`` and stops the stack once
  none is live, even when the last client was SIGKILLed and no other Encore process ever runs
  again. With leases alone, that case needs such a reaper anyway.
* A server that dies is restarted on the same port, so running players and workers find it
  again without re-resolving anything.
* If the supervisor itself is SIGKILLed, its servers follow it (parent-death signal, and the
  database's own watchdog), so nothing is orphaned; the next client starts a new stack on the
  ports recorded in ``stack.json``.

Clients only take a lease and read ``stack.json``. Starting and stopping happen under
``stack.lock``, so two processes asking at once get one stack, and a client arriving while the
stack winds down waits and then starts a new one.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from core.config import Config
from core.errors import ServiceError
from core.leases import Leases, identity
from core.stack_servers import Server, free_port, port_is_free, tansu_binary
from core.stack_state import read_state, services_folder, stack_lock, write_state

POLL_S = 0.25
RESTART_BACKOFF_MAX_S = 30.0
READY = "ready"

log = logging.getLogger("encore.stack")


def supervise(config: Config) -> int:
    """``encore services supervise`` (internal): start the stack, return once it answers.

    The process forks. The child, in a new session with its output in ``supervisor.log``,
    becomes the supervisor; the parent waits for its report.

    Returns
    -------
    int
        0 when both servers answer; 1 (the reason on stderr) when the stack could not start.
    """
    folder = services_folder(config.services_dir)
    read_end, write_end = os.pipe()
    if os.fork():
        os.close(write_end)
        return _wait_report(read_end)
    os.close(read_end)
    os.setsid()
    os.umask(0o077)  # everything the servers create (database files, logs) is private
    _detach_stdio(folder / "supervisor.log")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s supervisor %(process)d: %(message)s")
    return Supervisor(folder).run(lambda message: _report(write_end, message))


def _wait_report(fd: int) -> int:
    with os.fdopen(fd, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    if message == READY:
        return 0
    print(message or "the local stack's supervisor exited at start; see supervisor.log",
          file=sys.stderr)
    return 1


def _report(fd: int, message: str) -> None:
    os.write(fd, message.encode())
    os.close(fd)


def _detach_stdio(log_path: Path) -> None:
    out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)


def _recorded_ports(folder: Path) -> dict[str, int]:
    ports = read_state(folder).get("ports")
    if not isinstance(ports, dict):
        return {}
    return {name: port for name, port in ports.items() if isinstance(port, int) and 0 < port < 65536}


def _port(wanted: int | None) -> int:
    """The recorded port if it is still free (clients know it), else a new free one."""
    return wanted if wanted and port_is_free(wanted) else free_port()


class Supervisor:
    """Runs the servers while any lease is live.

    Parameters
    ----------
    folder : Path
        The services folder.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.leases = Leases(folder / "leases")
        self.servers: dict[str, Server] = {}
        self.stopping = threading.Event()
        self._last_leases: list[str] | None = None
        self._failures: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._down = False

    def run(self, report: Callable[[str], None]) -> int:
        """Start the servers, report, and watch until stopped or unused.

        Parameters
        ----------
        report : callable
            Called once with ``READY`` or the reason the stack could not start.

        Returns
        -------
        int
            Exit status.
        """
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: self.stopping.set())
        try:
            self._start_all()
        except ServiceError as exc:
            self._shutdown()
            report(str(exc))
            return 1
        self._write()
        report(READY)
        try:
            self._watch()
        finally:
            self._shutdown()
        return 0

    def _start_all(self) -> None:
        ports = _recorded_ports(self.folder)
        for name in ("mongo", "kafka") if tansu_binary() else ("mongo",):
            self.servers[name] = Server(name, self.folder, _port(ports.get(name)))
            self.servers[name].start()
            log.info("%s listening on port %d (pid %d)", name, self.servers[name].port,
                     self.servers[name].proc.pid)

    def _watch(self) -> None:
        while not self.stopping.wait(POLL_S):
            self._revive()
            if self._unused():
                return

    def _unused(self) -> bool:
        """Whether no lease is live; if so, the servers are stopped under the lock."""
        if self._check_leases():
            return False
        with stack_lock(self.folder, wait=False) as held:
            # A client holding the lock is attaching: its lease may be on the way.
            if not held or self._check_leases():
                return False
            log.info("no Encore process uses the stack any more: stopping it")
            self._shutdown()  # still under the lock: a new client waits, then starts afresh
            return True

    def _check_leases(self) -> list[str]:
        live = self.leases.live()
        if live != self._last_leases:
            log.info("%d lease(s): %s", len(live), ", ".join(live))
            self._last_leases = live
        return live

    def _revive(self) -> None:
        """Restart a server that died, on its port if still free, with growing pauses."""
        for name, server in self.servers.items():
            if not server.exited() or time.monotonic() < self._retry_at.get(name, 0.0):
                continue
            log.warning("%s exited with code %s: restarting it", name, server.proc.returncode)
            server.port = _port(server.port)
            try:
                server.start()
            except ServiceError as exc:
                failures = self._failures[name] = self._failures.get(name, 0) + 1
                pause = min(RESTART_BACKOFF_MAX_S, 2.0 ** failures)
                self._retry_at[name] = time.monotonic() + pause
                log.error("%s; next try in %.0f s", exc, pause)
                continue
            self._failures[name] = 0
            log.info("%s listening on port %d again (pid %d)", name, server.port, server.proc.pid)
            self._write()

    def _write(self) -> None:
        live = {name: server.record() for name, server in self.servers.items() if not server.exited()}
        write_state(self.folder, {"ports": self._ports(), "supervisor": identity(), **live})

    def _ports(self) -> dict[str, int]:
        current = {name: server.port for name, server in self.servers.items()}
        return {**_recorded_ports(self.folder), **current}

    def _shutdown(self) -> None:
        # Once only: a second write, after the lock is released, could erase a new stack's record.
        if self._down:
            return
        self._down = True
        for server in self.servers.values():
            server.stop()
        write_state(self.folder, {"ports": self._ports()})  # the ports are reused next time
