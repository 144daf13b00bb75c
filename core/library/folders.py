"""The folders imported into the library, remembered so that a rescan or a watcher can follow them.

Stored in the ``library_folders`` collection, one document per folder keyed by its absolute path:
``{"_id": path, "path": path, "added_at": unix time, "watch": bool, "options": {...}}``, where
``options`` are the import options of the folder's latest import (enhanced copies or not), so that
a rescan imports new files the same way. Forgetting a folder leaves its tracks in the library;
only a rescan removes tracks, and only when their files are gone.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass

from core.audio.enhance import EnhanceOptions
from core.library.analyse import AnalyseOptions
from core.store.driver import _guard
from core.store.mongo import MongoStore
from core.store.paths import decode_paths, display, encode_paths

COLLECTION = "library_folders"


@dataclass(frozen=True)
class LibraryFolder:
    """A remembered folder."""

    path: str
    added_at: float
    watch: bool
    options: AnalyseOptions


def _folders(store: MongoStore):
    return store.db[COLLECTION]


def _key(path: str | os.PathLike) -> str:
    # The same absolute form as the import's track paths, so folder and track paths compare.
    return os.path.abspath(os.fspath(path))


def _id(key: str) -> str:
    """The document id of a folder: its path, printable when the name is not UTF-8 (BSON)."""
    return display(key)


@_guard("remembering a library folder")
def add_folder(store: MongoStore, path: str | os.PathLike, *, watch: bool = True,
               options: AnalyseOptions | None = None) -> LibraryFolder:
    """Remember a folder (idempotent: a known folder keeps its date and watch flag).

    Parameters
    ----------
    store : MongoStore
    path : str or PathLike
        An existing folder.
    watch : bool
        Whether a running player should watch it (only for a folder not yet remembered).
    options : AnalyseOptions, optional
        The options it was imported with; they replace earlier ones (default: keep them, or
        analysis only for a new folder).

    Returns
    -------
    LibraryFolder

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If ``path`` is missing or not a folder.
    """
    key = _key(path)
    if not os.path.exists(key):
        raise FileNotFoundError(f"folder not found: {key}")
    if not os.path.isdir(key):
        raise NotADirectoryError(f"not a folder: {key}")
    fresh = encode_paths({"path": key, "added_at": time.time(), "watch": watch})
    update = {"$setOnInsert": fresh | {"options": _options_doc(AnalyseOptions())}}
    if options is not None:
        update = {"$setOnInsert": fresh, "$set": {"options": _options_doc(options)}}
    _folders(store).update_one({"_id": _id(key)}, update, upsert=True)
    return _as_folder(_folders(store).find_one({"_id": _id(key)}))


@_guard("forgetting a library folder")
def remove_folder(store: MongoStore, path: str | os.PathLike) -> bool:
    """Forget a folder; its tracks stay. ``False`` if it was not remembered."""
    return _folders(store).delete_one({"_id": _id(_key(path))}).deleted_count == 1


@_guard("changing a library folder")
def set_watch(store: MongoStore, path: str | os.PathLike, watch: bool) -> bool:
    """Turn watching of a remembered folder on or off. ``False`` if it is not remembered."""
    return _folders(store).update_one({"_id": _id(_key(path))},
                                      {"$set": {"watch": watch}}).matched_count == 1


@_guard("reading the library folders")
def list_folders(store: MongoStore) -> list[LibraryFolder]:
    """Every remembered folder, by path."""
    return [_as_folder(d) for d in _folders(store).find({}, sort=[("_id", 1)])]


def outermost(paths: list[str]) -> list[str]:
    """``paths`` without those inside another one, so that nested folders are scanned once.

    Parameters
    ----------
    paths : list of str
        Absolute folder paths.

    Returns
    -------
    list of str
        Sorted.
    """
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(is_inside(path, parent) for parent in kept):
            kept.append(path)
    return kept


def is_inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or below it (by path, without touching the disk)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _options_doc(options: AnalyseOptions) -> dict:
    return {"enhance": asdict(options.enhance) if options.enhance else None,
            "library_dir": options.library_dir}


def _as_folder(doc: dict) -> LibraryFolder:
    doc = decode_paths(doc)
    stored = doc.get("options") or {}
    enhance = EnhanceOptions(**stored["enhance"]) if stored.get("enhance") else None
    return LibraryFolder(doc["path"], doc["added_at"], doc["watch"],
                         AnalyseOptions(enhance, stored.get("library_dir")))
