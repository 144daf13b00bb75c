"""How late a real-time thread wakes up while Encore analyses music, with and without kept memory.

Audio callbacks run on a SCHED_FIFO thread; on a virtual machine, page faults on one core can
still delay it on another. This measures a SCHED_FIFO thread that sleeps 5 ms over and over:
idle, then while two processes run ``analyse_file`` on real soundtracks with glibc's default
allocator (large arrays unmapped on free), then the same with ``keep_freed_memory`` (as the import
workers run). Same files, same run.

Usage: python bench/wakeup.py [--seconds 30]   (needs permission for SCHED_FIFO, e.g. root)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ensure_corpus, tracks

SLEEP_S = 0.005


def analyse_forever(paths: list[str], keep: bool) -> None:
    """Load generator: analyse the tracks round and round, as an import worker would."""
    from core.library.analyse import analyse_file
    from core.processes import keep_freed_memory

    if keep:
        keep_freed_memory()
    while True:
        for path in paths:
            analyse_file(path)


def lateness(seconds: float) -> np.ndarray:
    """Milliseconds each 5 ms sleep of a SCHED_FIFO thread overran, for ``seconds``."""
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(80))
    late = []
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.monotonic()
            time.sleep(SLEEP_S)
            late.append(time.monotonic() - start - SLEEP_S)
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    return np.array(late) * 1000


def under_load(paths: list[str], keep: bool | None, seconds: float) -> np.ndarray:
    """Lateness while two analysis processes run (``keep=None``: no load)."""
    if keep is None:
        return lateness(seconds)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=analyse_forever, args=(paths[i::2], keep), daemon=True)
               for i in range(2)]
    for worker in workers:
        worker.start()
    time.sleep(8)  # imports done, analysis under way
    try:
        return lateness(seconds)
    finally:
        for worker in workers:
            worker.kill()
            worker.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    paths = [str(p) for p in tracks(ensure_corpus())]
    print(f"SCHED_FIFO thread sleeping {SLEEP_S * 1000:.0f} ms, {args.seconds:.0f} s per case; "
          "lateness in ms")
    print(f"{'case':<36} {'p99':>7} {'p99.9':>7} {'max':>7} {'>10 ms':>7}")
    rows = {}
    for name, keep in (("idle", None), ("analysis, default malloc", False),
                       ("analysis, kept memory (Encore)", True)):
        late = under_load(paths, keep, args.seconds)
        rows[name] = late.max()
        print(f"{name:<36} {np.percentile(late, 99):7.2f} {np.percentile(late, 99.9):7.2f} "
              f"{late.max():7.2f} {int((late > 10).sum()):7d}")
    ratio = rows["analysis, default malloc"] / rows["analysis, kept memory (Encore)"]
    print(f"worst wake-up, default malloc / kept memory: {ratio:.1f}x")


if __name__ == "__main__":
    main()
