"""The few librosa building blocks the features use, in numpy and scipy.fft.

Importing librosa costs an analysis process about 130 MB of resident memory and a second of
start-up (numba, scipy.stats); the features need only these pieces, which give librosa's numbers
(``tests/test_features_spectral.py`` compares them with librosa itself).
"""

from __future__ import annotations

import numpy as np
import scipy.fft


def fft_frequencies(*, sr: int, n_fft: int) -> np.ndarray:
    """Centre frequency of each FFT bin, ``np.ndarray [shape=(1 + n_fft // 2,)]`` (as librosa)."""
    return np.fft.rfftfreq(n=n_fft, d=1.0 / sr)


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asanyarray(hz, dtype=float)
    mels = hz / (200.0 / 3)
    log_step = np.log(6.4) / 27.0
    above = hz >= 1000.0
    return np.where(above, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / log_step, mels)


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    log_step = np.log(6.4) / 27.0
    return np.where(mels >= 15.0, 1000.0 * np.exp(log_step * (mels - 15.0)), mels * (200.0 / 3))


def mel_filters(*, sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Slaney-normalised triangular mel filters, as ``librosa.filters.mel`` with its defaults.

    Returns
    -------
    np.ndarray [shape=(n_mels, 1 + n_fft // 2), dtype=float32]
    """
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2.0), n_mels + 2))
    ramps = np.subtract.outer(mel_f, fft_frequencies(sr=sr, n_fft=n_fft))
    fdiff = np.diff(mel_f)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    # Slaney: about constant energy per band
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


class BandedRows:
    """A filter bank whose rows are zero outside a short run of bins, for ``bank @ spectrum``.

    Each mel filter covers two neighbouring bands only, so the dense product spends most of its
    work on zeros (about 40 % of the feature stage's matrix time). Groups of a few rows are
    multiplied over only the bins that group covers: the same sums, a fifth of the work.

    Parameters
    ----------
    weights : np.ndarray [shape=(n_rows, n_bins)]
        The dense bank, as ``mel_filters`` returns it.
    rows_per_group : int
        Rows multiplied together; 4 was the fastest on 64 mel filters of 1025 bins.
    """

    def __init__(self, weights: np.ndarray, rows_per_group: int = 4):
        self.shape = weights.shape
        self.dtype = weights.dtype
        self._groups = []
        for start in range(0, weights.shape[0], rows_per_group):
            rows = weights[start : start + rows_per_group]
            used = np.flatnonzero(rows.any(axis=0))
            if used.size:
                bins = slice(used[0], used[-1] + 1)
                self._groups.append((slice(start, start + rows_per_group), bins,
                                     np.ascontiguousarray(rows[:, bins].T)))

    def __matmul__(self, spectrum: np.ndarray) -> np.ndarray:
        """``weights @ spectrum`` for ``spectrum`` of shape ``(n_bins, t)``.

        Computed as ``(spectrum.T @ weights.T).T``: the STFT's frames are its rows in memory,
        and BLAS runs faster over them in that order.
        """
        out = np.zeros((spectrum.shape[1], self.shape[0]),
                       dtype=np.result_type(self.dtype, spectrum.dtype))
        for rows, bins, weights in self._groups:
            np.matmul(spectrum[bins].T, weights, out=out[:, rows])
        return out.T


def chroma_filters(*, sr: int, n_fft: int, n_chroma: int = 12, ctroct: float = 5.0,
                   octwidth: float = 2.0) -> np.ndarray:
    """Chroma filter bank, as ``librosa.filters.chroma`` with its defaults and ``tuning=0``.

    Returns
    -------
    np.ndarray [shape=(n_chroma, 1 + n_fft // 2), dtype=float32]
    """
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    bins = n_chroma * np.log2(frequencies / (440.0 / 16))
    # the 0 Hz bin: 1.5 octaves below bin 1, so broad and half a turn away
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))
    widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1]))
    distance = np.subtract.outer(bins, np.arange(0, n_chroma, dtype="d")).T
    half = np.round(float(n_chroma) / 2)
    distance = np.remainder(distance + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * distance / np.tile(widths, (n_chroma, 1))) ** 2)
    weights /= np.linalg.norm(weights, axis=0, keepdims=True)
    weights *= np.exp(-0.5 * (((bins / n_chroma - ctroct) / octwidth) ** 2))
    weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)  # start at C
    return np.ascontiguousarray(weights[:, : 1 + n_fft // 2], dtype=np.float32)


def stft_magnitude(samples: np.ndarray, *, n_fft: int, hop: int) -> np.ndarray:
    """Magnitude of Hann-windowed frames, as ``np.abs(librosa.stft(center=False))``.

    Parameters
    ----------
    samples : np.ndarray [shape=(n_fft + (t - 1) * hop,), dtype=float32]
        Exactly ``t`` frames' worth of samples.

    Returns
    -------
    np.ndarray [shape=(1 + n_fft // 2, t), dtype=float32]
    """
    frames = np.lib.stride_tricks.sliding_window_view(samples, n_fft)[::hop]
    spectrum = scipy.fft.rfft(frames * _hann(n_fft), axis=1)
    return np.abs(spectrum).T


_WINDOWS: dict[int, np.ndarray] = {}


def _hann(n: int) -> np.ndarray:
    """Periodic Hann window (``scipy.signal.get_window("hann", n)``), float32."""
    if n not in _WINDOWS:
        _WINDOWS[n] = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)
    return _WINDOWS[n]


def mfcc(mel_db: np.ndarray, *, n_mfcc: int) -> np.ndarray:
    """Orthonormal DCT-II of log-mel frames, as ``librosa.feature.mfcc(S=mel_db)``.

    Returns
    -------
    np.ndarray [shape=(n_mfcc, t)]
    """
    return scipy.fft.dct(mel_db, axis=0, type=2, norm="ortho")[:n_mfcc]


def onset_strength(mel_db: np.ndarray, *, n_fft: int, hop: int) -> np.ndarray:
    """Mean positive log-mel flux per frame, as ``librosa.onset.onset_strength(S=mel_db)``.

    Returns
    -------
    np.ndarray [shape=(t,)]
        Centred like librosa: padded by ``1 + n_fft // (2 * hop)`` frames at the start.
    """
    flux = np.maximum(0.0, mel_db[:, 1:] - mel_db[:, :-1]).mean(axis=0)
    padded = np.pad(flux, (1 + n_fft // (2 * hop), 0), mode="constant")
    return padded[: mel_db.shape[1]]


def autocorrelate(y: np.ndarray, *, max_size: int) -> np.ndarray:
    """Linear autocorrelation for lags ``0 .. max_size - 1``, through the FFT (as librosa)."""
    n_pad = scipy.fft.next_fast_len(2 * y.size - 1, real=True)
    power = np.abs(scipy.fft.rfft(y, n=n_pad)) ** 2
    return scipy.fft.irfft(power, n=n_pad)[:max_size]
