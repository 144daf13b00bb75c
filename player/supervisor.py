"""Keeps the player's recommender worker running: a dead worker is restarted with backoff, and
the window is told while recommendations are degraded."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer, Signal

from core.errors import EncoreError

Spawn = Callable[[], subprocess.Popen]
CHECK_MS = 500
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
#: A restarted worker alive this long counts as back.
BACK_S = 2.0
#: A worker that ran this long was healthy: the next failure starts the backoff again.
STABLE_S = 20.0


class WorkerSupervisor(QObject):
    """Runs ``spawn()`` and restarts its process whenever it exits, waiting 1, 2, 4 … 30 s.

    Signals
    -------
    problem(str)
        Why recommendations are degraded; an empty string when the worker runs again.
    """

    problem = Signal(str)
    _spawned = Signal(object, str)  # the process, or why it could not start

    def __init__(self, spawn: Spawn, parent: QObject | None = None, *,
                 first_backoff_s: float = FIRST_BACKOFF_S):
        super().__init__(parent)
        self._spawn, self._first_backoff = spawn, first_backoff_s
        self._backoff = first_backoff_s
        self.process: subprocess.Popen | None = None
        self.launches = 0
        self.degraded = False
        self._started_at = 0.0
        self._check = QTimer(self, interval=CHECK_MS, timeout=self._poll)
        self._restart = QTimer(self, singleShot=True, timeout=self._launch)
        self._spawned.connect(self._on_spawned)
        # Spawning may first restart the local servers (seconds): not on the UI thread. And the
        # worker dies with the thread that started it (PR_SET_PDEATHSIG), so that thread must
        # live as long as the supervisor: one long-lived thread, not one per launch.
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="encore-worker-spawn")
        self._launching = self._stopped = False

    def start(self) -> None:
        """Start the worker and watch it."""
        self._launch()
        self._check.start()

    def _launch(self) -> None:
        self._launching = True
        self._spawner.submit(self._spawn_now)

    def _spawn_now(self) -> None:
        try:
            self._spawned.emit(self._spawn(), "")
        except (OSError, EncoreError) as exc:
            self._spawned.emit(None, str(exc))

    def _on_spawned(self, process: subprocess.Popen | None, error: str) -> None:
        self._launching = False
        if self._stopped:
            self._end(process)
            return
        self.process = process
        if process is None:
            self._retry(f"the recommender worker cannot start ({error})")
            return
        self._started_at = time.monotonic()
        self.launches += 1

    def _poll(self) -> None:
        if self.process is None or self._launching or self._restart.isActive():
            return
        code = self.process.poll()
        alive_s = time.monotonic() - self._started_at
        if code is None:
            if self.degraded and alive_s >= BACK_S:
                self.degraded = False
                self.problem.emit("")
            return
        if alive_s >= STABLE_S:
            self._backoff = self._first_backoff
        self._retry(f"the recommender worker stopped (exit status {code})")

    def _retry(self, reason: str) -> None:
        self.degraded = True
        self.problem.emit(f"{reason}; restarting it in {self._backoff:.0f} s")
        self._restart.start(int(self._backoff * 1000))
        self._backoff = min(MAX_BACKOFF_S, self._backoff * 2)

    def stop(self) -> None:
        """Stop watching and end the worker (it finishes its current batch first)."""
        self._stopped = True
        self._check.stop()
        self._restart.stop()
        self._end(self.process)
        self._spawner.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _end(process: subprocess.Popen | None) -> None:
        if process is not None and process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)
