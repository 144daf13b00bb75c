"""Hubness reduction: rescale a distance by how far each of its two tracks usually is from others.

In a high-dimensional space a few tracks ("hubs") are close to nearly everything and crowd every
top 5, while others ("anti-hubs") are nobody's neighbour. Judging a distance against each
track's own distance distribution fixes that: a pair is close when each is among the other's
closest, not merely close in absolute terms (Schnitzer et al., "Using mutual proximity to improve
content-based audio similarity", ISMIR 2011; Musly normalises this way).

The per-track statistics are computed once against a sample of the library (index time) and
stored with each track; at query time both functions are a few elementwise operations per
candidate. Every function broadcasts, so the same code scores one seed against candidates
(``(n,)`` arrays) and a whole matrix (``(n, 1)`` against ``(1, n)``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import ndtr

#: Neighbour whose distance sets a track's local scale (Musly and Schnitzer use 5..10).
SCALE_NEIGHBOUR = 7


class HubStats(NamedTuple):
    """Per-track statistics of distances to a library sample.

    Attributes
    ----------
    mean, std : np.ndarray [shape=(n,)]
        Mean and standard deviation of the track's distances to the sample.
    kth : np.ndarray [shape=(n,)]
        Its distance to its ``k``-th nearest sample track.
    """

    mean: np.ndarray
    std: np.ndarray
    kth: np.ndarray


def library_stats(distances: np.ndarray, *, k: int = SCALE_NEIGHBOUR) -> HubStats:
    """Statistics of each track's distances to a sample of the library.

    Parameters
    ----------
    distances : np.ndarray [shape=(n, m)]
        Distances of ``n`` tracks to ``m`` sample tracks; a track's distance to itself (if the
        sample holds it) must be ``np.nan``, so that it is left out.
    k : int
        Which neighbour sets the local scale (capped by the sample size).

    Returns
    -------
    HubStats

    Raises
    ------
    ValueError
        If a row has no finite distance.
    """
    distances = np.asarray(distances, dtype=np.float64)
    valid = np.isfinite(distances)
    counts = valid.sum(axis=1)
    if distances.ndim != 2 or (counts == 0).any():
        raise ValueError("every track needs at least one finite distance to the sample")
    mean = np.nanmean(np.where(valid, distances, np.nan), axis=1)
    std = np.nanstd(np.where(valid, distances, np.nan), axis=1)
    ordered = np.sort(np.where(valid, distances, np.inf), axis=1)
    kth = ordered[np.arange(len(ordered)), np.minimum(k, counts) - 1]
    return HubStats(mean, np.maximum(std, 1e-12), np.maximum(kth, 1e-12))


def mutual_proximity(distance: np.ndarray, a_mean, a_std, b_mean, b_std) -> np.ndarray:
    """Mutual proximity (Gaussian, independence form): a similarity in [0, 1].

    ``P(X_a > d) * P(X_b > d)``, where ``X_t`` is normal with track ``t``'s distance mean and
    standard deviation: the chance that a random track is farther from *both* than they are
    from each other.

    Parameters
    ----------
    distance : np.ndarray
        Distances between tracks ``a`` and ``b`` (any shape).
    a_mean, a_std, b_mean, b_std : np.ndarray or float
        ``HubStats`` fields of the two sides, broadcastable to ``distance``.

    Returns
    -------
    np.ndarray
        Same shape as ``distance``; larger is closer.
    """
    return ndtr((a_mean - distance) / a_std) * ndtr((b_mean - distance) / b_std)


def local_scaling(distance: np.ndarray, a_kth, b_kth) -> np.ndarray:
    """Local scaling (Zelnik-Manor & Perona): ``exp(-d^2 / (s_a * s_b))``, a similarity in (0, 1].

    Parameters
    ----------
    distance : np.ndarray
        Distances between tracks ``a`` and ``b`` (any shape).
    a_kth, b_kth : np.ndarray or float
        The two sides' ``HubStats.kth``, broadcastable to ``distance``.

    Returns
    -------
    np.ndarray
        Same shape as ``distance``; larger is closer.
    """
    return np.exp(-np.square(distance) / (a_kth * b_kth))


def matrix_similarity(distances: np.ndarray, method: str, *, k: int = SCALE_NEIGHBOUR) -> np.ndarray:
    """Hubness-reduced similarity of every pair of a library (benchmarks, index-time checks).

    Parameters
    ----------
    distances : np.ndarray [shape=(n, n)]
        Symmetric distances.
    method : {"mp", "ls"}
        Mutual proximity or local scaling.
    k : int
        Local-scaling neighbour.

    Returns
    -------
    np.ndarray [shape=(n, n)]
        Larger is closer.
    """
    off = distances.astype(np.float64).copy()
    np.fill_diagonal(off, np.nan)
    stats = library_stats(off, k=k)
    col = {name: value[:, None] for name, value in stats._asdict().items()}
    row = {name: value[None, :] for name, value in stats._asdict().items()}
    if method == "mp":
        return mutual_proximity(distances, col["mean"], col["std"], row["mean"], row["std"])
    if method == "ls":
        return local_scaling(distances, col["kth"], row["kth"])
    raise ValueError(f"unknown hubness method {method!r} (use 'mp' or 'ls')")
