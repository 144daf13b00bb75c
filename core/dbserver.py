# SPDX-License-Identifier: GPL-2.0-or-later
# Unlike the rest of Encore (GPL-3.0-or-later): this file is frozen into the encore-db program
# together with GPL-2.0-only SecantusDB, so it must be GPL-2.0 compatible.
"""The local SecantusDB server as Encore runs it: ``python -m core.dbserver [--follow-parent] ARGS``.

The frozen app ships this script as its own executable, ``encore-db`` (see ``build.spec``):
SecantusDB is GPL-2.0-only and must not be frozen into the same program as GPL-3.0 code.
Encore always passes ``--config`` and starts it in the private services folder, so SecantusDB
never picks up a ``secantusd.toml`` from the user's current folder or home.

With ``--follow-parent`` the server leaves with the process that started it. The parent-death
signal (SIGTERM) alone is not enough: SecantusDB's handler waits for the request in flight, so
a server busy with a large insert outlived its parent by many minutes. A watchdog thread
notices the orphaning, asks for a clean stop, and exits hard after a grace period (WiredTiger
recovers from its log on the next start).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Sequence

from core.processes import keep_freed_memory

GRACE_S = 10.0


def follow_parent(*, grace_s: float = GRACE_S, poll_s: float = 0.5) -> threading.Thread:
    """Start a watchdog that stops this process when its parent is gone.

    Parameters
    ----------
    grace_s : float
        Time between the polite SIGTERM and the hard exit.
    poll_s : float
        How often the parent is checked.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_s)
        os._exit(1)

    thread = threading.Thread(target=watch, name="encore-follow-parent", daemon=True)
    thread.start()
    return thread


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server with SecantusDB's own command-line options."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--follow-parent"]:
        args = args[1:]
        follow_parent()
    # A database server keeps its working set anyway; not unmapping freed buffers spares the
    # machine page-fault storms that delay audio threads (see core.processes).
    keep_freed_memory()
    from secantus.cli import main as secantus_main

    sys.argv = ["secantusd-py", *args]
    return secantus_main()


if __name__ == "__main__":
    sys.exit(main())
