"""Audio-only similarity of one track with many: shingles blended with hubness-scaled distances.

Four distances beside the shingle Jaccard, each turned into a similarity by local scaling
(``hubness.local_scaling``: a distance counts relative to how far each of the two tracks' own
``k``-th nearest neighbour is), then blended with fixed weights:

- ``cosine``: timbre-vector cosine distance, ``(1 - cos) / 2``, vectors standardised with the
  library's statistics (``pool.timbre_of``);
- ``timbre``: Jensen-Shannon divergence of the two tracks' Gaussians over STFT-frame MFCC
  (``timbre_gauss``; Musly's timbre model);
- ``loudness``: Euclidean distance of library-standardised loudness-contour profiles
  (``profiles.loudness`` of the 0th MFCC);
- ``stereo``: Euclidean distance of library-standardised stereo images (width, channel
  correlation and balance per band, ``core.features.stereo``).

The weights are the ones ``bench/quality.py``'s leave-one-package-out split chose on the real
soundtracks with tags stripped: the first four on a 0.05 grid (chosen on four packages' seeds, in
four of five folds), then the stereo image's share of the blend (0.25: the in-sample choice; the
five folds chose 0.25-0.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.similarity import hubness, timbre_gauss
from core.similarity.clustering import REFIT_GROWTH

#: Blend weights: shingle Jaccard, then the locally scaled components. The stereo image takes
#: 0.25 of the blend; the other four keep their proportions (0.35, 0.25, 0.2, 0.2).
WEIGHTS = {"jaccard": 0.2625, "cosine": 0.1875, "timbre": 0.15, "loudness": 0.15, "stereo": 0.25}
COMPONENTS = ("cosine", "timbre", "loudness", "stereo")
#: Per-track vectors compared after standardising with the library's statistics: the name in the
#: index's ``audio`` field and the ``features`` field they are computed from.
PROFILES = {"loudness": "loudness_profile", "stereo": "stereo_image"}
#: The ``features`` fields the per-track models are built from.
_MODEL_FEATURES = ("timbre_gauss", *PROFILES.values())
#: Tracks the index compares every track with to set its neighbour scales (Musly's style sample).
SCALE_SAMPLE = 1000
#: What the index reads of a track to build its models.
MODEL_FIELDS = {"features.vector": 1, **{f"features.{field}": 1 for field in _MODEL_FEATURES}}


@dataclass(frozen=True)
class AudioModels:
    """Per-track inputs of the scaled components, for ``n`` tracks.

    Attributes
    ----------
    timbre : np.ndarray [shape=(n, d)]
        Unit-length standardised timbre vectors (``pool.timbre_of``).
    gauss : timbre_gauss.Gaussians
        Frame-MFCC Gaussians.
    loudness : np.ndarray [shape=(n, 6)]
        Loudness profiles standardised with the library's mean and deviation.
    stereo : np.ndarray [shape=(n, stereo.SIZE)]
        Stereo images standardised the same way.
    """

    timbre: np.ndarray
    gauss: timbre_gauss.Gaussians
    loudness: np.ndarray
    stereo: np.ndarray

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
    np.ndarray [shape=(n, 4)]
        Columns in ``COMPONENTS`` order; 0 for an identical track.
    """
    cosine = (1 - others.timbre @ ref.timbre[0]) / 2
    timbre = timbre_gauss.jensen_shannon(ref.gauss, others.gauss)
    loudness = np.linalg.norm(others.loudness - ref.loudness[0], axis=1)
    stereo = np.linalg.norm(others.stereo - ref.stereo[0], axis=1)
    return np.column_stack([cosine, timbre, loudness, stereo])


