"""Import speed and memory on the real soundtracks: Encore's whole import vs bliss-audio.

One run, the same files, 1 and 2 processes:
- Encore: the real ``encore import`` CLI into a scratch database (tags, decode, quality checks,
  loudness, features, codebook, shingles, MinHash/LSH, K-means, MongoDB writes, and the
  process start-up), on a fresh database each time;
- bliss-audio 0.1.11's analysis (one process is multithreaded), in processes niced as the
  import's workers are;
- the decode floor: PyAV decoding the files to float blocks and nothing else.
For each: tracks/s (wall), CPU seconds per minute of audio (every process), and the largest
peak resident memory of one process, and the machine's load average (1 min) right after the
run (the machine is shared: it says how much of it the run had). Then the import's time split by
stage, from a profiled in-process import (worker stages as the workers time them, the rest from
cProfile, CPU time of every thread), and the wall time from the last file's result to the end.

With ``--rounds R`` the 2-process comparison is run R more times, bliss-audio and Encore
alternating, and the median of the rounds' ratios is printed: on a shared 2-core machine one pair
of runs moves by several percent with the neighbours' load.

Usage: python bench/import_speed.py [--every N] [--rounds R]   (default: every 4th track, R = 0)
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ensure_corpus, tracks

ROOT = Path(__file__).resolve().parents[1]

# Import stages run in the main process, found in the profile by (module file, function name).
MAIN_STAGES = {
    "codebook": [("shingles.py", "learn_codebook")],
    "shingles, MinHash, LSH": [("shingles.py", "to_words"), ("shingles.py", "shingle_set"),
                               ("minhash.py", "signature"), ("minhash.py", "band_keys")],
    "K-means": [("clustering.py", "fit"), ("clustering.py", "assign")],
    "MongoDB reads and writes": [("mongo.py", name) for name in (
        "ensure_schema", "file_states", "put_tracks", "upsert_track", "mark_incomplete",
        "iter_tracks", "iter_frames", "count_tracks", "update_many", "get_model",
        "put_model", "bump_generation")],
}
WORKER_STAGES = ("decode", "tags", "quality", "loudness", "features")
#: Progress messages of the library-wide index (every other message is an analysed file's).
INDEX_MESSAGES = ("learning audio words", "shingles and MinHash", "clustering")
#: The serial part after the last file's result, in wall seconds (the profiler's share included).
TAIL = "after the last file's result (wall s)"


def peak_rss_mb() -> float:
    """This process's own peak resident memory in MB.

    ``ru_maxrss`` of a spawned process also counts the fork of its parent that existed for a
    moment before ``exec`` (the kernel carries that image's peak over); ``VmHWM`` is the same
    high-water mark for the process's own image only.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bliss(path: str) -> None:
    from bliss_audio import Song

    Song(path)


def decode_floor(path: str) -> None:
    from core.audio.stream import open_ffmpeg

    for _ in open_ffmpeg(path).blocks:
        pass


def timed(func: Callable[[str], None], path: str) -> tuple[float, float]:
    """In a worker: CPU seconds of ``func(path)`` (all the process's threads), peak MB so far."""
    start = time.process_time()
    func(path)
    return time.process_time() - start, peak_rss_mb()


def pool_run(func: Callable[[str], None], paths: list[str], jobs: int) -> tuple[float, float, float]:
    """(wall s, CPU s over all workers, largest worker peak MB), start-up excluded."""
    # imported here, not at the top: spawned workers import this module, and would carry the
    # import pipeline's 160 MB into bliss-audio's peak
    from core.library.pipeline import WORKER_NICENESS

    # spawn, not fork: bliss-audio starts threads that a forked child may inherit mid-lock;
    # niced as the import's workers are, so a busy machine favours neither side
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=os.nice, initargs=(WORKER_NICENESS,)) as pool:
        list(pool.map(timed, [func] * jobs, paths[:jobs]))  # imports and caches: start-up
        start = time.perf_counter()
        results = list(pool.map(timed, [func] * len(paths), paths, chunksize=1))
        wall = time.perf_counter() - start
    return wall, sum(cpu for cpu, _ in results), max(rss for _, rss in results)


