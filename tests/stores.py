"""Databases the tests fill with an imported folder."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator


@contextlib.contextmanager
def imported_store(mongo_uri: str, folder, prefix: str, *, jobs: int = 2) -> Iterator:
    """A fresh database holding ``folder`` imported (and indexed), dropped afterwards."""
    from core.library.pipeline import run_import
    from core.store.mongo import MongoStore

    store = MongoStore(mongo_uri, f"{prefix}_{uuid.uuid4().hex[:8]}")
    store.ensure_schema()
    run_import(str(folder), store, jobs=jobs)
    try:
        yield store
    finally:
        store.client.drop_database(store.db.name)
        store.close()
