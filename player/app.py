"""The player's composition root: ``encore`` with no subcommand, or ``python -m player``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtWidgets import QApplication, QMessageBox

from core.config import load_config
from core.errors import EncoreError
from player.launch import add_player_options


def build_parser() -> argparse.ArgumentParser:
    """Options of the player."""
    parser = argparse.ArgumentParser(prog="encore", description="The Encore music player")
    add_player_options(parser)
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


def attach_remote(backend, window):
    """Let the web page drive ``window`` (``encore web``'s "queue this track"), when a Kafka broker
    carries the commands.

    Parameters
    ----------
    backend : Backend
    window : MainWindow
        Its ``enqueueRequested`` is emitted on the listener's thread (a queued signal: the window
        queues the track on its own thread).

    Returns
    -------
    PlayerRemote or None
        Close it before ``backend.close()``; ``None`` with the in-process bus.
    """
    if backend.bootstrap is None:
        return None
    from core.bus.player_commands import PlayerRemote

    return PlayerRemote(backend.store, backend.bootstrap, window.session.session_id,
                        window.enqueueRequested.emit)


def no_display_reason() -> str | None:
    """Why the player cannot open a window here, or ``None`` when it can try.

    Qt aborts the whole process with a plugin message when it finds no display, so a user who
    types ``encore`` over SSH is told what to do instead.
    """
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display: the player needs a desktop session (DISPLAY or WAYLAND_DISPLAY). "
            "Headless commands work without one, e.g. `encore import ~/Music`; see `encore --help`.")


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
    if (reason := no_display_reason()) is not None:
        print(f"encore: {reason}", file=sys.stderr)
        return 2
    if args.smoke_test:
        return smoke_test(args.smoke_test)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Encore")
    app.setOrganizationName("Encore")

    from player.backend import connect_backend
    from player.interrupt import QuitOnSignal
    from player.main_window import MainWindow
    from player.settings import window_state
    from player.window_desktop import apply_theme

    config = load_config()
    try:
        backend = connect_backend(config, start_worker=not args.no_worker)
    except EncoreError as exc:
        QMessageBox.critical(None, "Encore", f"Encore cannot start: {exc}")
        return 2
    window = MainWindow(backend, window_state(config))
    apply_theme(window.desktop.preferences.theme)
    window.show()
    window.desktop.start()  # tray icon and MPRIS (without a session bus: one log line)
    # Ctrl-C in the terminal (SIGINT to the whole process group) or SIGTERM: close cleanly.
    quitter = QuitOnSignal(lambda: (window.close(), app.quit()), app)  # noqa: F841 (kept alive)
    remote = attach_remote(backend, window)
    logging.getLogger("encore.player").info("player ready (pid %d)", os.getpid())
    try:
        return app.exec()
    finally:
        if remote is not None:
            remote.close()
        backend.close()

