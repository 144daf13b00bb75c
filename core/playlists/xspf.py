"""XSPF (XML Shareable Playlist Format, version 1): ``<location>`` holds a percent-encoded
``file://`` URI, or a relative URI reference resolved against the playlist file's folder.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes, urlsplit

from core.playlists.files import Entry, Missing, import_entries, playlist_entries, resolved_path, written_path
from core.playlists.store import Playlist, Playlists
from core.store.mongo import MongoStore

NS = "http://xspf.org/ns/0/"
_T = f"{{{NS}}}"


def path_to_uri(path: str, *, relative: bool) -> str:
    """A path as an XSPF location: ``file:///...`` or a relative reference, percent-encoded
    byte by byte (UTF-8, or the file system's own bytes for names that are not UTF-8)."""
    encoded = quote(os.fsencode(path), safe="/")
    return encoded if relative else "file://" + encoded


def uri_to_path(location: str, folder: Path) -> str:
    """Inverse of ``path_to_uri``; relative references are resolved against ``folder``.

    Raises
    ------
    ValueError
        If the location is a URL of another scheme (``http:`` ...), not a local file.
    """
    parts = urlsplit(location)
    if parts.scheme == "file":
        return os.fsdecode(unquote_to_bytes(parts.path))
    if parts.scheme:
        raise ValueError(f"not a local file ({parts.scheme} URL)")
    return resolved_path(os.fsdecode(unquote_to_bytes(parts.path)), folder)


def format_xspf(title: str, entries: list[Entry], folder: Path, *, relative: bool = False) -> bytes:
    """An XSPF document (UTF-8 bytes) for a playlist file that will live in ``folder``."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{_T}playlist", version="1")
    ET.SubElement(root, f"{_T}title").text = title
    track_list = ET.SubElement(root, f"{_T}trackList")
    for entry in entries:
        track = ET.SubElement(track_list, f"{_T}track")
        location = written_path(entry.path, folder, relative=relative)
        ET.SubElement(track, f"{_T}location").text = path_to_uri(location, relative=relative)
        for tag, value in (("title", entry.title), ("creator", entry.artist),
                           ("album", entry.album)):
            if value:
                ET.SubElement(track, f"{_T}{tag}").text = value
        if entry.duration_s is not None:
            ET.SubElement(track, f"{_T}duration").text = str(round(entry.duration_s * 1000))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def parse_xspf(data: bytes, folder: Path) -> tuple[str | None, list[str], list[Missing]]:
    """Title, resolved entry paths and rejected entries of an XSPF document.

    Raises
    ------
    ValueError
        If ``data`` is not XML or not an XSPF playlist.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"not an XSPF playlist: {exc}") from None
    if root.tag != f"{_T}playlist":
        raise ValueError(f"not an XSPF playlist: root element is {root.tag!r}")
    paths, missing = [], []
    for number, track in enumerate(root.iterfind(f"{_T}trackList/{_T}track"), 1):
        location = (track.findtext(f"{_T}location") or "").strip()
        if not location:
            missing.append(Missing(f"track {number}", "no location"))
            continue
        try:
            paths.append(uri_to_path(location, folder))
        except ValueError as exc:
            missing.append(Missing(location, str(exc)))
    return root.findtext(f"{_T}title"), paths, missing


def export_xspf(store: MongoStore, playlist: Playlist, dest: str | os.PathLike, *,
                relative: bool = False) -> tuple[Path, list[Missing]]:
    """Write ``playlist`` to ``dest`` as XSPF; returns the path written and the entries left out
    (tracks no longer in the library)."""
    dest = Path(dest).absolute()
    entries, missing = playlist_entries(store, playlist)
    dest.write_bytes(format_xspf(playlist.name, entries, dest.parent, relative=relative))
    return dest, missing


def import_xspf(playlists: Playlists, source: str | os.PathLike,
                name: str | None = None) -> tuple[Playlist, list[Missing]]:
    """A new playlist from an XSPF file, with the entries that are not library tracks.

    Parameters
    ----------
    playlists : Playlists
    source : str or PathLike
        The playlist file.
    name : str, optional
        Playlist name (default: the playlist's title, else the file's name).

    Returns
    -------
    playlist : Playlist
    missing : list of Missing
    """
    source = Path(source).absolute()
    title, paths, missing = parse_xspf(source.read_bytes(), source.parent)
    return import_entries(playlists, name or (title or "").strip() or source.stem, paths, missing)
