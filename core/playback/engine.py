"""The playback engine: a decoder thread fills a frame ring that the output's callback drains.

The callback (PortAudio's real-time thread) only copies frames and scales them by the volume:
no decoding, no allocation, no locks. Everything slow happens on the decoder thread, which
takes commands (play, seek, stop) from a queue, asks ``next_item`` for the following track
when a file ends (so the next one starts without a gap), and keeps a list of segments that maps
ring positions back to "which track, how far in" for ``status()``.
"""

from __future__ import annotations

import itertools
import logging
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.audio.decode import probe
from core.errors import EncoreError, PlaybackError
from core.playback.outputs import NullOutput, PortAudioOutput, device_rate
from core.playback.ring import FrameRing
from core.playback.source import PlayItem, TrackSource

log = logging.getLogger("encore.playback")
NextItem = Callable[[], PlayItem | None]
END_NEVER = sys.maxsize
NULL_DEVICE = "null"


@dataclass(frozen=True)
class Segment:
    """Where a track (from ``offset_s`` on) begins in the ring."""

    serial: int
    start: int
    item: PlayItem
    offset_s: float


@dataclass(frozen=True)
class PlaybackStatus:
    """A snapshot for the UI.

    Attributes
    ----------
    state : str
        ``"stopped"``, ``"buffering"``, ``"playing"`` or ``"paused"``.
    serial : int
        Changes whenever a new track (or a replay of one) starts sounding; a seek keeps it, so
        a seek is never mistaken for a new play.
    """

    state: str
    item: PlayItem | None
    position_s: float
    serial: int
    underruns: int
    error: str | None


