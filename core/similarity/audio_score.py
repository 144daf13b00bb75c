"""Audio-only similarity of one track with many: shingles blended with hubness-scaled distances.

Three distances beside the shingle Jaccard, each turned into a similarity by local scaling
(``hubness.local_scaling``: a distance counts relative to how far each of the two tracks' own
``k``-th nearest neighbour is), then blended with fixed weights:

- ``cosine``: timbre-vector cosine distance, ``(1 - cos) / 2``, vectors standardised with the
  library's statistics (``pool.timbre_of``);
- ``timbre``: Jensen-Shannon divergence of the two tracks' Gaussians over STFT-frame MFCC
  (``timbre_gauss``; Musly's timbre model);
- ``loudness``: Euclidean distance of library-standardised loudness-contour profiles
  (``profiles.loudness`` of the 0th MFCC).

The weights were chosen on the real soundtracks (``bench/quality.py``) and are the ones the
leave-one-package-out split chose in four of five folds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.similarity import hubness, timbre_gauss

#: Blend weights: shingle Jaccard, then the three locally scaled components.
WEIGHTS = {"jaccard": 0.1, "cosine": 0.4, "timbre": 0.3, "loudness": 0.2}
COMPONENTS = ("cosine", "timbre", "loudness")


@dataclass(frozen=True)
class AudioModels:
    """Per-track inputs of the scaled components, for ``n`` tracks.

    Attributes
    ----------
    timbre : np.ndarray [shape=(n, d)]
        Unit-length standardised timbre vectors (``pool.timbre_of``).
    gauss : timbre_gauss.Gaussians
        Frame-MFCC Gaussians.
    loudness : np.ndarray [shape=(n, p)]
        Loudness profiles standardised with the library's mean and deviation.
    """

    timbre: np.ndarray
    gauss: timbre_gauss.Gaussians
    loudness: np.ndarray

    def __len__(self) -> int:
        return len(self.timbre)

    def __getitem__(self, index) -> AudioModels:
        """A subset of the tracks (an int keeps a leading axis of one)."""
        return timbre_gauss.take_rows(self, index)


def component_distances(ref: AudioModels, others: AudioModels) -> np.ndarray:
    """Distances of one track to many, per component.

    Parameters
    ----------
    ref : AudioModels
        One track (``len(ref) == 1``).
    others : AudioModels
        ``n`` tracks.

    Returns
    -------
    np.ndarray [shape=(n, 3)]
        Columns in ``COMPONENTS`` order; 0 for an identical track.
    """
    cosine = (1 - others.timbre @ ref.timbre[0]) / 2
    timbre = timbre_gauss.jensen_shannon(ref.gauss, others.gauss)
    loudness = np.linalg.norm(others.loudness - ref.loudness[0], axis=1)
    return np.column_stack([cosine, timbre, loudness])


def neighbour_scales(distances: np.ndarray, *, k: int = hubness.SCALE_NEIGHBOUR) -> np.ndarray:
    """Each track's ``k``-th nearest-neighbour distance per component (index time).

    Parameters
    ----------
    distances : np.ndarray [shape=(n, m, 3)]
        ``component_distances`` of ``n`` tracks to ``m`` others (the library, or the track's
        candidate pool on a large one); a track's distance to itself must be ``np.nan``.
    k : int
        Neighbour rank.

    Returns
    -------
    np.ndarray [shape=(n, 3)]
        Store one row with each track.
    """
    return np.column_stack([hubness.library_stats(distances[:, :, c], k=k).kth
                            for c in range(distances.shape[2])])


def score(jaccard: np.ndarray, distances: np.ndarray, ref_scale: np.ndarray,
          scales: np.ndarray, *, weights: dict[str, float] = WEIGHTS) -> np.ndarray:
    """Blended similarity of many candidates with one reference track.

    Parameters
    ----------
    jaccard : np.ndarray [shape=(n,)]
        Shingle Jaccard with the reference (``Pool.jaccard``).
    distances : np.ndarray [shape=(n, 3)]
        ``component_distances`` to the reference.
    ref_scale : np.ndarray [shape=(3,)]
        The reference's ``neighbour_scales`` row.
    scales : np.ndarray [shape=(n, 3)]
        The candidates' rows.
    weights : dict
        ``WEIGHTS``.

    Returns
    -------
    np.ndarray [shape=(n,)]
        In [0, 1]; larger is closer.
    """
    scaled = hubness.local_scaling(distances, ref_scale[None, :], scales)
    blend = np.array([weights[name] for name in COMPONENTS])
    return weights["jaccard"] * jaccard + scaled @ blend
