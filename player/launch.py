"""The ``encore`` console script: headless subcommands, or the player when none is given.

Qt is imported only when the player starts, so ``encore import`` runs on machines without a screen.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

from core.cli import main as cli_main


def _run_player() -> int:
    if importlib.util.find_spec("player.app") is None:
        print("encore: the desktop player is not part of this build yet; "
              "use a subcommand (encore --help)", file=sys.stderr)
        return 2
    from player.app import main as player_main

    return player_main()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``encore``."""
    return cli_main(argv, run_player=_run_player)


if __name__ == "__main__":
    sys.exit(main())