class PlaybackEngine:
    """Plays ``PlayItem`` objects on a sound device.

    Parameters
    ----------
    next_item : callable, optional
        Returns the track to play when one ends (called on the decoder thread), or ``None``.
    device : int or str, optional
        sounddevice output device; ``None`` for the default; ``"null"`` for no device (a paced
        null output). If a device cannot be opened the engine reports the error in
        ``status().error`` and plays into the null output.
    buffer_s : float
        Decoded audio held ahead of the device.
    prefill_s : float
        Audio buffered before a track (or a seek) starts sounding.
    """

    def __init__(self, *, next_item: NextItem | None = None, device: int | str | None = None,
                 buffer_s: float = 2.0, prefill_s: float = 0.3, channels: int = 2):
        self._next_item = next_item or (lambda: None)
        self._device, self._buffer_s, self._prefill_s = device, buffer_s, prefill_s
        self._channels = channels
        self._commands: queue.Queue[tuple] = queue.Queue()
        self._wake = threading.Event()
        self._output: PortAudioOutput | NullOutput | None = None
        self._ring = FrameRing(1, channels)
        self._segments: list[Segment] = []
        self._serials = itertools.count(1)
        self._serial = 0
        self._source: TrackSource | None = None
        self._frames = None
        # Shared with the callback: plain attributes, each written by one side only.
        self._paused = False
        self._ready = False
        self._end = END_NEVER
        self._volume = 1.0
        self.underruns = 0
        #: Output callbacks so far (diagnostics: the device keeps asking even while paused).
        self.fills = 0
        self.error: str | None = None
        #: Why the device would not open, while the engine plays into the null output instead
        #: ("" when it sounds, or is silent on purpose). Written by the decoder thread only.
        self.silent_reason = ""
        self._thread = threading.Thread(target=self._run, name="encore-decoder", daemon=True)
        self._thread.start()

    # -- public API (any thread) ------------------------------------------------------------
    def _command(self, command: tuple) -> None:
        self._commands.put(command)
        self._wake.set()  # cut short the decoder's wait for ring space

    def play(self, item: PlayItem, start_s: float = 0.0) -> None:
        """Play ``item`` now, replacing whatever plays."""
        self._paused = False
        self._command(("play", item, start_s))

    def seek(self, position_s: float) -> None:
        """Jump within the current track."""
        self._command(("seek", position_s))

    def stop(self) -> None:
        """Stop and forget the current track."""
        self._command(("stop",))

    def pause(self) -> None:
        """Hold the output (the device keeps running, silent)."""
        self._paused = True

    def resume(self) -> None:
        """Continue after ``pause``."""
        self._paused = False

    @property
    def volume(self) -> float:
        """Output volume, 0..1 (applied in the callback, so changes are heard at once)."""
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        self._volume = float(min(1.0, max(0.0, value)))

    def status(self) -> PlaybackStatus:
        """What plays and where."""
        ring, segments = self._ring, self._segments
        heard = max(ring.read_pos, ring.skip_to)
        current = next((s for s in reversed(segments) if s.start <= heard), None)
        if current is None or heard >= self._end:
            return PlaybackStatus("stopped", None, 0.0, current.serial if current else 0,
                                  self.underruns, self.error)
        position = current.offset_s + (heard - current.start) / self._rate()
        state = "paused" if self._paused else ("playing" if self._ready else "buffering")
        return PlaybackStatus(state, current.item, position, current.serial, self.underruns, self.error)

    @property
    def output_open(self) -> bool:
        """Whether a device (or the null output) is open; it is released when playback ends."""
        return self._output is not None

    @property
    def device_underflows(self) -> int:
        """Times the open device reported running dry (0 when none is open)."""
        return self._output.underflows if self._output is not None else 0

    @property
    def longest_callback_s(self) -> float:
        """Longest time the open device's callback took (0 when none is open)."""
        return self._output.longest_callback_s if self._output is not None else 0.0

    def close(self) -> None:
        """Stop playing and release the device."""
        self._command(("close",))
        self._thread.join(timeout=5)

    # -- the real-time callback -------------------------------------------------------------
    def _fill(self, out: np.ndarray) -> None:
        ring = self._ring
        self.fills += 1
        if self._paused or not self._ready:
            ring.read_into(out[:0])  # applies a pending skip, reads nothing
            out.fill(0)
            return
        count = ring.read_into(out)
        if count < len(out):
            out[count:] = 0
            if ring.read_pos < self._end:
                self.underruns += 1
        if self._volume != 1.0:
            out *= self._volume

    # -- decoder thread ---------------------------------------------------------------------
    def _rate(self) -> int:
        return self._output.rate if self._output is not None else 48000

    def _run(self) -> None:
        while True:
            try:
                command = self._commands.get(timeout=self._wait_s())
            except queue.Empty:
                if self._frames is not None:
                    self._decode_block()
                elif self.status().state == "stopped":
                    self._close_output()  # idle: release the device (and flush a capture file)
                continue
            if command[0] == "close":
                self._close_output()
                return
            self._handle(command)

    def _wait_s(self) -> float | None:
        """How long to wait for a command: not at all while decoding, a while until an open
        output has played out, forever when idle."""
        if self._frames is not None:
            return 0
        return 0.1 if self._output is not None else None

    def _handle(self, command: tuple) -> None:
        try:
            if command[0] == "play":
                self._start(command[1], command[2], gapless=False)
            elif command[0] == "seek" and self._source is not None:
                self._start(self._source.item, command[1], gapless=False, serial=self._serial)
            elif command[0] == "stop":
                self._flush()
                self._source, self._frames, self._end = None, None, self._ring.write_pos
        except EncoreError as exc:
            self._report(exc)

    def _flush(self) -> None:
        self._ready = False
        self._ring.discard()

    def _start(self, item: PlayItem, start_s: float, *, gapless: bool, serial: int | None = None) -> None:
        """Decode ``item`` from ``start_s``; ``serial`` is the current one for a seek, else new."""
        info = probe(item.path)  # once: the output's rate and the source both need it
        if not gapless:
            self._flush()
            self._ensure_output(info.samplerate)
        source = TrackSource(item, info, rate=self._output.rate, channels=self._channels,
                             start_s=start_s)
        self._source, self._frames = source, source.frames()
        self._end = END_NEVER
        self._serial = serial or next(self._serials)
        segment = Segment(self._serial, self._ring.write_pos, item, source.start_s)
        self._segments = [*self._segments[-7:], segment]

    def _ensure_output(self, rate: int) -> None:
        """Open the device at the file's rate (bit-exact when it accepts it), else its own rate."""
        if self._output is not None and self._output.rate == rate:
            return
        self._close_output()
        reason = ""
        try:
            self._output = self._open(rate)
        except PlaybackError:
            try:
                self._output = self._open(device_rate(self._device))
            except PlaybackError as exc:
                # e.g. a device another program holds: it is listed, but will not open
                self._report(exc)
                self._output = NullOutput(rate, self._channels, self._fill)
                reason = str(exc)
        self.silent_reason = reason
        self._ring = FrameRing(int(self._buffer_s * self._output.rate), self._channels)
        self._output.start()

    def _open(self, rate: int) -> PortAudioOutput | NullOutput:
        if self._device == NULL_DEVICE:
            return NullOutput(rate, self._channels, self._fill)
        return PortAudioOutput(rate, self._channels, self._fill, device=self._device)

    def _close_output(self) -> None:
        if self._output is not None:
            self._output.close()
            self._output = None

    def _decode_block(self) -> None:
        try:
            block = next(self._frames, None)
        except EncoreError as exc:
            self._report(exc)
            block = None
        if block is None:
            self._next_track()
            return
        written = 0
        while written < len(block):
            written += self._ring.write(block[written:])
            self._mark_ready()
            if written < len(block):
                if not self._commands.empty():
                    return  # a play/seek/stop makes the rest of this block stale
                # Sleep until the device has made room for the rest instead of polling; a new
                # command cuts the wait short.
                self._wake.wait(min(0.1, (len(block) - written) / self._rate()))
                self._wake.clear()

    def _mark_ready(self) -> None:
        if not self._ready and self._ring.buffered() >= self._prefill_s * self._rate():
            self._ready = True

    def _next_track(self) -> None:
        """End of file: continue with the next item in the same stream, or mark the end."""
        item = self._next_item()
        while item is not None:
            try:
                self._start(item, 0.0, gapless=True)
                return
            except EncoreError as exc:
                self._report(exc)
                item = self._next_item()
        self._ready = True  # a short last track may never reach the prefill amount
        self._source, self._frames, self._end = None, None, self._ring.write_pos

    def _report(self, exc: Exception) -> None:
        log.warning("playback: %s", exc)
        self.error = str(exc)
