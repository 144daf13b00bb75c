"""A track's stereo image: how wide, how correlated and how balanced its mix is, per band.

Tracks of one album share a mix as much as a timbre: instruments panned the same way, the same
reverb width, the same mono bass. Per frequency band the image is three numbers over the whole
track: the side-to-mid energy ratio (width, dB), the correlation of the two channels, and the
left-to-right energy ratio (balance, dB). They come from short spectra of both channels taken
every half second at the file's own rate, so they cost a few FFTs per second of audio
(``bench/quality.py`` measured the component; ``core.similarity.audio_score`` blends it).
"""

from __future__ import annotations

import numpy as np
import scipy.fft

#: Samples per spectrum at 44.1 kHz, and spectra per second of audio. Other rates use the power
#: of two nearest the same duration, so bins lie ~11 Hz apart at any rate and the lowest band
#: always holds one (48 kHz and 32 kHz keep 4096, 96 kHz takes 8192, 22.05 kHz 2048).
N_FFT = 4096
FRAMES_PER_S = 2
#: Band edges in Hz: 24 bands spaced evenly in log frequency.
EDGES = np.geomspace(50.0, 18000.0, 25)
N_BANDS = len(EDGES) - 1
#: Width, correlation and balance per band.
SIZE = 3 * N_BANDS
#: Width below this is "mono" (a mono file's side is only rounding noise).
SIDE_FLOOR_DB = -40.0
#: Energy, relative to the track's total, that keeps an empty band's ratios finite.
_RELATIVE_FLOOR = 1e-9
#: Spectra transformed at once.
_BATCH = 32
#: The bands that describe a mix's width to a listener: 100 Hz to 8.6 kHz, where music has
#: content (a lossy file's empty top bands read as wide, and many mixes keep the bass mono).
_WIDTH_BANDS = slice(int(np.searchsorted(EDGES, 100.0)), int(np.searchsorted(EDGES, 8000.0)))


def width_db(image: np.ndarray) -> float:
    """A mix's width in one number: the median side-to-mid energy of its ``_WIDTH_BANDS``.

    Parameters
    ----------
    image : np.ndarray [shape=(SIZE,)]
        A ``StereoImage.result``.

    Returns
    -------
    float
        dB, from ``SIDE_FLOOR_DB`` (mono) up; around -5 for most stereo mixes.
    """
    return round(float(np.median(np.asarray(image)[:N_BANDS][_WIDTH_BANDS])), 1)


def spectrum_size(sr: int) -> int:
    """Samples per spectrum at rate ``sr``: the power of two nearest ``N_FFT`` at 44.1 kHz."""
    return 1 << max(8, round(np.log2(N_FFT * sr / 44100)))


class StereoImage:
    """Streaming stereo image: feed blocks of the decoded file, then read ``result()``.

    Spectra of ``spectrum_size(sr)`` samples start every ``1 / FRAMES_PER_S`` s from the first
    sample; one that spans two blocks is completed from the next. Mono files use their one
    channel as both sides; files with more than two channels use the first two (front left and
    right). A band above the file's Nyquist frequency, or without energy, reads as width 0 dB,
    correlation 0 and balance 0 dB, as in a lossy file's empty top bands.

    Parameters
    ----------
    sr : int
        The file's sample rate: it sets the spectrum size and the hop.
    channels : int
        Columns of every block (1 for mono).
    """

    def __init__(self, sr: int, channels: int):
        self._size = spectrum_size(sr)
        self._hop = max(self._size, sr // FRAMES_PER_S)
        self._pair = (0, min(1, channels - 1))
        self._seen = 0  # input frames fed so far
        self._next = 0  # where the next spectrum starts
        self._partial: np.ndarray | None = None  # a spectrum's first samples, from the last block
        self._batch = np.empty((_BATCH, 2, self._size), dtype=np.float32)  # spectra to transform
        self._count = 0
        freqs = np.fft.rfftfreq(self._size, 1 / sr)
        band = np.searchsorted(EDGES, freqs, side="right") - 1
        # bins by bands, 0/1: the spectra's band sums are one product at the end
        self._bands = (band[:, None] == np.arange(N_BANDS)).astype(np.float64)
        self._window = np.hanning(self._size).astype(np.float32)
        self._sums = np.zeros((3, len(freqs)))  # left power, right power, cross power

    def feed(self, block: np.ndarray) -> None:
        """Add the next samples, ``np.ndarray [shape=(n, channels)]``."""
        start, n = self._seen, len(block)
        self._seen += n
        if self._partial is not None:
            need = self._size - len(self._partial)
            self._partial = np.concatenate([self._partial, block[:need, self._pair]])
            if len(self._partial) < self._size:
                return
            self._take(self._partial, (0, 1))  # already the pair
            self._partial = None
        first = self._next - start
        while first < n:
            if first + self._size <= n:
                self._take(block[first : first + self._size], self._pair)
            else:
                self._partial = block[first:, self._pair].copy()
            first += self._hop
        self._next = start + first

    def _take(self, frame: np.ndarray, columns: tuple[int, int]) -> None:
        """Queue one spectrum's samples: a spectrum's frames, left and right in ``columns``."""
        for side, column in enumerate(columns):
            self._batch[self._count, side] = frame[:, column]
        self._count += 1
        if self._count == _BATCH:
            self._transform()

    def _transform(self) -> None:
        if not self._count:
            return
        frames = self._batch[: self._count]
        frames *= self._window
        self._count = 0
        spectra = scipy.fft.rfft(frames, axis=-1)
        # real and imaginary parts side by side: power and cross products are dot products
        parts = spectra.view(np.float32).reshape(len(spectra), 2, -1)
        power = np.einsum("fcb,fcb->cb", parts, parts).reshape(2, -1, 2).sum(-1)
        cross = np.einsum("fb,fb->b", parts[:, 0], parts[:, 1]).reshape(-1, 2).sum(-1)
        self._sums += np.vstack([power, cross])

    def result(self) -> np.ndarray:
        """The image of everything fed.

        Returns
        -------
        np.ndarray [shape=(SIZE,), dtype=float32]
            Width (side/mid energy, dB, floored at ``SIDE_FLOOR_DB``) per band, then channel
            correlation per band, then balance (left/right energy, dB) per band. A file too
            short for one spectrum reads as mono.
        """
        self._transform()
        left, right, cross = self._sums @ self._bands
        floor = _RELATIVE_FLOOR * (left + right).sum()
        if floor == 0:  # silence, or shorter than one spectrum: a centred mono image
            return np.concatenate([np.full(N_BANDS, SIDE_FLOOR_DB), np.ones(N_BANDS),
                                   np.zeros(N_BANDS)]).astype(np.float32)
        side = np.maximum(left + right - 2 * cross, 0)  # |L - R|^2, rounding kept non-negative
        width = 10 * np.log10((side + floor) / (left + right + 2 * cross + floor))
        correlation = cross / np.sqrt(left * right + floor * floor)
        balance = 10 * np.log10((left + floor) / (right + floor))
        return np.concatenate([np.maximum(width, SIDE_FLOOR_DB), correlation,
                               balance]).astype(np.float32)
