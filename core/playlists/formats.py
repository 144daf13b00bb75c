"""Import and export by file extension: ``.xspf`` is XSPF, ``.m3u8`` and ``.m3u`` are M3U."""

from __future__ import annotations

import os
from pathlib import Path

from core.playlists import m3u, xspf
from core.playlists.files import Missing
from core.playlists.store import Playlist, Playlists
from core.store.mongo import MongoStore

_FORMATS = {".xspf": (xspf.import_xspf, xspf.export_xspf), ".m3u8": (m3u.import_m3u, m3u.export_m3u),
            ".m3u": (m3u.import_m3u, m3u.export_m3u)}


def _format(path: str | os.PathLike):
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(f"unknown playlist format {suffix or '(no extension)'!r}: "
                         f"use {', '.join(_FORMATS)}")
    return _FORMATS[suffix]


def import_playlist(playlists: Playlists, source: str | os.PathLike,
                    name: str | None = None) -> tuple[Playlist, list[Missing]]:
    """A new playlist from an M3U/M3U8 or XSPF file, and the entries that did not match.

    Raises
    ------
    ValueError
        For an unknown extension or a malformed file.
    FileNotFoundError
        If ``source`` does not exist.
    """
    return _format(source)[0](playlists, source, name)


def export_playlist(store: MongoStore, playlist: Playlist, dest: str | os.PathLike, *,
                    relative: bool = False) -> tuple[Path, list[Missing]]:
    """Write ``playlist`` as M3U8 or XSPF (by ``dest``'s extension).

    Returns
    -------
    path : Path
        The file written.
    missing : list of Missing
        Entries left out: tracks no longer in the library.
    """
    return _format(dest)[1](store, playlist, dest, relative=relative)
