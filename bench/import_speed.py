"""Analysis speed on the real soundtracks: Encore vs bliss-audio vs a plain librosa extractor.

For each extractor and 1 and 2 worker processes: tracks/s (wall), CPU seconds per minute of
audio (all processes), and the largest peak resident memory of a worker, on the same files in
the same run.

Usage: python bench/import_speed.py [--every N]   (default: every 4th track of the corpus)
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ensure_corpus, tracks


def encore(path: str) -> None:
    from core.library.analyse import analyse_file

    analyse_file(path)


def bliss(path: str) -> None:
    from bliss_audio import Song

    Song(path)


def plain_librosa(path: str) -> None:
    import librosa

    y, sr = librosa.load(path, sr=22050, mono=True)
    librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    librosa.feature.chroma_stft(y=y, sr=sr)


def timed(func, path: str) -> tuple[float, float]:
    """Run ``func(path)`` in a worker; its CPU seconds (all threads of the process) and the
    worker's peak resident memory so far in MB."""
    start = time.process_time()
    func(path)
    return time.process_time() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(func, paths: list[str], jobs: int) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds summed over workers, largest worker peak RSS in MB) for
    analysing ``paths``."""
    # spawn, not fork: bliss-audio starts threads that a forked child may inherit mid-lock
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        # One warm-up track per worker: imports and JIT caches are start-up, not throughput.
        list(pool.map(timed, [func] * jobs, paths[:jobs]))
        start = time.perf_counter()
        results = list(pool.map(timed, [func] * len(paths), paths, chunksize=1))
        wall = time.perf_counter() - start
    return wall, sum(cpu for cpu, _ in results), max(rss for _, rss in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=4)
    args = parser.parse_args()
    paths = [str(p) for p in tracks(ensure_corpus())][:: args.every]
    minutes = sum(sf.info(p).duration for p in paths) / 60
    print(f"{len(paths)} tracks, {minutes:.1f} min of audio")
    print(f"{'extractor':<28} {'procs':>5} {'tracks/s':>9} {'CPU s/min audio':>16} {'vs bliss':>9}"
          f" {'peak MB':>8}")
    for jobs in (1, 2):
        rows = {}
        for name, func in (("bliss-audio 0.1.11", bliss), ("Encore (full analysis)", encore),
                           ("librosa load+MFCC+chroma", plain_librosa)):
            wall, cpu, rss = measure(func, paths, jobs)
            rows[name] = (len(paths) / wall, cpu / minutes, rss)
        base = rows["bliss-audio 0.1.11"][0]
        for name, (rate, cpu, rss) in rows.items():
            print(f"{name:<28} {jobs:>5} {rate:>9.2f} {cpu:>16.2f} {rate / base:>8.2f}x {rss:>8.0f}")


if __name__ == "__main__":
    main()
