"""Extended M3U (M3U8, UTF-8): ``#EXTINF:seconds,artist - title`` before each path.

File names that are not valid UTF-8 survive a round trip (written and read with
``surrogateescape``, as the file system hands them to Python).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from core.playlists.files import Entry, Missing, import_entries, playlist_entries, resolved_path, written_path
from core.playlists.store import Playlist, Playlists
from core.store.mongo import MongoStore

HEADER = "#EXTM3U"


def format_m3u(entries: list[Entry], folder: Path, *, relative: bool = False) -> str:
    """The text of an extended M3U playlist that will live in ``folder``.

    Parameters
    ----------
    entries : list of Entry
    folder : Path
        Folder of the playlist file (relative paths start there).
    relative : bool
        Write paths relative to ``folder`` instead of absolute.

    Returns
    -------
    str
    """
    lines = [HEADER]
    for entry in entries:
        seconds = round(entry.duration_s) if entry.duration_s is not None else -1
        label = " - ".join(p for p in (entry.artist, entry.title) if p) or Path(entry.path).stem
        # A line break in a tag would end the directive and turn the rest into a path.
        lines.append(f"#EXTINF:{seconds},{' '.join(label.splitlines())}")
        lines.append(written_path(entry.path, folder, relative=relative))
    return "\n".join(lines) + "\n"


def parse_m3u(text: str, folder: Path) -> tuple[list[str], list[Missing]]:
    """Entry paths of an M3U/M3U8 text (resolved against ``folder``) and entries that are not files.

    Comments and directives (``#...``) are skipped; ``file://`` URIs become paths; other URLs are
    reported as missing, not dropped.
    """
    paths, missing = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        scheme = urlsplit(line).scheme
        if scheme == "file":
            paths.append(os.fsdecode(unquote_to_bytes(urlsplit(line).path)))
        elif len(scheme) > 1:  # one letter is a Windows drive, not a scheme
            missing.append(Missing(line, f"not a local file ({scheme} URL)"))
        else:
            paths.append(resolved_path(line, folder))
    return paths, missing


def export_m3u(store: MongoStore, playlist: Playlist, dest: str | os.PathLike, *,
               relative: bool = False) -> tuple[Path, list[Missing]]:
    """Write ``playlist`` to ``dest`` as M3U8; returns the path written and the entries left out
    (tracks no longer in the library)."""
    dest = Path(dest).absolute()
    entries, missing = playlist_entries(store, playlist)
    dest.write_text(format_m3u(entries, dest.parent, relative=relative), encoding="utf-8",
                    errors="surrogateescape")
    return dest, missing


def import_m3u(playlists: Playlists, source: str | os.PathLike,
               name: str | None = None) -> tuple[Playlist, list[Missing]]:
    """A new playlist from an M3U/M3U8 file, with the entries that are not library tracks.

    Parameters
    ----------
    playlists : Playlists
    source : str or PathLike
        The playlist file (UTF-8; a legacy ``.m3u`` that is not UTF-8 is read as Latin-1).
    name : str, optional
        Playlist name (default: the file's name without extension).

    Returns
    -------
    playlist : Playlist
    missing : list of Missing
    """
    source = Path(source).absolute()
    raw = source.read_bytes()
    try:
        text = raw.decode("utf-8-sig", errors="surrogateescape" if source.suffix == ".m3u8"
                          else "strict")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    paths, missing = parse_m3u(text, source.parent)
    return import_entries(playlists, name or source.stem, paths, missing)
