"""Audio words and shingles: segment features quantised with a codebook learned on the library.

A track becomes a sequence of "audio words" (the nearest codebook centre of each segment); its
shingle set holds word n-grams (the order of sounds) and, when ``weighted``, each word repeated
in proportion to how much of the track it covers, so that Jaccard similarity approximates the
weighted overlap of the two tracks' word histograms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Histogram resolution of weighted shingles: a word covering share p yields round(p * units) copies.
WEIGHT_UNITS = 400


@dataclass(frozen=True)
class Codebook:
    """Standardisation and centres of the audio-word vocabulary.

    Attributes
    ----------
    mean, scale : np.ndarray [shape=(d,)]
        Per-dimension standardisation of segment features.
    centers : np.ndarray [shape=(n_words, d)]
        Word centres in standardised space.
    """

    mean: np.ndarray
    scale: np.ndarray
    centers: np.ndarray

    def to_doc(self) -> dict:
        """Storable form."""
        return {key: np.asarray(val, dtype=np.float32).tobytes() for key, val in self.__dict__.items()
                } | {"shape": list(self.centers.shape)}

    @classmethod
    def from_doc(cls, doc: dict) -> Codebook:
        """Inverse of ``to_doc``."""
        n, d = doc["shape"]
        arr = {key: np.frombuffer(doc[key], dtype=np.float32) for key in ("mean", "scale", "centers")}
        return cls(arr["mean"], arr["scale"], arr["centers"].reshape(n, d))


def learn_codebook(frame_sets: list[np.ndarray], *, n_words: int = 64, per_track: int = 256,
                   seed: int = 0) -> Codebook:
    """Learn the audio-word vocabulary from a sample of every track's segments.

    Parameters
    ----------
    frame_sets : list of np.ndarray [shape=(n_segments, d)]
        Segment features of the library's tracks.
    n_words : int
        Vocabulary size (capped by the number of segments available).
    per_track : int
        Segments sampled per track, so long tracks do not dominate the vocabulary.
    seed : int
        Random seed.

    Returns
    -------
    Codebook
    """
    from sklearn.cluster import MiniBatchKMeans  # here: analysis processes only read codebooks

    if not frame_sets:
        raise ValueError("cannot learn a codebook from an empty library")
    rng = np.random.default_rng(seed)
    sample = np.vstack([f[rng.choice(len(f), min(per_track, len(f)), replace=False)]
                        for f in frame_sets])
    mean, scale = sample.mean(axis=0), sample.std(axis=0) + 1e-6
    k = max(1, min(n_words, len(sample) // 4))
    model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=2048)
    model.fit((sample - mean) / scale)
    return Codebook(mean.astype(np.float32), scale.astype(np.float32),
                    model.cluster_centers_.astype(np.float32))


def to_words(frames: np.ndarray, codebook: Codebook) -> np.ndarray:
    """Quantise segments to their nearest codebook word.

    Parameters
    ----------
    frames : np.ndarray [shape=(n_segments, d)]
    codebook : Codebook

    Returns
    -------
    np.ndarray [shape=(n_segments,), dtype=int64]
    """
    x = (frames - codebook.mean) / codebook.scale
    # ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2; the first term does not change the argmin
    distance = (codebook.centers**2).sum(axis=1) - 2 * x @ codebook.centers.T
    return distance.argmin(axis=1).astype(np.int64)


def index_fields(frames: np.ndarray, codebook: Codebook, version: int) -> dict:
    """A track's stored shingles, MinHash signature and LSH band keys under one codebook.

    Parameters
    ----------
    frames : np.ndarray [shape=(n_segments, d)]
        The track's segment features.
    codebook : Codebook
    version : int
        The codebook's stored version, recorded with the fields.

    Returns
    -------
    dict
        ``shingles`` and ``minhash`` (bytes), ``lsh`` (band keys), ``codebook_version``.
    """
    from core.similarity import minhash  # here: datasketch loads scipy; analysis processes never call

    words = shingle_set(to_words(frames, codebook))
    signature = minhash.signature(words)
    return {"shingles": words.tobytes(), "minhash": signature.tobytes(),
            "lsh": minhash.band_keys(signature), "codebook_version": version}


def shingle_set(words: np.ndarray, *, ngram: int = 2, weighted: bool = True) -> np.ndarray:
    """The shingles of a word sequence, as sorted unique 64-bit integers.

    Parameters
    ----------
    words : np.ndarray [shape=(n,), dtype=int]
        Audio-word sequence.
    ngram : int
        Length of the word n-grams (0 for none).
    weighted : bool
        Add (word, copy) shingles proportional to each word's share of the track.

    Returns
    -------
    np.ndarray [shape=(m,), dtype=uint64]
    """
    words = np.asarray(words, dtype=np.uint64)
    parts = []
    if ngram and words.size >= ngram:
        gram = np.zeros(words.size - ngram + 1, dtype=np.uint64)
        for offset in range(ngram):
            gram = gram * np.uint64(1 << 12) + words[offset : offset + gram.size]
        parts.append(gram | np.uint64(1 << 60))  # tag n-grams apart from weighted words
    if weighted and words.size:
        ids, counts = np.unique(words, return_counts=True)
        copies = np.maximum(1, np.round(counts / words.size * WEIGHT_UNITS)).astype(np.int64)
        repeated = np.repeat(ids, copies)
        rank = np.arange(repeated.size) - np.repeat(np.cumsum(copies) - copies, copies)
        parts.append((repeated << np.uint64(20)) | rank.astype(np.uint64) | np.uint64(2 << 60))
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique integer arrays.

    Parameters
    ----------
    a, b : np.ndarray [shape=(n,)], [shape=(m,)]

    Returns
    -------
    float
        |a ∩ b| / |a ∪ b|, 0 when both are empty.
    """
    if a.size == 0 and b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)
