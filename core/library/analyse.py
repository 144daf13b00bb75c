"""Analyse one file: tags, decode, quality, loudness, optional enhanced copy, features.

Pure work with no database: it runs in worker processes and returns a ``TrackAnalysis`` (or raises
``DecodeError`` with the reason the file is skipped).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.audio import decode, loudness, quality, tags
from core.audio.enhance import EnhanceOptions, write_enhanced_copy
from core.errors import DecodeError
from core.features import extract

LOSSLESS_FORMATS = frozenset({"WAV", "FLAC", "AIFF", "WAVEX", "W64"})


@dataclass(frozen=True)
class AnalyseOptions:
    """What to do per file beyond the measurements."""

    enhance: EnhanceOptions | None = None
    library_dir: str | None = None


@dataclass
class TrackAnalysis:
    """Everything learnt about one file: a store document plus its segment frames."""

    doc: dict
    frames: np.ndarray
    timings: dict = field(default_factory=dict)


def track_id(path: str | os.PathLike) -> str:
    """Stable id of a file: a hash of its absolute path."""
    return hashlib.sha1(os.fsencode(os.path.abspath(path))).hexdigest()[:16]


def analyse_file(path: str, options: AnalyseOptions | None = None) -> TrackAnalysis:
    """Analyse one audio file.

    Parameters
    ----------
    path : str
        The original file; it is only read.
    options : AnalyseOptions, optional
        Whether to write an enhanced, compressed copy and where.

    Returns
    -------
    TrackAnalysis

    Raises
    ------
    DecodeError
        If the file cannot be read as audio; the message is the reason shown to the user.
    """
    options = options or AnalyseOptions()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    source = Path(path)
    stat = source.stat() if source.exists() else None
    info = decode.probe(source)
    y, sr = decode.read(source)
    lap("decode")
    meta = tags.read_tags(source)
    lap("tags")
    report = quality.check(y, sr, lossless=info.format in LOSSLESS_FORMATS)
    lap("quality")
    level = loudness.measure(y, sr)
    lap("loudness")
    try:
        features = extract.extract(extract.to_mono(y, sr))
    except ValueError as exc:
        raise DecodeError(f"{exc}: {source}") from exc
    lap("features")
    doc = _document(source, stat, info, meta, report, level, features)
    if options.enhance is not None and options.library_dir:
        copy = write_enhanced_copy(y, sr, doc, Path(options.library_dir), options.enhance)
        doc["path"], doc["original_path"] = str(copy.path), str(source)
        doc["copy"] = copy.as_dict()
        lap("enhance")
    return TrackAnalysis(doc, features.frames, timings)


def _document(source: Path, stat, info: decode.AudioInfo, meta: tags.Tags,
              report: quality.QualityReport, level: loudness.Loudness,
              features: extract.Features) -> dict:
    absolute = os.path.abspath(source)
    tp = report.true_peak_dbtp
    return {
        "_id": track_id(source),
        "path": absolute,
        "source_path": absolute,
        "title": meta.title,
        "artist": meta.artist,
        "album": meta.album,
        "genre": meta.genre,
        "tags": meta.as_dict(),
        "duration_s": round(info.duration_s, 3),
        "file": {"size": stat.st_size, "mtime": stat.st_mtime, "format": info.format,
                 "subtype": info.subtype, "samplerate": info.samplerate, "channels": info.channels,
                 "bit_depth": info.bit_depth, "bitrate_kbps": round(info.bitrate_kbps, 1)},
        "quality": report.as_dict(),
        "issues": list(report.issues),
        "loudness": level.as_dict(),
        "replaygain": {"track_gain_db": round(level.replaygain_db, 2),
                       "track_peak": round(10 ** (tp / 20), 6) if np.isfinite(tp) else 0.0},
        "features": {"vector": features.vector.tobytes(), "tempo_bpm": round(features.tempo_bpm, 2),
                     "version": 1},
        "indexed": False,
        "imported_at": time.time(),
    }
