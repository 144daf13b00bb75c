"""``encore recommend TRACK...``: top k per seed."""

from __future__ import annotations

import argparse
import os
import sys

from core.cli.common import json_text, open_store
from core.config import Config
from core.errors import EncoreError
from core.store.paths import display


def cmd_recommend(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore recommend``: one store connection for every seed."""
    from core.similarity.recommend import Recommender

    if args.k < 1:
        raise ValueError(f"--k must be at least 1, got {args.k}")
    recommender = Recommender(open_store(config))
    status = 0
    for seed in args.tracks:
        try:
            doc = recommender.seed(os.path.abspath(seed) if os.path.exists(seed) else seed)
            recs = recommender.rank([doc], k=args.k, exclude=tuple(args.exclude),
                                    max_per_artist=args.max_per_artist or None)
        except EncoreError as exc:
            print(display(f"encore: {exc}"), file=sys.stderr)
            status = 1
            continue
        if args.json:
            print(json_text({"seed": {"id": doc["_id"], "path": doc["path"]},
                             "recommendations": [r.as_dict() for r in recs]}), flush=True)
        else:
            print(display(f"{doc['path']}:"))
            for r in recs:
                print(display(f"  {r.score:.3f}  {r.artist or '?'} — {r.title}  ({r.why})"))
    return status


def add_parser(sub) -> None:
    """Register ``encore recommend``."""
    rec = sub.add_parser("recommend", help="recommend tracks like the given ones")
    rec.add_argument("tracks", nargs="+", help="track ids or paths")
    rec.add_argument("--k", type=int, default=5)
    rec.add_argument("--exclude", action="append", default=[], help="track id to leave out")
    rec.add_argument("--max-per-artist", type=int, default=2, help="0 for no cap")
    rec.add_argument("--json", action="store_true", help="one JSON line per seed")
    rec.set_defaults(run=cmd_recommend)
