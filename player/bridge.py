"""Qt adapter of the playback engine: polls its status and turns changes into signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from core.playback.engine import PlaybackEngine, PlaybackStatus
from core.playback.playqueue import PlayQueue
from core.playback.source import PlayItem

POLL_MS = 50


class PlaybackBridge(QObject):
    """Owns a ``PlaybackEngine`` fed by a ``PlayQueue`` (``engine_options`` go to the engine): when
    a track ends the engine takes ``PlayQueue.next_on_end`` (repeat "one" replays it).

    Signals
    -------
    trackStarted(PlayItem)
        A track began sounding (by request, or gaplessly from the queue).
    positionChanged(float, float)
        Position and duration in seconds.
    stateChanged(str)
        ``stopped``, ``buffering``, ``playing`` or ``paused``.
    errorOccurred(str)
        The device or a file failed; playback goes on where it can.
    """

    trackStarted = Signal(object)
    positionChanged = Signal(float, float)
    stateChanged = Signal(str)
    errorOccurred = Signal(str)

    def __init__(self, queue: PlayQueue, parent: QObject | None = None, **engine_options):
        super().__init__(parent)
        self.queue = queue
        self.engine = PlaybackEngine(next_item=queue.next_on_end, **engine_options)
        self.status = PlaybackStatus("stopped", None, 0.0, 0, 0, None)
        self._error: str | None = None
        self._timer = QTimer(self, interval=POLL_MS, timeout=self._poll)
        self._timer.start()

    @property
    def current(self) -> PlayItem | None:
        """The track that sounds now (``None`` when stopped)."""
        return self.status.item

    def play(self, item: PlayItem, start_s: float = 0.0) -> None:
        """Play ``item`` now."""
        self.engine.play(item, start_s)

    def toggle(self) -> None:
        """Pause or resume; starts the queue when stopped."""
        if self.status.state == "stopped":
            item = self.queue.pop_next()
            if item is not None:
                self.play(item)
        elif self.status.state == "paused":
            self.engine.resume()
        else:
            self.engine.pause()
        self._poll()

    def seek(self, position_s: float) -> None:
        """Jump within the current track."""
        self.engine.seek(position_s)

    def set_volume(self, volume: float) -> None:
        """0..1."""
        self.engine.volume = volume

    def next(self) -> bool:
        """Play what comes next (queued, the list's next, the radio's pick); ``False`` if nothing."""
        item = self.queue.pop_next()
        if item is None:
            return False
        self.play(item)
        return True

    def previous(self) -> None:
        """Restart the track, or (in its first 3 s) go back to the one before."""
        if self.current is not None and self.status.position_s > 3:
            self.seek(0.0)
            return
        item = self.queue.previous(self.current)
        if item is not None:
            self.play(item)

    def close(self) -> None:
        """Release the device."""
        self._timer.stop()
        self.engine.close()

    def _poll(self) -> None:
        status = self.engine.status()
        old, self.status = self.status, status
        if status.serial != old.serial and status.item is not None:
            self.queue.played(status.item)
            self.trackStarted.emit(status.item)
        if status.state != old.state:
            self.stateChanged.emit(status.state)
        if status.item is not None:
            self.positionChanged.emit(status.position_s, status.item.duration_s)
        if status.error and status.error != self._error:
            self.errorOccurred.emit(status.error)
        self._error = status.error
