"""Block-level descriptors of a track's mel spectrogram, measured as levers in ``bench/quality.py``.

After Pampalk (fluctuation patterns, as in his G1C measure) and Seyerlehner (block-level
features, MIREX 2010-2011): each describes a track by statistics over short blocks of its mel
spectrogram (dB) instead of over single frames. None of them is part of the import: they are
measured here against the shipped scorer, on the same tracks.
"""

from __future__ import annotations

import itertools

import numpy as np

from core.features import spectral
from core.features.extract import HOP, N_MFCC, SR
from core.similarity import timbre_gauss


def bands(mel_db: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``n`` equal groups of adjacent mel bands, per frame.

    Returns
    -------
    np.ndarray [shape=(n, t)]
    """
    edges = np.linspace(0, mel_db.shape[0], n + 1).astype(int)
    return np.vstack([mel_db[a:b].mean(axis=0) for a, b in itertools.pairwise(edges)])


def _blocks(values: np.ndarray, size: int, hop: int) -> list[np.ndarray]:
    """Blocks of ``size`` frames every ``hop`` frames (one padded block for a short track)."""
    if values.shape[1] < size:
        values = np.pad(values, ((0, 0), (0, size - values.shape[1])), mode="edge")
    return [values[:, s:s + size] for s in range(0, values.shape[1] - size + 1, hop)]


def fluctuation(mel_db: np.ndarray, *, n_bands: int = 12, block: int = 128,
                n_mod: int = 30) -> np.ndarray:
    """Pampalk's fluctuation pattern: per band, the amplitude-modulation spectrum up to ~10 Hz
    over 3 s blocks, weighted by how strongly fluctuations are felt (peak at 4 Hz), median over
    blocks.

    Returns
    -------
    np.ndarray [shape=(n_bands * n_mod,)]
    """
    freqs = np.arange(1, n_mod + 1) * (SR / HOP) / block
    weight = 1 / (freqs / 4 + 4 / freqs)
    window = np.hanning(block)
    spectra = [np.abs(np.fft.rfft((b - b.mean(axis=1, keepdims=True)) * window, axis=1))
               [:, 1:n_mod + 1] * weight for b in _blocks(bands(mel_db, n_bands), block, block // 2)]
    return np.median(spectra, axis=0).ravel()


def spectral_pattern(mel_db: np.ndarray, *, n_bands: int = 32, block: int = 10,
                     percentile: float = 90) -> np.ndarray:
    """Seyerlehner's spectral pattern: each band's values sorted within 10-frame blocks, the
    90th percentile over blocks (timbre with its short-time texture).

    Returns
    -------
    np.ndarray [shape=(n_bands * block,)]
    """
    sorted_blocks = [np.sort(b, axis=1) for b in _blocks(bands(mel_db, n_bands), block, block // 2)]
    return np.percentile(sorted_blocks, percentile, axis=0).ravel()


def correlation_pattern(mel_db: np.ndarray, *, n_bands: int = 16, block: int = 256) -> np.ndarray:
    """Seyerlehner's correlation pattern: correlation of band loudness over 6 s blocks (which
    bands move together), median over blocks.

    Returns
    -------
    np.ndarray [shape=(n_bands * (n_bands - 1) / 2,)]
    """
    upper = np.triu_indices(n_bands, 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a silent band has no correlation
        corr = [np.nan_to_num(np.corrcoef(b)[upper])
                for b in _blocks(bands(mel_db, n_bands), block, block // 2)]
    return np.median(corr, axis=0)


def delta_gaussian(mel_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian over frame MFCC together with their frame-to-frame changes (``timbre_gauss.fit``)."""
    mfcc = spectral.mfcc(mel_db, n_mfcc=N_MFCC)
    return timbre_gauss.fit(np.vstack([mfcc[:, 1:], np.diff(mfcc, axis=1)]).T)


def all_patterns(mel_db: np.ndarray) -> dict[str, np.ndarray]:
    """Every descriptor of one track, for the benchmark's cache."""
    mean, cov = delta_gaussian(mel_db)
    return {"fluctuation": fluctuation(mel_db), "spectral_pattern": spectral_pattern(mel_db),
            "correlation_pattern": correlation_pattern(mel_db), "delta_mean": mean,
            "delta_cov": cov}
