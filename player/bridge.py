"""Qt adapter of the playback engine: polls its status and turns changes into signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from core.errors import PlaybackError
from core.playback.engine import NULL_DEVICE, PlaybackEngine, PlaybackStatus
from core.playback.outputs import device_rate
from core.playback.playqueue import PlayQueue
from core.playback.source import PlayItem

POLL_MS = 50


def device_problem(device: int | str | None) -> str:
    """Why ``device`` cannot sound (the engine then plays into its silent null output), or ``""``.

    Parameters
    ----------
    device : int, str or None
        A sounddevice output device (``None``: the default); ``"null"`` is silent on purpose and
        has no problem.
    """
    if device == NULL_DEVICE:
        return ""
    try:
        device_rate(device)
    except PlaybackError as exc:
        return str(exc)
    return ""


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
    deviceProblemChanged(str)
        The output device cannot sound, and why (playback goes on silently), or ``""`` once a
        device works again.
    """

    trackStarted = Signal(object)
    positionChanged = Signal(float, float)
    stateChanged = Signal(str)
    errorOccurred = Signal(str)
    deviceProblemChanged = Signal(str)

    def __init__(self, queue: PlayQueue, parent: QObject | None = None, **engine_options):
        super().__init__(parent)
        self.queue = queue
        self._options = engine_options
        self.engine = PlaybackEngine(next_item=queue.next_on_end, **engine_options)
        self.status = PlaybackStatus("stopped", None, 0.0, 0, 0, None)
        self.device_problem = device_problem(engine_options.get("device"))
        self._silent_reason = ""
        self._error: str | None = None
        self._timer = QTimer(self, interval=POLL_MS, timeout=self._poll)
        self._timer.start()

    def use_device(self, device: int | str | None) -> None:
        """Reopen the engine on ``device`` (only while stopped: the engine opens its device once),
        keeping the volume and the other engine options."""
        volume = self.engine.volume
        self.engine.close()
        self._options = {**self._options, "device": device}
        self.engine = PlaybackEngine(next_item=self.queue.next_on_end, **self._options)
        self.engine.volume = volume
        self.check_device()

    def check_device(self) -> None:
        """Ask again whether the device can sound (it may be listed and still refuse to open,
        e.g. while another program holds it); emits ``deviceProblemChanged`` on a change."""
        problem = device_problem(self._options.get("device")) or self.engine.silent_reason
        if problem != self.device_problem:
            self.device_problem = problem
            self.deviceProblemChanged.emit(problem)

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
        reason = self.engine.silent_reason
        if reason != self._silent_reason:  # the engine's output just opened, or fell back
            self._silent_reason = reason
            self.check_device()
        status = self.engine.status()
        old, self.status = self.status, status
        if status.serial != old.serial and status.item is not None:
            self.queue.played(status.item)
            self.trackStarted.emit(status.item)
        if status.state != old.state:
            if old.state == "stopped":
                self.check_device()  # the engine has just (re)opened its output
            self.stateChanged.emit(status.state)
        if status.item is not None:
            self.positionChanged.emit(status.position_s, status.item.duration_s)
        if status.error and status.error != self._error:
            self.errorOccurred.emit(status.error)
        self._error = status.error
