"""Short rhythm and loudness-contour profiles of a track, from per-frame descriptors.

Both are fixed-length vectors that a Euclidean distance compares: the rhythm profile is the
shape of the onset envelope's autocorrelation on a logarithmic lag axis (how strongly the track
repeats at each period, tempo and metre together); the loudness profile is the distribution of
the track's slowly varying level (quantiles of the smoothed energy coefficient) and how fast it
moves.
"""

from __future__ import annotations

import itertools

import numpy as np

#: Frames per second of the import's STFT (22.05 kHz, hop 512).
FRAME_RATE = 22050 / 512
RHYTHM_BINS = 24
LOUDNESS_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def rhythm(onset: np.ndarray, *, low_s: float = 0.1, high_s: float = 4.0) -> np.ndarray:
    """Autocorrelation of the onset envelope, peak per log-spaced lag bin, relative to lag 0.

    Parameters
    ----------
    onset : np.ndarray [shape=(t,)]
        Onset strength per frame.
    low_s, high_s : float
        Shortest and longest period described, in seconds.

    Returns
    -------
    np.ndarray [shape=(RHYTHM_BINS,)]
        In [-1, 1]; zeros for a track too short or without onsets.
    """
    onset = np.asarray(onset, dtype=np.float64)
    edges = np.unique(np.geomspace(low_s, high_s, RHYTHM_BINS + 1) * FRAME_RATE).astype(int)
    centred = onset - onset.mean()
    size = int(edges[-1]) + 1
    if centred.size < 2 * size or not centred.any():
        return np.zeros(RHYTHM_BINS)
    spectrum = np.fft.rfft(centred, 2 * centred.size)
    ac = np.fft.irfft(np.abs(spectrum) ** 2)[:size]
    peaks = [ac[a:max(b, a + 1)].max() for a, b in itertools.pairwise(edges)]
    out = np.zeros(RHYTHM_BINS)
    out[: len(peaks)] = np.asarray(peaks) / ac[0]
    return out


def loudness(energy: np.ndarray, *, smooth_s: float = 1.0) -> np.ndarray:
    """Quantiles of the smoothed per-frame energy and the mean size of its changes.

    Parameters
    ----------
    energy : np.ndarray [shape=(t,)]
        A log-energy per frame (e.g. the 0th MFCC).
    smooth_s : float
        Moving-average window, in seconds.

    Returns
    -------
    np.ndarray [shape=(len(LOUDNESS_QUANTILES) + 1,)]
    """
    energy = np.asarray(energy, dtype=np.float64)
    width = max(1, min(int(smooth_s * FRAME_RATE), energy.size))
    smooth = np.convolve(energy, np.ones(width) / width, mode="valid")
    step = np.abs(np.diff(smooth[::width])).mean() if smooth.size > width else 0.0
    return np.append(np.quantile(smooth, LOUDNESS_QUANTILES), step)
