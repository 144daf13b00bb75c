"""``encore playlist list|show|import|export``: playlists without the player."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from core.cli.common import json_text, open_store
from core.config import Config
from core.store.paths import display


def cmd_playlist(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore playlist ACTION``."""
    from core.playlists.store import Playlists

    store = open_store(config)
    playlists = Playlists(store)
    return ACTIONS[args.action](args, store, playlists)


def _list(args, store, playlists) -> int:
    rows = [{"id": p.id, "name": p.name, "tracks": len(p.tracks)} for p in playlists.list()]
    if args.json:
        print(json_text(rows))
        return 0
    for row in rows:
        print(f"{row['name']}  ({row['tracks']} tracks)")
    return 0


def _show(args, store, playlists) -> int:
    from core.playlists.files import playlist_entries

    playlist = playlists.get(args.name)
    entries, missing = playlist_entries(store, playlist)
    if args.json:
        print(json_text({"id": playlist.id, "name": playlist.name,
                         "tracks": [asdict(e) for e in entries],
                         "missing": [asdict(m) for m in missing]}))
        return 0
    print(playlist.name)
    for number, entry in enumerate(entries, 1):
        print(f"{number:4}. {entry.artist or '?'} — {entry.title}  ({display(entry.path)})")
    for item in missing:
        print(f"      track {item.entry}: {item.reason}")
    return 0


def _import(args, store, playlists) -> int:
    from core.playlists.formats import import_playlist

    playlist, missing = import_playlist(playlists, args.file, args.name)
    if args.json:
        print(json_text({"id": playlist.id, "name": playlist.name, "tracks": len(playlist.tracks),
                         "missing": [asdict(m) for m in missing]}))
        return 0
    print(f"playlist {playlist.name!r}: {len(playlist.tracks)} tracks, {len(missing)} missing")
    for item in missing:
        print(f"  missing {display(item.entry)}: {item.reason}")
    return 0


def _export(args, store, playlists) -> int:
    from core.playlists.formats import export_playlist

    dest, missing = export_playlist(store, playlists.get(args.name), args.file,
                                    relative=args.relative)
    if args.json:
        print(json_text({"written": str(dest), "missing": [asdict(m) for m in missing]}))
        return 0
    print(f"wrote {display(str(dest))}")
    for item in missing:
        print(f"  left out track {item.entry}: {item.reason}")
    return 0


ACTIONS = {"list": _list, "show": _show, "import": _import, "export": _export}


def add_parser(sub) -> None:
    """Register ``encore playlist``."""
    cmd = sub.add_parser("playlist", help="list, show, import (M3U8, XSPF) and export playlists")
    actions = cmd.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every playlist")
    actions.add_parser("show", help="a playlist's tracks").add_argument("name", help="name or id")
    imp = actions.add_parser("import", help="a new playlist from an .m3u8, .m3u or .xspf file")
    imp.add_argument("file")
    imp.add_argument("--name", help="playlist name (default: the file's title or name)")
    exp = actions.add_parser("export", help="write a playlist as .m3u8 or .xspf (by extension)")
    exp.add_argument("name", help="name or id")
    exp.add_argument("file")
    exp.add_argument("--relative", action="store_true",
                     help="paths relative to the playlist file's folder")
    for action in actions.choices.values():
        action.add_argument("--json", action="store_true", help="print JSON on stdout")
    cmd.set_defaults(run=cmd_playlist)
