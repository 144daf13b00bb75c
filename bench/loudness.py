"""Encore's vectorised BS.1770 meter against pyloudnorm: speed and agreement on real tracks.

Usage: python bench/loudness.py [--every N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ensure_corpus, tracks
from core.audio import loudness


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=8)
    args = parser.parse_args()
    paths = tracks(ensure_corpus())[:: args.every]
    ours_s = ref_s = 0.0
    diffs = []
    for path in paths:
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        start = time.process_time()
        ours = loudness.measure(y, sr).integrated_lufs  # integrated and loudness range
        ours_s += time.process_time() - start
        start = time.process_time()
        ref = pyloudnorm.Meter(sr).integrated_loudness(y.astype(np.float64))  # integrated only
        ref_s += time.process_time() - start
        diffs.append(abs(ours - ref))
    print(f"{len(paths)} tracks: Encore {ours_s:.2f} CPU s (integrated + LRA), "
          f"pyloudnorm {ref_s:.2f} CPU s (integrated only): {ref_s / ours_s:.2f}x")
    print(f"|difference| LU: median {np.median(diffs):.3f}, max {np.max(diffs):.3f} "
          "(pyloudnorm's default filter is the textbook shelf, not BS.1770's exact coefficients)")


if __name__ == "__main__":
    main()
