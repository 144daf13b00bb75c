"""What the player connects to: the store, the event bus and (for the local stack) a worker."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from core.bus.connect import connect_bus
from core.bus.memory import InProcessBus
from core.bus.outbox import EventPublisher
from core.config import Config
from core.services import resolve_kafka_bootstrap, resolve_mongo_uri, spawn_worker
from core.store.mongo import MongoStore


@dataclass
class Backend:
    """Connections the window uses; ``close`` releases them.

    Attributes
    ----------
    spawn_worker : callable or None
        Starts this player's recommender worker (the window supervises it); ``None`` when
        workers run elsewhere or events stay in this process.
    """

    config: Config
    mongo_uri: str
    store: MongoStore
    bus: EventPublisher | InProcessBus
    spawn_worker: Callable[[], subprocess.Popen] | None = None

    @property
    def bootstrap(self) -> str | None:
        """Kafka bootstrap servers, or ``None`` with the in-process bus."""
        return getattr(self.bus, "bootstrap", None)

    def close(self) -> None:
        """Stop the publisher (pending events stay in the outbox) and the store."""
        self.bus.close()
        self.store.close()


def spawn_local_worker(config: Config) -> subprocess.Popen:
    """Start a worker on this player's servers, starting the local ones again if they died.

    Raises
    ------
    ServiceError
        If a local server cannot be started (the supervisor says so and retries).
    """
    return spawn_worker(config, resolve_mongo_uri(config), resolve_kafka_bootstrap(config))


def connect_backend(config: Config, *, start_worker: bool) -> Backend:
    """Open the store and the bus (starting the local stack if needed); say how to start a worker.

    Parameters
    ----------
    config : Config
    start_worker : bool
        Let the window run ``encore worker`` as a child process. Right for a single machine; with a shared
        Kafka cluster the workers usually run elsewhere.

    Raises
    ------
    ServiceError, StoreError
        If the database cannot be started or reached.
    """
    uri = resolve_mongo_uri(config)
    store = MongoStore(uri, config.db_name)
    store.ensure_schema()
    bus = connect_bus(config, store)
    backend = Backend(config, uri, store, bus)
    if start_worker and backend.bootstrap is not None:
        backend.spawn_worker = functools.partial(spawn_local_worker, config)
    return backend
