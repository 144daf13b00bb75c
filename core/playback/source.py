"""One track's frames as the output wants them: decoded block by block, at the output's rate and
channel count, with the track's ReplayGain applied. Runs on the decoder thread only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.audio import decode

BLOCK = 4096


@dataclass(frozen=True)
class PlayItem:
    """A track to play.

    Attributes
    ----------
    gain : float
        Linear factor applied to every sample (ReplayGain, see ``replaygain_factor``).
    """

    track_id: str
    path: str
    title: str = ""
    artist: str = ""
    album: str = ""
    duration_s: float = 0.0
    gain: float = 1.0


def replaygain_factor(track_gain_db: float, peak: float, *, preamp_db: float = 0.0) -> float:
    """Linear ReplayGain factor with clipping prevention.

    Parameters
    ----------
    track_gain_db : float
        Stored track gain (ReplayGain 2.0, dB).
    peak : float
        Stored track peak (linear, 1.0 = full scale); ``0`` when unknown.
    preamp_db : float
        Extra gain the user chose.

    Returns
    -------
    float
        ``10 ** (gain / 20)``, lowered so that ``peak * factor <= 1``.
    """
    factor = 10 ** ((track_gain_db + preamp_db) / 20)
    if peak > 0:
        factor = min(factor, 1.0 / peak)
    return factor


def fit_channels(block: np.ndarray, channels: int) -> np.ndarray:
    """Map ``block [shape=(n, c)]`` to ``channels``: mono is copied to every channel, more
    channels than the output keep the front pair, a mono output gets the mean."""
    have = block.shape[1]
    if have == channels:
        return block
    if have == 1:
        return np.repeat(block, channels, axis=1)
    if channels == 1:
        return block.mean(axis=1, keepdims=True)
    return block[:, :channels]


class TrackSource:
    """Frames of ``item`` (probed as ``info``) from ``start_s``, converted for an output.

    Raises
    ------
    DecodeError
        If the file cannot be opened as audio.
    """

    def __init__(self, item: PlayItem, info: decode.AudioInfo, *, rate: int, channels: int,
                 start_s: float = 0.0):
        self.item = item
        self.start_s = min(max(0.0, start_s), info.duration_s)
        self._blocks = decode.blocks(item.path, blocksize=BLOCK,
                                     start=round(self.start_s * info.samplerate))
        self._rate, self._channels = rate, channels
        self._resampler = None
        if info.samplerate != rate:
            import soxr  # librosa's resampler; streaming, so blocks join without clicks

            self._resampler = soxr.ResampleStream(info.samplerate, rate, channels, dtype="float32")

    def frames(self) -> Iterator[np.ndarray]:
        """Converted blocks until the end of the file."""
        gain = np.float32(self.item.gain)
        for block in self._blocks:
            out = fit_channels(block, self._channels)
            if self._resampler is not None:
                out = self._resampler.resample_chunk(np.ascontiguousarray(out), last=False)
            yield out * gain if gain != 1 else out
        if self._resampler is not None:
            tail = self._resampler.resample_chunk(np.zeros((0, self._channels), np.float32), last=True)
            yield tail * gain
