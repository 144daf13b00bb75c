"""``encore analysis-worker``: analyse files published by ``encore import --distributed``."""

from __future__ import annotations

import argparse

from core.config import Config


def cmd_analysis_worker(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore analysis-worker``."""
    from core.analysis_worker import run_analysis_worker

    return run_analysis_worker(config, group=args.group)


def add_parser(sub) -> None:
    """Register ``encore analysis-worker``."""
    wrk = sub.add_parser("analysis-worker",
                         help="analyse files for distributed imports (Kafka consumer group); "
                              "start one per core, on any machine that sees the files")
    wrk.add_argument("--group", default="encore-analysis")
    wrk.set_defaults(run=cmd_analysis_worker)
