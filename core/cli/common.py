"""Helpers shared by the headless commands."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator

from core.config import Config

#: Characters that stand for undecodable bytes of a file name (``surrogateescape``).
_SURROGATE = re.compile("[\ud800-\udfff]")


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


@contextlib.contextmanager
def cancellable_job(args: argparse.Namespace,
                    ) -> Iterator[tuple[Callable[[int, int, str], None], threading.Event]]:
    """A long command's progress callback and cancel token: Ctrl-C sets the token (the job
    stops cleanly and says so) instead of raising ``KeyboardInterrupt`` wherever it happens.

    Parameters
    ----------
    args : argparse.Namespace
        With ``progress`` and ``no_progress`` (a bar on a terminal unless told otherwise).

    Yields
    ------
    progress : callable
        ``progress(done, total, message)``.
    cancel : threading.Event
    """
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    update, close = progress_bar((not args.no_progress and sys.stderr.isatty()) or args.progress)
    try:
        yield update, cancel
    finally:
        close()
        signal.signal(signal.SIGINT, previous)


def json_text(obj) -> str:
    """One line of JSON, UTF-8 safe and lossless for any file name.

    A path that is not valid UTF-8 reaches us with lone surrogates, which no UTF-8 stream can
    print; they are written as ``\\udcXX`` escapes, so ``os.fsencode(json.loads(line)[...])``
    gives back the exact bytes. Non-finite numbers become ``null`` (JSON has no NaN).
    """
    text = json.dumps(_finite(obj), ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def skip_line(path: str, reason: str) -> str:
    """One skipped file for the terminal: its plain reason first, the technical one after."""
    from core.library.skip_reasons import plain_reason
    from core.store.paths import display

    plain, detail = plain_reason(reason), display(reason)
    return f"  skipped {display(path)}: {plain}" + ("" if plain == detail else f" ({detail})")