def neighbour_scales(distances: np.ndarray, *, k: int = hubness.SCALE_NEIGHBOUR) -> np.ndarray:
    """Each track's ``k``-th nearest-neighbour distance per component (index time).

    Parameters
    ----------
    distances : np.ndarray [shape=(n, m, len(COMPONENTS))]
        ``component_distances`` of ``n`` tracks to ``m`` others (the library, or the track's
        candidate pool on a large one); a track's distance to itself must be ``np.nan``.
    k : int
        Neighbour rank.

    Returns
    -------
    np.ndarray [shape=(n, len(COMPONENTS))]
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
    distances : np.ndarray [shape=(n, len(COMPONENTS))]
        ``component_distances`` to the reference.
    ref_scale : np.ndarray [shape=(len(COMPONENTS),)]
        The reference's ``neighbour_scales`` row.
    scales : np.ndarray [shape=(n, len(COMPONENTS))]
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


#: Tracks the models are built for: those analysed by an extractor that computes all of them.
MODELS_QUERY = {f"features.{field}": {"$exists": True} for field in _MODEL_FEATURES}


def raw_profiles(docs: list[dict], name: str) -> np.ndarray:
    """One profile of analysed tracks, as the extractor stored it (``PROFILES[name]``).

    Returns
    -------
    np.ndarray [shape=(n, p)]
    """
    field = PROFILES[name]
    return np.vstack([np.frombuffer(d["features"][field], np.float32) for d in docs])


def profile_stats(docs: list[dict]) -> dict[str, dict[str, list[float]]]:
    """The library's mean and deviation of every profile, from a sample of its tracks."""
    stats = {}
    for name in PROFILES:
        raw = raw_profiles(docs, name)
        spread = raw.std(axis=0)
        # a value the whole sample shares (every track mono in a band) keeps its own units: a
        # later track that differs there must not land 1e9 deviations away
        scale = np.where(spread < 1e-6, 1.0, spread + 1e-9)
        stats[name] = {"mean": raw.mean(axis=0).tolist(), "scale": scale.tolist()}
    return stats


def has_models(doc: dict) -> bool:
    """Whether a track was analysed with every per-track model (features version 3 on)."""
    features = doc.get("features") or {}
    return all(field in features for field in _MODEL_FEATURES)


def build(docs: list[dict], timbre: np.ndarray, stats: dict[str, dict[str, list[float]]]
          ) -> AudioModels:
    """Index-time models of analysed tracks, profiles standardised with the library's statistics.

    Parameters
    ----------
    docs : list of dict
        Tracks read with ``MODEL_FIELDS`` (all ``has_models``).
    timbre : np.ndarray [shape=(n, d)]
        Their ``pool.timbre_of`` vectors.
    stats : dict
        ``profile_stats`` of the library.
    """
    gauss = timbre_gauss.from_docs([d["features"]["timbre_gauss"] for d in docs])
    profiles = {name: (raw_profiles(docs, name) - np.array(stats[name]["mean"]))
                / np.array(stats[name]["scale"]) for name in PROFILES}
    return AudioModels(timbre, gauss, **profiles)


def stored(docs: list[dict], timbre: np.ndarray) -> tuple[AudioModels, np.ndarray] | None:
    """Query-time models and neighbour scales of indexed tracks, or ``None`` if one lacks them.

    Parameters
    ----------
    docs : list of dict
        Tracks with ``features.timbre_gauss`` and the index's ``audio`` field.
    timbre : np.ndarray [shape=(n, d)]
        Their ``pool.timbre_of`` vectors.

    Returns
    -------
    (AudioModels, np.ndarray [shape=(n, len(COMPONENTS))]) or None
        A library indexed before every model existed scores with the older blend.
    """
    if not docs or not all(all(name in (d.get("audio") or {}) for name in PROFILES)
                           and "timbre_gauss" in d.get("features", {}) for d in docs):
        return None
    gauss = timbre_gauss.from_docs([d["features"]["timbre_gauss"] for d in docs])
    profiles = {name: np.frombuffer(b"".join(d["audio"][name] for d in docs),
                                    np.float32).reshape(len(docs), -1) for name in PROFILES}
    scales = np.array([d["audio"]["scale"] for d in docs], dtype=np.float64)
    return AudioModels(timbre, gauss, **profiles), scales


def needs_refit(stored_model: dict | None, n_tracks: int, kmeans_version: int) -> bool:
    """Whether the library-wide part (sample, profile statistics) must be chosen again: none
    yet, one from before a profile existed, a new clustering (it standardises the timbre
    vectors), or a library grown enough."""
    return (stored_model is None or set(stored_model.get("profiles", {})) != set(PROFILES)
            or stored_model["kmeans_version"] != kmeans_version
            or n_tracks >= stored_model["fitted_on"] * (1 + REFIT_GROWTH))


def sample_neighbour(n_tracks: int, n_sample: int, *, k: int = hubness.SCALE_NEIGHBOUR) -> int:
    """Rank in a sample of the library that stands for the ``k``-th neighbour in all of it."""
    return max(1, round(k * n_sample / max(n_tracks, 1)))
