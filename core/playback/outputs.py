"""Where the engine's frames go: a PortAudio stream, or a paced null output when no device works.

Both call ``fill(out)`` with a preallocated ``float32`` array of shape ``(frames, channels)``
and play whatever it leaves there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from core.errors import PlaybackError

Fill = Callable[[np.ndarray], None]


def _sounddevice():
    """The sounddevice module; raises ``PlaybackError`` when PortAudio is not installed."""
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio library itself is missing
        raise PlaybackError(f"PortAudio is not available: {exc}") from exc
    return sounddevice


def device_rate(device: int | str | None) -> int:
    """Default sample rate of an output device (``None``: the default device)."""
    sd = _sounddevice()
    try:
        return int(sd.query_devices(device, "output")["default_samplerate"])
    except (sd.PortAudioError, ValueError) as exc:
        raise PlaybackError(f"audio device {device!r}: {exc}") from exc


def find_device(host_api: str) -> int | None:
    """Index of the first output device of the host API whose name contains ``host_api``."""
    sd = _sounddevice()

    apis = sd.query_hostapis()
    for index, info in enumerate(sd.query_devices()):
        if info["max_output_channels"] > 0 and host_api.lower() in apis[info["hostapi"]]["name"].lower():
            return index
    return None


class PortAudioOutput:
    """A sounddevice ``OutputStream`` whose callback only copies frames.

    Parameters
    ----------
    rate : int
        Sample rate to open the device at.
    channels : int
    fill : callable
        Called from PortAudio's real-time thread.
    device : int or str, optional
        sounddevice device (default: the system default).
    """

    def __init__(self, rate: int, channels: int, fill: Fill, *, device: int | str | None = None,
                 blocksize: int = 1024):
        self.rate, self.channels, self._fill = rate, channels, fill
        #: Times PortAudio reported that the device ran dry.
        self.underflows = 0
        #: Longest time spent in the callback (diagnostics: a slow callback causes underflows).
        self.longest_callback_s = 0.0
        sd = _sounddevice()
        try:
            self._stream = sd.OutputStream(samplerate=rate, channels=channels, dtype="float32",
                                           device=device, blocksize=blocksize, latency="high",
                                           callback=self._callback)
        except (sd.PortAudioError, ValueError) as exc:
            raise PlaybackError(f"cannot open the audio device at {rate} Hz: {exc}") from exc

    def _callback(self, outdata: np.ndarray, frames: int, time_info, status) -> None:
        start = time.perf_counter()
        if status.output_underflow:
            self.underflows += 1
        self._fill(outdata)
        self.longest_callback_s = max(self.longest_callback_s, time.perf_counter() - start)

    def start(self) -> None:
        """Start calling ``fill``."""
        self._stream.start()

    def close(self) -> None:
        """Stop and release the device (drains what PortAudio already holds)."""
        self._stream.close()


class NullOutput:
    """Consumes frames in real time without a device, so playback state still advances."""

    def __init__(self, rate: int, channels: int, fill: Fill, *, blocksize: int = 1024):
        self.rate, self.channels, self._fill = rate, channels, fill
        self.underflows = 0
        self.longest_callback_s = 0.0
        self._block = np.zeros((blocksize, channels), dtype=np.float32)
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the pacing thread."""
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="encore-null-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = len(self._block) / self.rate
        deadline = time.monotonic()
        while self._running.is_set():
            self._fill(self._block)
            deadline += period
            time.sleep(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Stop the pacing thread."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=2)
