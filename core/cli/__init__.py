"""The ``encore`` command: the player by default, or a headless job.

Each subcommand lives in its own module here with ``add_parser(sub)``; ``SUBCOMMANDS`` lists them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from core.cli import (
    analysis_worker_cmd,
    import_cmd,
    playlist_cmd,
    radio_cmd,
    recommend_cmd,
    rescan_cmd,
    services_cmd,
    web_cmd,
    worker_cmd,
)
from core.config import load_config
from core.errors import EncoreError
from core.store.paths import display

SUBCOMMANDS = (import_cmd, recommend_cmd, services_cmd, worker_cmd, analysis_worker_cmd, web_cmd,
               rescan_cmd, radio_cmd, playlist_cmd)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``encore``."""
    parser = argparse.ArgumentParser(
        prog="encore",
        description="Encore: a music player that learns what to play next from how songs sound. "
                    "With no subcommand it starts the desktop player.")
    sub = parser.add_subparsers(dest="command")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a headless command (``player.launch`` starts the player when none is given).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    config = load_config()
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args, config)
    except (EncoreError, FileNotFoundError, NotADirectoryError, ValueError) as exc:
        print(display(f"encore: {exc}"), file=sys.stderr)  # it may name any file
        return 2
    except BrokenPipeError:
        # The reader stopped early (`encore recommend ... | head -1`): no traceback. Later
        # writes (and the interpreter's final flush) go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
