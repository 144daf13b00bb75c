"""``encore radio SEED...``: the queue the player's radio would play from those seeds."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from core.cli.common import json_text, open_store
from core.config import Config
from core.store.paths import display

#: JSON fields printed per track (``details`` stays in the worker's documents).
JSON_FIELDS = ("id", "path", "title", "artist", "album", "score", "why")


def _track_key(arg: str) -> str:
    """An id, or the absolute path of an existing file (as ``encore recommend`` takes them)."""
    return os.path.abspath(arg) if os.path.exists(arg) else arg


def session_from_args(store, recommender, args: argparse.Namespace):
    """A session of the given seeds, skips and likes (nothing is written to the database).

    Raises
    ------
    NotFoundError
        If a seed is unknown or not indexed, or a skipped or liked track is unknown.
    """
    from core.store.session_state import SessionView

    seeds = [recommender.seed(_track_key(s))["_id"] for s in args.seeds]
    events = []
    for kind, keys in (("skip", args.skip), ("like", args.like)):
        for key in keys:
            track = store.get_track(_track_key(key), {"_id": 1})["_id"]
            events.append({"type": kind, "track_id": track, "ts": float(len(events) + 1),
                           "position_s": 0.0})
    liked = {e["track_id"] for e in events if e["type"] == "like"}
    return SessionView(events[::-1], seeds, 0.0, liked)


def cmd_radio(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore radio``."""
    from core.similarity.radio import Radio, RadioOptions
    from core.similarity.recommend import Recommender
    from core.store.session_state import session_state

    if args.count < 1:
        raise ValueError(f"--count must be at least 1, got {args.count}")
    store = open_store(config)
    recommender = Recommender(store)
    view = session_from_args(store, recommender, args)
    radio = Radio(recommender, session_state(store), RadioOptions.for_mode(args.mode))
    with recommender.snapshot():
        picks = radio.queue(view, count=args.count)
    entries = recommender.explain(picks)
    for entry in entries:
        if args.json:
            print(json_text({k: getattr(entry, k) for k in JSON_FIELDS}))
        else:
            print(display(f"{entry.score:6.3f}  {entry.artist or '?'} — {entry.title}  "
                          f"({entry.why})"))
    if args.m3u:
        write_m3u(Path(args.m3u).absolute(), entries, picks)
    return 0


def write_m3u(dest: Path, entries: list, picks: list) -> None:
    """The planned queue as an extended M3U8 playlist (the playlist module's format, so any file
    name, UTF-8 or not, is written as the file system spells it)."""
    from core.playlists.files import Entry
    from core.playlists.m3u import format_m3u

    tracks = [Entry(e.path, e.title, e.artist, e.album, p.doc.get("duration_s"))
              for e, p in zip(entries, picks, strict=True)]
    dest.write_text(format_m3u(tracks, dest.parent), encoding="utf-8", errors="surrogateescape")


def add_parser(sub) -> None:
    """Register ``encore radio``."""
    rad = sub.add_parser("radio", help="the tracks the radio would play from the given seeds")
    rad.add_argument("seeds", nargs="+", metavar="SEED", help="track ids or paths")
    rad.add_argument("--count", type=int, default=10, help="tracks to plan (default 10)")
    rad.add_argument("--skip", action="extend", nargs="+", default=[], metavar="TRACK",
                     help="tracks skipped in this session")
    rad.add_argument("--like", action="extend", nargs="+", default=[], metavar="TRACK",
                     help="tracks liked in this session")
    rad.add_argument("--mode", choices=("mix", "album", "artist"), default="mix",
                     help="album/artist radio lifts the variety caps")
    rad.add_argument("--json", action="store_true", help="one JSON line per track")
    rad.add_argument("--m3u", metavar="FILE", help="also write an extended M3U8 playlist")
    rad.set_defaults(run=cmd_radio)
