"""The ``encore`` console script: headless subcommands, or the player when none is given
(``encore [--no-worker] [--smoke-test FILE]``).

Qt is imported only when the player starts, so ``encore import`` runs on machines without a screen.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence

from core.cli import main as cli_main


def _run_player(args: list[str]) -> int:
    from player.app import main as player_main

    return player_main(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``encore``."""
    multiprocessing.freeze_support()  # import worker processes of a frozen app start here
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        return _run_player(args)  # no subcommand: the desktop player, with its own options
    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
