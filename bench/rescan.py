"""What a rescan of an unchanged library costs: 50,000 tracks, only ``stat`` calls expected.

The library is synthetic: 50,000 tiny files (500 folders of 100; a rescan of an unchanged file
never opens it, so their content does not matter) and one stored track document per file with the
file's real size and mtime, as an import leaves them. The rescan must report nothing, and its CPU
time shows that nothing was decoded. Reported: wall and CPU time of whole rescans, and their two
parts (reading the stored file states; walking and ``stat``-ing the folder).

Usage: python bench/rescan.py [--tracks 50000] [--runs 5] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import percentiles
from core.config import Config
from core.library.analyse import AnalyseOptions, track_id
from core.library.discover import discover
from core.library.folders import add_folder
from core.library.pipeline import options_key
from core.library.rescan import rescan
from core.services import LocalStack, mongo_uri
from core.store.mongo import MongoStore

PER_FOLDER = 100


def synthetic_library(store: MongoStore, root: Path, n: int) -> None:
    """``n`` tiny files under ``root`` and a complete track document for each."""
    key = options_key(AnalyseOptions())
    docs = []
    for i in range(n):
        path = root / f"album {i // PER_FOLDER:04d}" / f"{i % PER_FOLDER:02d} track {i}.ogg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"OggS" + i.to_bytes(4, "little"))
        stat = path.stat()
        docs.append({"_id": track_id(path), "path": str(path), "source_path": str(path),
                     "title": f"Track {i}", "album": path.parent.name, "duration_s": 180.0,
                     "file": {"size": stat.st_size, "mtime": stat.st_mtime}, "options": key,
                     "complete": True, "indexed": True})
        if len(docs) == 5000:
            store.tracks.insert_many(docs, ordered=False)
            docs = []
    if docs:
        store.tracks.insert_many(docs, ordered=False)
    store.ensure_schema()  # indexes built once over the loaded collection


def timed(func) -> tuple[float, float, object]:
    """Wall and CPU seconds of ``func()``, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracks", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", help="local stack data (default: a new temporary folder)")
    args = parser.parse_args()
    data = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="encore-bench-"))
    uri = mongo_uri(LocalStack(Config(data, None, None)).ensure("mongo").port)
    store = MongoStore(uri, f"bench_rescan_{args.tracks}", timeout_ms=60000)
    store.client.drop_database(store.db.name)
    root = data / "music"
    wall, _, _ = timed(lambda: synthetic_library(store, root, args.tracks))
    add_folder(store, root)
    print(f"{args.tracks} files and track documents made in {wall:.1f} s")
    walls, cpus = [], []
    for _ in range(args.runs):
        wall, cpu, report = timed(lambda: rescan(store, jobs=1))
        changes = report.as_json()
        assert not any(changes.values()), f"an unchanged library changed: {changes}"
        walls.append(wall)
        cpus.append(cpu)
    states, _, _ = timed(store.file_states)
    walk, _, (files, _) = timed(lambda: discover(root))
    stat, _, _ = timed(lambda: [os.stat(p) for p in files])
    print(f"rescan of the unchanged library ({args.runs} runs): {percentiles(walls)}; "
          f"CPU {min(cpus):.2f}-{max(cpus):.2f} s")
    print(f"  parts: stored file states {states:.2f} s, walk {walk:.2f} s, "
          f"stat of {len(files)} files {stat:.2f} s")
    store.client.drop_database(store.db.name)


if __name__ == "__main__":
    main()
