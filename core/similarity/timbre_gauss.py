"""Distribution-level timbre: one Gaussian per track over its frames, compared by divergence.

A mean vector says where a track's sound sits on average; a Gaussian (mean and full covariance
of its frames) also says how it moves and which dimensions move together, which is what tells
two pieces of one soundtrack apart from two pieces that merely average alike (Musly's "timbre",
Mandel & Ellis 2005). Divergences between Gaussians are invariant under any invertible affine
map of the frames applied to both tracks, so library standardisation changes nothing here.

Every comparison is one reference against many candidates in a few matrix products, with the
inverses and log-determinants computed once per track (store them with the track).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np


@dataclass(frozen=True)
class Gaussians:
    """Gaussians of ``n`` tracks in ``d`` dimensions, with what divergences need precomputed.

    Attributes
    ----------
    mean : np.ndarray [shape=(n, d)]
    cov : np.ndarray [shape=(n, d, d)]
    inv : np.ndarray [shape=(n, d, d)] or None
        Inverse covariances (``symmetric_kl`` needs them, ``jensen_shannon`` does not).
    logdet : np.ndarray [shape=(n,)]
        Log-determinants of the covariances.
    """

    mean: np.ndarray
    cov: np.ndarray
    inv: np.ndarray | None
    logdet: np.ndarray

    def __len__(self) -> int:
        return len(self.mean)

    def __getitem__(self, index) -> Gaussians:
        """A subset of the tracks (an int keeps a leading axis of one)."""
        return take_rows(self, index)


def take_rows(record, index):
    """A dataclass of per-track arrays (or such dataclasses) restricted to some tracks.

    Parameters
    ----------
    record : dataclass
        Every field indexable by track along its first axis, or ``None``.
    index : int, slice or np.ndarray
        Which tracks; an int keeps a leading axis of one.
    """
    if isinstance(index, (int, np.integer)):
        index = slice(index, index + 1)
    return replace(record, **{f.name: None if getattr(record, f.name) is None
                              else getattr(record, f.name)[index] for f in fields(record)})


def fit(frames: np.ndarray, *, shrink: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and shrunk covariance of one track's frames.

    Parameters
    ----------
    frames : np.ndarray [shape=(t, d)]
        Frame (or segment) features of one track; ``t >= 1``.
    shrink : float, optional
        Weight of the scaled identity mixed into the covariance; default ``d / (d + t)``, so a
        short track with fewer frames than dimensions still has an invertible covariance.

    Returns
    -------
    mean : np.ndarray [shape=(d,)]
    cov : np.ndarray [shape=(d, d)]

    Raises
    ------
    ValueError
        If ``frames`` is not a non-empty 2-D array of finite numbers.
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or len(frames) == 0 or not np.isfinite(frames).all():
        raise ValueError(f"need a non-empty (t, d) array of finite frames, got shape {frames.shape}")
    t, d = frames.shape
    mean = frames.mean(axis=0)
    centred = frames - mean
    cov = centred.T @ centred / max(t - 1, 1)
    alpha = d / (d + t) if shrink is None else shrink
    # a floor keeps silence (all frames equal) invertible too
    level = max(np.trace(cov) / d, 1e-6)
    return mean, (1 - alpha) * cov + alpha * level * np.eye(d)


def stack(means: np.ndarray, covs: np.ndarray, *, logdet: np.ndarray | None = None,
          inverse: bool = True) -> Gaussians:
    """Gaussians of many tracks, with log-determinants and (optionally) inverses.

    Parameters
    ----------
    means : np.ndarray [shape=(n, d)]
    covs : np.ndarray [shape=(n, d, d)]
        Symmetric positive definite (as ``fit`` returns).
    logdet : np.ndarray [shape=(n,)], optional
        Their log-determinants if known (stored), else computed.
    inverse : bool
        Compute the inverses (``symmetric_kl`` needs them).

    Returns
    -------
    Gaussians
    """
    covs = np.asarray(covs, dtype=np.float64)
    if logdet is None:
        sign, logdet = np.linalg.slogdet(covs)
        if (sign <= 0).any():
            raise ValueError("covariances must be positive definite")
    inv = np.linalg.inv(covs) if inverse else None
    return Gaussians(np.asarray(means, dtype=np.float64), covs, inv, np.asarray(logdet, float))


def symmetric_kl(ref: Gaussians, others: Gaussians) -> np.ndarray:
    """Symmetrised Kullback-Leibler divergence ``(KL(a||b) + KL(b||a)) / 2`` of one against many.

    Parameters
    ----------
    ref : Gaussians
        One Gaussian (``len(ref) == 1``).
    others : Gaussians
        ``n`` Gaussians of the same dimension.

    Returns
    -------
    np.ndarray [shape=(n,)]
        Non-negative; 0 for an identical Gaussian. About ``4 d^2`` flops per candidate.
    """
    n, d = others.mean.shape
    # tr(A B) of symmetric matrices is the sum of their elementwise product: one mat-vec each
    trace_ab = others.inv.reshape(n, -1) @ ref.cov[0].ravel()
    trace_ba = others.cov.reshape(n, -1) @ ref.inv[0].ravel()
    delta = others.mean - ref.mean[0]
    maha = np.einsum("ni,nij,nj->n", delta, others.inv, delta) + np.einsum(
        "ni,ij,nj->n", delta, ref.inv[0], delta)
    return np.maximum(0.25 * (trace_ab + trace_ba + maha) - d / 2, 0.0)


def jensen_shannon(ref: Gaussians, others: Gaussians) -> np.ndarray:
    """Musly's Jensen-Shannon approximation of one Gaussian against many.

    The mixture of the two Gaussians is replaced by the single Gaussian with its mean and
    covariance; the divergence is then ``log|S_m| - (log|S_a| + log|S_b|) / 2`` (halved), which
    needs one Cholesky factorisation per pair (about ``d^3 / 3`` flops).

    Parameters
    ----------
    ref : Gaussians
        One Gaussian.
    others : Gaussians
        ``n`` Gaussians.

    Returns
    -------
    np.ndarray [shape=(n,)]
        Non-negative; 0 for an identical Gaussian.
    """
    delta = others.mean - ref.mean[0]
    merged = 0.5 * (others.cov + ref.cov[0]) + 0.25 * delta[:, :, None] * delta[:, None, :]
    # Cholesky: a third of slogdet's time on (1500, 20, 20) (the merged matrix is SPD)
    diagonal = np.diagonal(np.linalg.cholesky(merged), axis1=1, axis2=2)
    logdet = 2 * np.log(diagonal).sum(axis=1)
    return np.maximum(0.5 * (logdet - 0.5 * (others.logdet + ref.logdet[0])), 0.0)


def pairwise(gaussians: Gaussians, divergence=symmetric_kl) -> np.ndarray:
    """Divergence matrix of a set of Gaussians (for library statistics and benchmarks).

    Returns
    -------
    np.ndarray [shape=(n, n)]
        Symmetric, zero diagonal.
    """
    rows = np.vstack([divergence(gaussians[i], gaussians) for i in range(len(gaussians))])
    rows = 0.5 * (rows + rows.T)
    np.fill_diagonal(rows, 0.0)
    return rows


def to_doc(mean: np.ndarray, cov: np.ndarray) -> dict:
    """Storable form of one track's Gaussian: float32 mean and upper-triangle covariance.

    Parameters
    ----------
    mean : np.ndarray [shape=(d,)]
    cov : np.ndarray [shape=(d, d)]

    Returns
    -------
    dict
        ``{"mean": bytes, "cov": bytes, "d": d, "logdet": float}``: ``d + d (d + 1) / 2``
        float32 values (920 bytes for 20 MFCC) and the log-determinant, so that reading a
        candidate costs no factorisation.
    """
    d = len(mean)
    upper = np.asarray(cov[np.triu_indices(d)], np.float32)
    full = np.zeros((d, d))
    full[np.triu_indices(d)] = upper
    full = full + np.triu(full, 1).T
    sign, logdet = np.linalg.slogdet(full)  # of the float32 values a reader will see
    if sign <= 0:
        raise ValueError("covariance must be positive definite")
    return {"mean": np.asarray(mean, np.float32).tobytes(), "cov": upper.tobytes(), "d": d,
            "logdet": float(logdet)}


def from_docs(docs: list[dict], *, inverse: bool = False) -> Gaussians:
    """Inverse of ``to_doc`` for many tracks at once.

    Parameters
    ----------
    docs : list of dict
        ``to_doc`` results, all of one dimension.
    inverse : bool
        Also invert the covariances (batched), for ``symmetric_kl``.

    Returns
    -------
    Gaussians
    """
    d = docs[0]["d"]
    rows, cols = np.triu_indices(d)
    # one buffer for all tracks: a frombuffer per track costs more than the rest at 1,500
    means = np.frombuffer(b"".join(doc["mean"] for doc in docs), np.float32).reshape(len(docs), d)
    covs = np.zeros((len(docs), d, d))
    upper = np.frombuffer(b"".join(doc["cov"] for doc in docs), np.float32).reshape(len(docs), -1)
    covs[:, rows, cols] = upper
    covs[:, cols, rows] = upper
    return stack(means, covs, logdet=np.array([doc["logdet"] for doc in docs]), inverse=inverse)
