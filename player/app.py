"""The player's composition root: ``encore`` with no subcommand, or ``python -m player``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from core.config import load_config
from core.errors import EncoreError


def build_parser() -> argparse.ArgumentParser:
    """Options of the player."""
    parser = argparse.ArgumentParser(prog="encore", description="The Encore music player")
    parser.add_argument("--no-worker", action="store_true",
                        help="do not start a recommender worker (use workers running elsewhere)")
    parser.add_argument("--smoke-test", metavar="FILE",
                        help="play FILE through the audio device without a window, then exit")
    return parser


def smoke_test(path: str) -> int:
    """Decode and play a file to the default device; exit status 0 when it played to the end."""
    import time

    from core.audio.decode import probe
    from core.playback.engine import PlaybackEngine
    from core.playback.source import PlayItem

    app = QApplication.instance() or QApplication([])  # proves the Qt platform plugin loads
    engine = PlaybackEngine()
    engine.play(PlayItem("smoke", path, duration_s=probe(path).duration_s))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = engine.status()
        started = status.serial > 0  # the track began (it may already have ended)
        if started and status.state == "stopped":
            break
        app.processEvents()
        time.sleep(0.05)
    engine.close()
    print(f"smoke test: played {path}, state {status.state}, error {status.error}")
    return 0 if started and status.state == "stopped" and status.error is None else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Start the player.

    Returns
    -------
    int
        Exit status.
    """
    from player.logs import setup_logging

    args = build_parser().parse_args(argv)
    setup_logging()
    if args.smoke_test:
        return smoke_test(args.smoke_test)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Encore")
    app.setOrganizationName("Encore")

    from player.backend import connect_backend
    from player.interrupt import QuitOnSignal
    from player.main_window import MainWindow
    from player.resources import style_sheet

    app.setStyleSheet(style_sheet())
    try:
        backend = connect_backend(load_config(), start_worker=not args.no_worker)
    except EncoreError as exc:
        QMessageBox.critical(None, "Encore", f"Encore cannot start: {exc}")
        return 2
    window = MainWindow(backend, QSettings())
    window.show()
    # Ctrl-C in the terminal (SIGINT to the whole process group) or SIGTERM: close cleanly.
    quitter = QuitOnSignal(lambda: (window.close(), app.quit()), app)  # noqa: F841 (kept alive)
    # Remote "queue this track" commands (``encore web``) attach here: their listener thread
    # emits window.enqueueRequested(track_id) (a queued signal: the window queues it on this
    # thread), e.g. core.bus.player_commands.PlayerRemote(backend.store, backend.bootstrap,
    # window.session.session_id, window.enqueueRequested.emit), closed before backend.close().
    logging.getLogger("encore.player").info("player ready (pid %d)", os.getpid())
    try:
        return app.exec()
    finally:
        backend.close()

