"""Ctrl-C (and SIGTERM) for a Qt program.

Python runs a signal handler only when the interpreter gets control, and Qt's event loop is C++:
without help a Ctrl-C waits for the next Python callback, or forever. A wake-up socket that Qt
watches gives the interpreter control as soon as a signal arrives.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer


class QuitOnSignal(QObject):
    """Calls ``quit()`` on the first SIGINT or SIGTERM; a second one ends the process at once.

    Parameters
    ----------
    quit : callable
        Closes the window and leaves the event loop (on the Qt thread).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, quit: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._quit = quit
        self.received: list[int] = []
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        signal.set_wakeup_fd(self._write.fileno())
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        # Draining the socket is enough: the Python handler runs as soon as this slot returns.
        self._notifier.activated.connect(self._drain)
        for signum in self.SIGNALS:
            signal.signal(signum, self._handle)

    def _drain(self) -> None:
        try:
            while self._read.recv(64):
                pass
        except BlockingIOError:
            pass

    def _handle(self, signum: int, _frame) -> None:
        self.received.append(signum)
        for other in self.SIGNALS:  # the next one is not ignored: the default action ends us
            signal.signal(other, signal.SIG_DFL)
        # Not from inside the handler: it interrupts whatever Python code ran (perhaps holding
        # the play queue's lock), and closing the window takes that lock again. The event loop
        # runs it next, from a clean stack.
        QTimer.singleShot(0, self._quit)
