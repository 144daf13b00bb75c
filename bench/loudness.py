"""Encore's vectorised BS.1770 meter against pyloudnorm: speed and agreement on real tracks; and
the streaming meter on PyAV's blocks (as the import runs it) against the whole decoded signal.

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
from core.audio.stream import BlockStream, run_stream


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=8)
    args = parser.parse_args()
    paths = tracks(ensure_corpus())[:: args.every]
    ours_s = ref_s = 0.0
    diffs, streamed_diffs = [], []
    for path in paths:
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        start = time.process_time()
        whole = loudness.measure(y, sr)  # integrated and loudness range
        ours_s += time.process_time() - start
        ours = whole.integrated_lufs
        streamed = run_stream(path, _streamed_loudness)
        streamed_diffs.append((abs(streamed.integrated_lufs - ours), abs(streamed.range_lu - whole.range_lu)))
        start = time.process_time()
        ref = pyloudnorm.Meter(sr).integrated_loudness(y.astype(np.float64))  # integrated only
        ref_s += time.process_time() - start
        diffs.append(abs(ours - ref))
    print(f"{len(paths)} tracks: Encore {ours_s:.2f} CPU s (integrated + LRA), "
          f"pyloudnorm {ref_s:.2f} CPU s (integrated only): {ref_s / ours_s:.2f}x")
    print(f"|difference| LU: median {np.median(diffs):.3f}, max {np.max(diffs):.3f} "
          "(pyloudnorm's default filter is the textbook shelf, not BS.1770's exact coefficients)")
    integrated, lra = np.max(streamed_diffs, axis=0)
    print(f"streamed (PyAV blocks) vs whole signal (libsndfile): max |difference| integrated "
          f"{integrated:.4f} LU, loudness range {lra:.4f} LU")


def _streamed_loudness(opened: BlockStream) -> loudness.Loudness:
    meter = loudness.LoudnessMeter(opened.samplerate, opened.channels)
    for block in opened.blocks:
        meter.feed(block)
    return meter.result()


if __name__ == "__main__":
    main()
