"""The per-event scoring shortcut: shingle membership through a hash table is exactly ``np.isin``."""

import numpy as np
import pytest

from core.similarity.pool import members
from core.similarity.shingles import shingle_set


@pytest.mark.parametrize("size", [1, 7, 300, 5000])
def test_members_is_isin_for_packed_shingles_and_colliding_slots(size):
    rng = np.random.default_rng(size)
    # real shingle values (packed word ids, tag bits) and plain small integers
    ref = shingle_set(rng.integers(0, 64, 4 * size))[:size]
    values = np.concatenate([shingle_set(rng.integers(0, 64, 4 * size)), ref[::3],
                             rng.integers(0, 2**63, 1000, dtype=np.uint64)])
    rng.shuffle(values)
    assert np.array_equal(members(ref, values), np.isin(values, ref))
    small = np.arange(size, dtype=np.uint64) * np.uint64(4096)  # equal low bits throughout
    probe = np.arange(0, 8 * size * 4096, 1024, dtype=np.uint64)
    assert np.array_equal(members(small, probe), np.isin(probe, small))
