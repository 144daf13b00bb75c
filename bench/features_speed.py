"""CPU cost of the feature stage (``AnalysisFeed``), against the code of a git revision.

Each file is decoded once into memory (decoding is not timed); then the working tree's feature
stage and the reference revision's run on the same blocks, interleaved, one thread, CPU time by
``time.process_time``. The answers are compared: vector, tempo, timbre Gaussian, loudness profile.

Usage: ``python bench/features_speed.py [--ref HEAD] [--files 8] [--repeats 3] [DIR]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio.stream import open_ffmpeg
from core.features import extract as current

ROOT = Path(__file__).resolve().parents[1]


def load_reference(rev: str):
    """The revision's ``core.features.extract``, importing that revision's ``spectral``."""
    folder = Path(tempfile.mkdtemp(prefix="features_ref_"))
    modules = {}
    for name in ("spectral", "extract"):
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:core/features/{name}.py"],
                                check=True, capture_output=True, text=True).stdout
        source = source.replace("from core.features import spectral", "import _ref_spectral as spectral")
        path = folder / f"_ref_{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"_ref_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"_ref_{name}"] = module
        spec.loader.exec_module(module)
        modules[name] = module
    return modules["extract"]


def decode(path: Path) -> tuple[int, int, list[np.ndarray]]:
    stream = open_ffmpeg(path)
    return stream.samplerate, stream.channels, list(stream.blocks)


def run(module, sr: int, channels: int, blocks: list[np.ndarray]):
    start = time.process_time()
    feed = module.AnalysisFeed(sr, channels)
    for block in blocks:
        feed.feed(block)
    features = feed.result()
    return time.process_time() - start, features


def diff(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    absolute = np.abs(a - b)
    return float(absolute.max()), float((absolute / np.maximum(np.abs(b), 1e-6)).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default=Path.home() / ".cache/encore-corpus")
    parser.add_argument("--ref", default="HEAD")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    reference = load_reference(args.ref)
    paths = sorted(Path(args.directory).rglob("*.ogg"))
    chosen = paths[:: max(1, len(paths) // args.files)][: args.files]
    totals = {"ref": 0.0, "new": 0.0}
    minutes = 0.0
    worst = {"vector": (0.0, 0.0), "gauss_mean": (0.0, 0.0), "gauss_cov": (0.0, 0.0),
             "loudness_profile": (0.0, 0.0), "frames": (0.0, 0.0), "tempo": (0.0, 0.0)}
    for path in chosen:
        sr, channels, blocks = decode(path)
        length = min(sum(len(b) for b in blocks) / sr, current.MAX_ANALYSIS_S) / 60
        minutes += length
        times = {"ref": [], "new": []}
        for _ in range(args.repeats):
            for key, module in (("ref", reference), ("new", current)):
                seconds, features = run(module, sr, channels, blocks)
                times[key].append(seconds)
                if key == "ref":
                    old = features
                else:
                    new = features
        for key in totals:
            totals[key] += min(times[key]) / length
        for name in ("vector", "gauss_mean", "gauss_cov", "loudness_profile", "frames"):
            pair = diff(getattr(new, name), getattr(old, name))
            worst[name] = tuple(max(w, p) for w, p in zip(worst[name], pair, strict=True))
        worst["tempo"] = (max(worst["tempo"][0], abs(new.tempo_bpm - old.tempo_bpm)), 0.0)
        print(f"{path.name:28s} {length:5.2f} min  ref {min(times['ref']) / length:.4f}"
              f"  new {min(times['new']) / length:.4f} CPU s/min", flush=True)
    n = len(chosen)
    print(f"\n{n} files, {minutes:.1f} min: mean CPU s per minute of audio "
          f"ref {totals['ref'] / n:.4f}, new {totals['new'] / n:.4f} "
          f"(x{totals['ref'] / totals['new']:.2f})")
    for name, (absolute, relative) in worst.items():
        print(f"  {name:17s} max abs diff {absolute:.3g}  max rel diff {relative:.3g}")


if __name__ == "__main__":
    main()
