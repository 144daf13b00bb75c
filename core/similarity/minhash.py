"""MinHash signatures (datasketch) and the LSH band keys stored beside them.

datasketch's ``MinHashLSH`` keeps its buckets in memory or Redis/Cassandra; Encore keeps them in
MongoDB instead (a multikey index on ``lsh``), so a worker finds a seed's candidates with one
indexed query and never loads the library. The band keys are computed exactly as datasketch
bands a signature: ``bands`` slices of ``rows`` hash values each.
"""

from __future__ import annotations

import hashlib

import numpy as np
from datasketch import MinHash

NUM_PERM = 128
#: 32 bands of 4 rows: pairs with Jaccard 0.3 collide in at least one band with p ~ 0.23,
#: pairs at 0.5 with p ~ 0.87 (the S-curve 1 - (1 - s^4)^32).
BANDS = 32
SEED = 1


def signature(shingles: np.ndarray, *, num_perm: int = NUM_PERM) -> np.ndarray:
    """MinHash signature of a shingle set.

    Parameters
    ----------
    shingles : np.ndarray [shape=(n,), dtype=uint64]
    num_perm : int
        Number of hash permutations.

    Returns
    -------
    np.ndarray [shape=(num_perm,), dtype=uint64]
    """
    sketch = MinHash(num_perm=num_perm, seed=SEED)
    sketch.update_batch([s.tobytes() for s in np.asarray(shingles, dtype=np.uint64)])
    return sketch.hashvalues.astype(np.uint64)


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard estimate from two signatures: the share of equal hash values."""
    return float(np.mean(a == b))


def band_keys(sig: np.ndarray, *, bands: int = BANDS) -> list[str]:
    """LSH band keys of a signature.

    Parameters
    ----------
    sig : np.ndarray [shape=(num_perm,)]
    bands : int
        Number of bands; ``num_perm`` must be a multiple of it.

    Returns
    -------
    list of str
        ``"band:digest"`` per band; two tracks are LSH candidates if they share any key.
    """
    rows = sig.size // bands
    if rows * bands != sig.size:
        raise ValueError(f"{sig.size} hash values do not split into {bands} bands")
    return [f"{i}:{hashlib.blake2b(sig[i * rows:(i + 1) * rows].tobytes(), digest_size=8).hexdigest()}"
            for i in range(bands)]
