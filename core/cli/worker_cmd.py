"""``encore worker``: the recommender consumer."""

from __future__ import annotations

import argparse

from core.config import Config


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore worker``: the recommender consumer."""
    from core.worker import run_worker

    return run_worker(config, group=args.group)


def add_parser(sub) -> None:
    """Register ``encore worker``."""
    wrk = sub.add_parser("worker", help="run the recommender worker (Kafka consumer group)")
    wrk.add_argument("--group", default="encore-recommender")
    wrk.set_defaults(run=cmd_worker)
