"""Enhanced, compressed copies for the managed library: the original is only ever read.

The chain: DC removal, a 20 Hz subsonic high-pass, trim of digital silence, an optional EQ
preset, gain to a target loudness, then pedalboard's true-peak brickwall limiter, and Opus or Ogg
Vorbis encoding. Lossy encoding can raise the true peak again, so the copy is decoded and
measured, and the ceiling lowered until the decoded copy meets it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pedalboard as pb
import soundfile as sf
import soxr

from core.audio import loudness, quality
from core.errors import DecodeError

CODECS = {"opus": ("OPUS", ".opus"), "vorbis": ("VORBIS", ".ogg")}
OPUS_RATE = 48000
TRIM_DBFS = -70.0
MAX_PASSES = 4


def _eq_presets() -> dict[str, list]:
    return {
        "flat": [],
        "bass": [pb.LowShelfFilter(cutoff_frequency_hz=120, gain_db=4.0)],
        "treble": [pb.HighShelfFilter(cutoff_frequency_hz=6000, gain_db=3.0)],
        "vocal": [pb.PeakFilter(cutoff_frequency_hz=2500, gain_db=3.0, q=0.8),
                  pb.LowShelfFilter(cutoff_frequency_hz=150, gain_db=-2.0)],
        "loudness": [pb.LowShelfFilter(cutoff_frequency_hz=100, gain_db=4.0),
                     pb.HighShelfFilter(cutoff_frequency_hz=8000, gain_db=3.0)],
    }


EQ_PRESETS = tuple(_eq_presets())


@dataclass(frozen=True)
class EnhanceOptions:
    """How to make a copy.

    Attributes
    ----------
    target_lufs : float
        Integrated loudness of the copy.
    ceiling_dbtp : float
        Highest true peak of the decoded copy.
    eq : str
        One of ``EQ_PRESETS``.
    codec : str
        "opus" or "vorbis".
    quality : float
        Encoder quality from 0 (smallest) to 1 (best).
    """

    target_lufs: float = -18.0
    ceiling_dbtp: float = -1.0
    eq: str = "flat"
    codec: str = "opus"
    quality: float = 0.6

    def __post_init__(self):
        if self.eq not in EQ_PRESETS:
            raise ValueError(f"unknown EQ preset {self.eq!r}; choose one of {', '.join(EQ_PRESETS)}")
        if self.codec not in CODECS:
            raise ValueError(f"unknown codec {self.codec!r}; choose opus or vorbis")
        if not 0.0 <= self.quality <= 1.0:
            raise ValueError("quality must be between 0 and 1")


@dataclass(frozen=True)
class EnhancedCopy:
    """A written copy and what it measures after decoding."""

    path: Path
    codec: str
    loudness_lufs: float
    true_peak_dbtp: float
    trimmed_s: float

    def as_dict(self) -> dict:
        """Plain dict for storage."""
        return {**asdict(self), "path": str(self.path)}


def process(y: np.ndarray, sr: int, options: EnhanceOptions, *, ceiling_db: float) -> np.ndarray:
    """Run the enhancement chain on a signal.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples.
    sr : int
        Sample rate.
    options : EnhanceOptions
    ceiling_db : float
        Limiter ceiling for this pass.

    Returns
    -------
    np.ndarray [shape=(m, channels), dtype=float32]
    """
    y = (y - y.mean(axis=0)).astype(np.float32)  # DC removal
    board = pb.Pedalboard([pb.HighpassFilter(cutoff_frequency_hz=20.0), *_eq_presets()[options.eq]])
    y = board(y.T, sr).T
    current = loudness.measure(y, sr).integrated_lufs
    if np.isfinite(current):
        y = y * np.float32(10 ** ((options.target_lufs - current) / 20))
    limiter = pb.BrickwallLimiter(ceiling_db=ceiling_db, true_peak=True)
    return limiter(np.ascontiguousarray(y.T), sr).T


def trim_silence(y: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """Cut leading and trailing digital silence; returns the signal and seconds removed."""
    lead, trail = quality.silence_edges(y, sr, threshold_dbfs=TRIM_DBFS)
    start, stop = round(lead * sr), y.shape[0] - round(trail * sr)
    if stop <= start:
        return y, 0.0
    return y[start:stop], lead + trail


def copy_path(doc: dict, library_dir: Path, codec: str) -> Path:
    """Where a track's copy lives: ``library/Artist/Album/Title [id].ext``."""
    def safe(text: str | None, fallback: str) -> str:
        cleaned = re.sub(r'[\x00-\x1f/\\:*?"<>|]+', "_", text or "").strip(" .")
        return cleaned[:80] or fallback

    name = f"{safe(doc.get('title'), 'Untitled')} [{doc['_id'][:8]}]{CODECS[codec][1]}"
    return library_dir / safe(doc.get("artist"), "Unknown artist") / safe(doc.get("album"),
                                                                           "Unknown album") / name


def write_enhanced_copy(y: np.ndarray, sr: int, doc: dict, library_dir: Path,
                        options: EnhanceOptions) -> EnhancedCopy:
    """Write the enhanced copy of a track and verify it decodes within target.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Decoded original.
    sr : int
        Its sample rate.
    doc : dict
        The track's document (title, artist, album, id) for the file name.
    library_dir : Path
        Managed library root.
    options : EnhanceOptions

    Returns
    -------
    EnhancedCopy

    Raises
    ------
    DecodeError
        If the encoded copy cannot be read back.
    """
    subtype, _ = CODECS[options.codec]
    # DC first: an offset would hide the digital silence the trim looks for
    y, trimmed = trim_silence(y - y.mean(axis=0), sr)
    if options.codec == "opus" and sr != OPUS_RATE:  # libopus encodes at 48 kHz
        y, sr = soxr.resample(y, sr, OPUS_RATE, quality="HQ").astype(np.float32), OPUS_RATE
    target = copy_path(doc, library_dir, options.codec)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    ceiling = options.ceiling_dbtp - 0.3  # headroom for the encoder's overshoot
    for _ in range(MAX_PASSES):
        out = process(y, sr, options, ceiling_db=ceiling)
        sf.write(partial, out, sr, format="OGG", subtype=subtype, compression_level=1 - options.quality)
        try:
            decoded, dsr = sf.read(partial, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise DecodeError(f"encoded copy does not decode: {exc}") from exc
        peak = 20 * np.log10(max(quality.true_peak(decoded), 1e-12))
        if peak <= options.ceiling_dbtp:
            break
        ceiling -= peak - options.ceiling_dbtp + 0.1
    partial.replace(target)  # atomic: a crash never leaves a half-written copy in the library
    level = loudness.measure(decoded, dsr).integrated_lufs
    return EnhancedCopy(target, options.codec, round(float(level), 2), round(float(peak), 2),
                        round(trimmed, 3))
