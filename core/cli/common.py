"""Helpers shared by the headless commands."""

from __future__ import annotations

import sys

from core.config import Config


def open_store(config: Config):
    """Connect to the configured (or local) MongoDB and prepare its schema."""
    from core.services import resolve_mongo_uri
    from core.store.mongo import MongoStore

    store = MongoStore(resolve_mongo_uri(config), config.db_name)
    store.ensure_schema()
    return store


def progress_bar(enabled: bool):
    """A tqdm bar on stderr (stdout stays clean for --json), or a silent callback."""
    if not enabled:
        return (lambda done, total, message: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=0, unit="file", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int, message: str) -> None:
        if bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.set_description(message[:40])
        bar.refresh()

    return update, bar.close
