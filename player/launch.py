"""The ``encore`` console script: headless subcommands, or the player when none is given
(``encore [--no-worker] [--smoke-test FILE]``).

Qt is imported only when the player starts, so ``encore import`` runs on machines without a screen.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import multiprocessing
import sys
from collections.abc import Sequence

from core.cli import build_parser as cli_parser
from core.cli import main as cli_main

HELP = ("-h", "--help")


def add_player_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The player's own options (``encore`` with no subcommand), on ``parser`` or a group of one."""
    parser.add_argument("--no-worker", action="store_true",
                        help="do not start a recommender worker (use workers running elsewhere)")
    parser.add_argument("--smoke-test", metavar="FILE",
                        help="play FILE through the audio device without a window, then exit")


def print_help() -> None:
    """``encore --help``: the subcommands and the player's options, in one text."""
    parser = cli_parser()
    add_player_options(parser.add_argument_group("player options (when no subcommand is given)"))
    parser.print_help()


def _run_player(args: list[str]) -> int:
    from player.app import main as player_main

    return player_main(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``encore``."""
    multiprocessing.freeze_support()  # import worker processes of a frozen app start here
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] and args[0] in HELP:
        print_help()
        return 0
    if not args or args[0].startswith("-"):
        return _run_player(args)  # no subcommand: the desktop player, with its own options
    status = cli_main(args)
    if argv is None:
        # The console script's command is over and the interpreter exits next: its final
        # garbage collections would walk every object the command loaded (scikit-learn, scipy,
        # pymongo), 0.5-0.9 s after an `encore import` on 2 cores, for cycles that hold nothing
        # to release. Frozen, they are skipped (0.06-0.27 s); exit handlers still run. (A caller
        # passing ``argv`` goes on running: its objects must stay collectable.)
        gc.freeze()
        _skip_monitor_joins()
    return status


def _skip_monitor_joins() -> None:
    """Let the interpreter exit without joining pymongo's monitor threads.

    pymongo's exit handler stops its server monitors and then joins each thread, which sleeps in
    0.5 s steps before it sees the stop: every command that used the database waited 0.2-0.5 s
    after its work was done (an import of 94 tracks spent 0.17-0.49 s there). The threads are
    daemon threads that only watch servers; the interpreter stops them at exit. Other exit
    handlers (the local stack's lease, logging) still run.
    """
    monitor = sys.modules.get("pymongo.synchronous.monitor")
    if monitor is not None and hasattr(monitor, "_shutdown_resources"):
        atexit.unregister(monitor._shutdown_resources)


if __name__ == "__main__":
    sys.exit(main())