def cli_run(folder: Path, env: dict[str, str], jobs: int) -> tuple[float, float, float]:
    """Run ``encore import`` (the real CLI) and wait for it: (wall s, CPU s of it and every
    worker it waited for, largest peak MB among them)."""
    cmd = [sys.executable, "-m", "player.launch", "import", str(folder), "--jobs", str(jobs),
           "--json", "--no-progress"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"encore import exited {proc.returncode}")
    # wait4 reports the child together with the descendants it waited for (its workers)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def start_up_s() -> float:
    """Wall seconds for a fresh interpreter to import what an import process imports."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import core.cli, core.library.pipeline"], cwd=ROOT,
                   check=True)
    return time.perf_counter() - start


def stage_split(folder: Path, uri: str, jobs: int) -> dict[str, float]:
    """Seconds per import stage, from a profiled in-process import into a fresh database."""
    from core.library.pipeline import run_import
    from core.store.mongo import MongoStore

    store = MongoStore(uri, f"bench_split_{os.getpid()}", timeout_ms=20000)
    last_file = [0.0]

    def progress(done: int, total: int, message: str) -> None:
        if message not in INDEX_MESSAGES:
            last_file[0] = time.perf_counter()

    profile = cProfile.Profile(time.process_time)  # CPU: wall time would measure the neighbours
    # spawn: forked workers would inherit the profiler and run several times slower
    report = profile.runcall(run_import, str(folder), store, jobs=jobs, mp_context="spawn",
                             progress=progress)
    tail = time.perf_counter() - last_file[0]
    stats = pstats.Stats(profile).stats
    split = {"process start-up (one process)": start_up_s()}
    split.update({f"{stage} (workers)": report.timings.get(stage, 0.0) for stage in WORKER_STAGES})
    for stage, functions in MAIN_STAGES.items():
        split[stage] = sum(cumulative for (file, _, name), (_, _, _, cumulative, _) in stats.items()
                           if (Path(file).name, name) in functions)
    split[TAIL] = tail
    store.client.drop_database(store.db.name)
    return split


def link_subset(paths: list[Path], folder: Path) -> None:
    """The chosen files under one folder per album, as hard links (symbolic ones if needed)."""
    for path in paths:
        target = folder / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            target.symlink_to(path)


def with_load(result: tuple[float, float, float]) -> tuple[float, float, float, float]:
    """A run's figures and the machine's load average (1 min) just after it."""
    return (*result, os.getloadavg()[0])


def row(name: str, jobs: int, n: int, minutes: float, result: tuple[float, float, float, float],
        bliss_rate: float | None) -> str:
    wall, cpu, rss, load = result
    rate = n / wall
    versus = f"{rate / bliss_rate:8.2f}x" if bliss_rate else f"{'':>9}"
    return f"{name:<34} {jobs:>5} {rate:>9.2f} {cpu / minutes:>16.3f} {versus} {rss:>8.0f} {load:>6.1f}"


def rounds(folder: Path, env: dict[str, str], paths: list[str], minutes: float, count: int) -> str:
    """``count`` more 2-process runs of bliss-audio and Encore, alternating: each round's rows
    and the median of the rounds' Encore/bliss-audio tracks/s ratios."""
    lines, ratios = [f"\n{count} more rounds, 2 processes:"], []
    for round_ in range(count):
        bliss_result = with_load(pool_run(bliss, paths, 2))
        env["ENCORE_DB"] = f"bench_import_round{round_}_{os.getpid()}"
        encore_result = with_load(cli_run(folder, env, 2))
        ratios.append(bliss_result[0] / encore_result[0])
        lines += [row(f"round {round_ + 1}: Encore", 2, len(paths), minutes, encore_result,
                      len(paths) / bliss_result[0]),
                  row(f"round {round_ + 1}: bliss-audio", 2, len(paths), minutes, bliss_result,
                      len(paths) / bliss_result[0])]
    lines.append(f"median Encore / bliss-audio tracks/s over {count} rounds: "
                 f"{statistics.median(ratios):.2f}x (each: {', '.join(f'{r:.2f}' for r in ratios)})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=0)
    args = parser.parse_args()
    from core.audio.decode import probe
    from core.config import Config
    from core.services import LocalStack, mongo_uri

    chosen = tracks(ensure_corpus())[:: args.every]
    paths = [str(p) for p in chosen]
    minutes = sum(probe(p).duration_s for p in paths) / 60
    print(f"{len(paths)} tracks, {minutes:.1f} min of audio")
    with tempfile.TemporaryDirectory(prefix="encore-import-speed-") as scratch:
        folder = Path(scratch) / "music"
        link_subset(chosen, folder)
        stack = LocalStack(Config(Path(scratch) / "data", None, None))
        try:
            uri = mongo_uri(stack.ensure("mongo").port)
            env = {**os.environ, "ENCORE_DATA_DIR": str(Path(scratch) / "data"),
                   "ENCORE_MONGO_URI": uri, "PYTHONPATH": str(ROOT)}
            print(f"{'':<34} {'procs':>5} {'tracks/s':>9} {'CPU s/min audio':>16} {'vs bliss':>9}"
                  f" {'peak MB':>8} {'load':>6}")
            for jobs in (1, 2):
                bliss_result = with_load(pool_run(bliss, paths, jobs))
                bliss_rate = len(paths) / bliss_result[0]
                env["ENCORE_DB"] = f"bench_import_{jobs}_{os.getpid()}"
                results = {"Encore: whole `encore import`": with_load(cli_run(folder, env, jobs)),
                           "bliss-audio 0.1.11 analysis": bliss_result,
                           "decode floor (PyAV blocks)": with_load(pool_run(decode_floor, paths, jobs))}
                for name, result in results.items():
                    print(row(name, jobs, len(paths), minutes, result, bliss_rate))
            if args.rounds > 0:
                print(rounds(folder, env, paths, minutes, args.rounds))
            print("\nImport CPU time by stage (2 processes, profiled; worker stages summed over"
                  " files; start-up: wall time of one fresh process's imports):")
            print(f"  {'stage':<40} {'CPU s':>8} {'per min audio':>14}")
            for stage, seconds in stage_split(folder, uri, 2).items():
                print(f"  {stage:<40} {seconds:8.2f} {seconds / minutes:14.4f}")
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
