"""What the player connects to: the store, the event bus and (for the local stack) a worker."""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass

from core.bus.connect import connect_bus
from core.bus.memory import InProcessBus
from core.bus.outbox import EventPublisher
from core.config import Config
from core.services import resolve_mongo_uri, spawn_worker
from core.store.mongo import MongoStore


@dataclass
class Backend:
    """Connections the window uses; ``close`` releases them."""

    config: Config
    mongo_uri: str
    store: MongoStore
    bus: EventPublisher | InProcessBus
    worker: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str | None:
        """Kafka bootstrap servers, or ``None`` with the in-process bus."""
        return getattr(self.bus, "bootstrap", None)

    def close(self) -> None:
        """Stop the worker and the publisher (pending events stay in the outbox)."""
        if self.worker is not None:
            self.worker.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.worker.wait(5)
        self.bus.close()
        self.store.close()


def connect_backend(config: Config, *, start_worker: bool) -> Backend:
    """Open the store and the bus (starting the local stack if needed), and a worker.

    Parameters
    ----------
    config : Config
    start_worker : bool
        Run ``encore worker`` as a child process. Right for a single machine; with a shared
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
        backend.worker = spawn_worker(config, uri, backend.bootstrap)
    return backend
