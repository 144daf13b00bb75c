"""``encore web``: the recommendations web page."""

from __future__ import annotations

import argparse

from core.config import Config


def cmd_web(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore web``."""
    from core.web.server import run_web

    return run_web(config, args.host, args.port)


def add_parser(sub) -> None:
    """Register ``encore web``."""
    web = sub.add_parser("web", help="serve the now-playing and recommended-songs web page")
    web.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default: loopback only; any other requires the "
                          "token printed at start)")
    web.add_argument("--port", type=int, default=8800)
    web.set_defaults(run=cmd_web)
