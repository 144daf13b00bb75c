"""K-means over audio features and tags, with k chosen from the library.

Each track is a point made of its standardised, PCA-reduced audio vector and hashed one-hot
codes of its artist, album and genre. Untagged tracks have zero tag codes, so they fall into the
cluster their sound puts them in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

TAG_DIMS = 32
TAG_WEIGHTS = {"artist": 0.8, "album": 1.0, "genre": 0.4}
AUDIO_DIMS = 16
#: Re-cluster once the library has grown by this fraction since the last fit.
REFIT_GROWTH = 0.25


@dataclass(frozen=True)
class ClusterModel:
    """A fitted clustering: its projection and centroids, enough to assign new tracks."""

    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    centroids: np.ndarray
    fitted_on: int

    @property
    def k(self) -> int:
        """Number of clusters."""
        return self.centroids.shape[0]

    def to_doc(self) -> dict:
        """Storable form."""
        doc = {key: np.asarray(val, dtype=np.float64).tobytes()
               for key, val in self.__dict__.items() if key != "fitted_on"}
        return doc | {"fitted_on": self.fitted_on, "k": self.k,
                      "components_shape": list(self.components.shape)}

    @classmethod
    def from_doc(cls, doc: dict) -> ClusterModel:
        """Inverse of ``to_doc``."""
        arr = {key: np.frombuffer(doc[key], dtype=np.float64)
               for key in ("mean", "scale", "components", "centroids")}
        components = arr["components"].reshape(doc["components_shape"])
        return cls(arr["mean"], arr["scale"], components,
                   arr["centroids"].reshape(doc["k"], -1), doc["fitted_on"])


def tag_codes(tags: list[dict]) -> np.ndarray:
    """Hashed, weighted one-hot codes of artist, album and genre.

    Parameters
    ----------
    tags : list of dict
        Per track, ``artist``/``album``/``genre`` values (``None`` when missing); an album that
        is only the folder name does not count as a tag.

    Returns
    -------
    np.ndarray [shape=(n, 3 * TAG_DIMS)]
    """
    out = np.zeros((len(tags), len(TAG_WEIGHTS) * TAG_DIMS))
    for row, track in enumerate(tags):
        for block, (field, weight) in enumerate(TAG_WEIGHTS.items()):
            value = track.get(field)
            if value:
                digest = hashlib.blake2b(value.strip().lower().encode(), digest_size=4).digest()
                out[row, block * TAG_DIMS + int.from_bytes(digest, "little") % TAG_DIMS] = weight
    return out


def _project(model_parts: tuple[np.ndarray, np.ndarray, np.ndarray], vectors: np.ndarray,
             codes: np.ndarray) -> np.ndarray:
    mean, scale, components = model_parts
    audio = ((vectors - mean) / scale) @ components.T
    audio /= np.sqrt(components.shape[0])  # keep audio and tags on comparable scales
    return np.hstack([audio, codes])


def fit(vectors: np.ndarray, tags: list[dict], *, seed: int = 0) -> tuple[ClusterModel, np.ndarray]:
    """Cluster a library, choosing k by silhouette.

    Parameters
    ----------
    vectors : np.ndarray [shape=(n, d)]
        Audio feature vectors.
    tags : list of dict
        See ``tag_codes``.
    seed : int
        Random seed.

    Returns
    -------
    model : ClusterModel
    labels : np.ndarray [shape=(n,), dtype=int]
    """
    from sklearn.decomposition import PCA  # here: analysis processes import this module, not fit

    n = len(vectors)
    mean, scale = vectors.mean(axis=0), vectors.std(axis=0) + 1e-9
    dims = max(1, min(AUDIO_DIMS, n - 1, vectors.shape[1]))
    if n >= 3:
        components = PCA(n_components=dims, random_state=seed).fit((vectors - mean) / scale).components_
    else:  # too few tracks to estimate directions: keep the leading features as they are
        components = np.eye(dims, vectors.shape[1])
    points = _project((mean, scale, components), vectors, tag_codes(tags))
    _best_k, best_labels, best_centres = _choose_k(points, seed)
    model = ClusterModel(mean, scale, components, best_centres, n)
    return model, best_labels


def _choose_k(points: np.ndarray, seed: int) -> tuple[int, np.ndarray, np.ndarray]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = len(points)
    if n < 4:
        return 1, np.zeros(n, dtype=int), points.mean(axis=0, keepdims=True)
    # Candidates grow with the library: about sqrt(n/2), a third of it up to twice it.
    centre = max(2.0, np.sqrt(n / 2))
    candidates = sorted({int(k) for k in np.geomspace(max(2, centre / 3), min(n - 1, 2 * centre), 8)})
    sample = np.random.default_rng(seed).choice(n, min(n, 3000), replace=False)
    best = (-2.0, None)
    for k in candidates:
        km = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(points)
        if len(set(km.labels_[sample])) < 2:
            continue
        score = silhouette_score(points[sample], km.labels_[sample])
        if score > best[0]:
            best = (score, km)
    km = best[1] or KMeans(n_clusters=2, n_init=3, random_state=seed).fit(points)
    return km.n_clusters, km.labels_.astype(int), km.cluster_centers_


def assign(model: ClusterModel, vectors: np.ndarray, tags: list[dict]) -> np.ndarray:
    """Nearest-centroid cluster of new tracks under an existing model.

    Parameters
    ----------
    model : ClusterModel
    vectors : np.ndarray [shape=(n, d)]
    tags : list of dict

    Returns
    -------
    np.ndarray [shape=(n,), dtype=int]
    """
    points = _project((model.mean, model.scale, model.components), vectors, tag_codes(tags))
    distance = ((points[:, None, :] - model.centroids[None]) ** 2).sum(axis=2)
    return distance.argmin(axis=1)


def needs_refit(model: ClusterModel | None, n_tracks: int) -> bool:
    """Whether the library grew enough since ``model`` was fitted to cluster it again."""
    return model is None or n_tracks >= model.fitted_on * (1 + REFIT_GROWTH)
