"""Shingles, MinHash and LSH bands with known overlaps."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.similarity import minhash, shingles


def _sets_with_jaccard(target: float, size: int, seed: int):
    rng = np.random.default_rng(seed)
    pool = rng.choice(1 << 40, size=3 * size, replace=False).astype(np.uint64)
    shared = round(2 * size * target / (1 + target))  # |A∩B| for |A| = |B| = size
    a = pool[:size]
    b = np.concatenate([pool[:shared], pool[size : 2 * size - shared]])
    return np.unique(a), np.unique(b)


@pytest.mark.parametrize("target", [0.1, 0.3, 0.5, 0.8])
def test_minhash_estimates_jaccard_within_0_1(target):
    for seed in range(3):
        a, b = _sets_with_jaccard(target, 1000, seed)
        exact = shingles.jaccard(a, b)
        assert exact == pytest.approx(target, abs=0.01)
        estimate = minhash.estimate_jaccard(minhash.signature(a), minhash.signature(b))
        assert abs(estimate - exact) <= 0.1


def test_identical_sets_share_every_band_and_disjoint_sets_none():
    a, b = _sets_with_jaccard(0.0, 500, 7)
    sig_a = minhash.signature(a)
    assert minhash.band_keys(sig_a) == minhash.band_keys(minhash.signature(a.copy()))
    assert not set(minhash.band_keys(sig_a)) & set(minhash.band_keys(minhash.signature(b)))


def test_band_keys_reject_uneven_bands():
    with pytest.raises(ValueError):
        minhash.band_keys(np.zeros(10, dtype=np.uint64), bands=3)


def test_weighted_shingles_approximate_histogram_overlap():
    words_a = np.array([0] * 50 + [1] * 50)
    words_b = np.array([0] * 75 + [1] * 25)
    sim = shingles.jaccard(shingles.shingle_set(words_a, ngram=0), shingles.shingle_set(words_b, ngram=0))
    assert sim == pytest.approx(75 / 125, abs=0.01)  # sum(min) / sum(max) of the two histograms


def test_codebook_round_trip_and_words():
    rng = np.random.default_rng(0)
    frames = [rng.normal(loc=i * 5, size=(100, 4)).astype(np.float32) for i in range(3)]
    book = shingles.learn_codebook(frames, n_words=3)
    again = shingles.Codebook.from_doc(book.to_doc())
    words = [set(shingles.to_words(f, again)) for f in frames]
    assert all(len(w) == 1 for w in words) and len(set.union(*words)) == 3


def test_analysis_processes_start_without_scikit_learn():
    # Import workers load the pipeline; only index-time fits need scikit-learn (~1 s to import).
    code = ("import sys, core.library.pipeline, core.similarity.recommend, core.worker; "
            "print(sorted(m for m in sys.modules if m.startswith('sklearn')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"
