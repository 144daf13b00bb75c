"""Driver-level helpers every store module shares: driver errors turned into ``StoreError``,
and long id lists asked for in chunks."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Iterator

from bson.errors import BSONError
from pymongo.errors import PyMongoError

from core.errors import StoreError

#: Ids per ``$in`` query: SecantusDB answers one ``$in`` in time quadratic in its length (5,000
#: ids: 24 s; 500: 0.19 s), so long lists are asked for in chunks.
IN_CHUNK = 250


def _guard(action: str):
    """Turn driver errors into ``StoreError`` with the action that failed.

    Generator functions are wrapped as generators, so an error raised while the caller iterates
    (a server that dies mid-cursor) is turned too, not only one raised when the call is made.
    """

    def error(exc: Exception) -> StoreError:
        return StoreError(f"database error while {action}: {exc}")

    def wrap(func):
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def iterate(*args, **kwargs):
                try:
                    yield from func(*args, **kwargs)
                except (PyMongoError, BSONError) as exc:
                    raise error(exc) from exc

            return iterate

        @functools.wraps(func)
        def call(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except (PyMongoError, BSONError) as exc:
                raise error(exc) from exc

        return call

    return wrap


def id_chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """``ids`` in lists of at most ``IN_CHUNK``, for ``{"field": {"$in": chunk}}`` queries."""
    ids = list(ids)
    for start in range(0, len(ids), IN_CHUNK):
        yield ids[start:start + IN_CHUNK]
