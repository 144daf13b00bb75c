"""Read audio files into float32 arrays, with a clear ``DecodeError`` for anything unreadable."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from core.errors import DecodeError

#: Extensions libsndfile decodes itself.
NATIVE_EXTENSIONS = frozenset({".mp3", ".ogg", ".oga", ".opus", ".flac", ".wav", ".aif", ".aiff"})
#: Extensions that need ffmpeg.
FFMPEG_EXTENSIONS = frozenset({".m4a"})


def supported_extensions() -> frozenset[str]:
    """Return the file extensions this machine can decode (``.m4a`` only with ffmpeg).

    Returns
    -------
    frozenset of str
        Lower-case extensions with the leading dot.
    """
    if shutil.which("ffmpeg"):
        return NATIVE_EXTENSIONS | FFMPEG_EXTENSIONS
    return NATIVE_EXTENSIONS


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about a file, read without decoding it."""

    samplerate: int
    channels: int
    frames: int
    format: str
    subtype: str
    size_bytes: int

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.samplerate if self.samplerate else 0.0

    @property
    def bit_depth(self) -> int | None:
        """Bits per sample of PCM formats; ``None`` for lossy codecs."""
        digits = "".join(ch for ch in self.subtype if ch.isdigit())
        return int(digits) if self.subtype.startswith("PCM") and digits else None

    @property
    def bitrate_kbps(self) -> float:
        """Average bitrate of the file on disk."""
        return self.size_bytes * 8 / self.duration_s / 1000 if self.duration_s else 0.0


def check_readable(path: Path) -> None:
    """Raise ``DecodeError`` unless ``path`` is an existing, readable, non-empty regular file.

    Running as root makes permission bits meaningless, so the check opens the file.
    """
    if path.is_symlink() and not path.exists():
        raise DecodeError(f"dangling symbolic link: {path}")
    if not path.exists():
        raise DecodeError(f"file not found: {path}")
    if not path.is_file():
        raise DecodeError(f"not a regular file: {path}")
    try:
        with path.open("rb") as handle:
            first = handle.read(1)
    except OSError as exc:
        raise DecodeError(f"cannot open {path}: {exc.strerror or exc}") from exc
    if not first:
        raise DecodeError(f"empty file (0 bytes): {path}")


def probe(path: str | os.PathLike) -> AudioInfo:
    """Read a file's format without decoding its audio.

    Parameters
    ----------
    path : str or PathLike
        Audio file.

    Returns
    -------
    AudioInfo

    Raises
    ------
    DecodeError
        If the file is unreadable or not audio.
    """
    path = Path(path)
    check_readable(path)
    if path.suffix.lower() in FFMPEG_EXTENSIONS:
        return _ffprobe(path)
    with _as_decode_error(path):
        info = sf.info(str(path))
    if info.frames <= 0 or info.samplerate <= 0:
        raise DecodeError(f"no audio frames in {path}")
    return AudioInfo(info.samplerate, info.channels, info.frames, info.format, info.subtype,
                     path.stat().st_size)


def read(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Decode a whole file.

    Parameters
    ----------
    path : str or PathLike
        Audio file.

    Returns
    -------
    y : np.ndarray [shape=(n, channels), dtype=float32]
        Samples in [-1, 1].
    sr : int
        Sample rate in Hz.

    Raises
    ------
    DecodeError
        If the file is unreadable, not audio, or decodes to nothing.
    """
    path = Path(path)
    check_readable(path)
    if path.suffix.lower() in FFMPEG_EXTENSIONS:
        y, sr = _ffmpeg_read(path)
    else:
        with _as_decode_error(path):
            y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    if y.shape[0] == 0:
        raise DecodeError(f"decoded to zero samples: {path}")
    if not np.isfinite(y).all():
        raise DecodeError(f"decoded samples are not finite (corrupt stream): {path}")
    return y, sr


def blocks(path: str | os.PathLike, *, blocksize: int, start: int = 0) -> Iterator[np.ndarray]:
    """Decode a file block by block, for playback and for checks that need no whole signal.

    Parameters
    ----------
    path : str or PathLike
        Audio file readable by libsndfile.
    blocksize : int
        Frames per block.
    start : int
        First frame to read (seek).

    Yields
    ------
    np.ndarray [shape=(blocksize, channels), dtype=float32]
        The last block may be shorter.
    """
    path = Path(path)
    check_readable(path)
    if path.suffix.lower() in FFMPEG_EXTENSIONS:
        y, _ = _ffmpeg_read(path)
        for i in range(start, y.shape[0], blocksize):
            yield y[i : i + blocksize]
        return
    with _as_decode_error(path), sf.SoundFile(str(path)) as handle:
        handle.seek(start)
        yield from handle.blocks(blocksize=blocksize, dtype="float32", always_2d=True)


@contextlib.contextmanager
def _as_decode_error(path: Path) -> Iterator[None]:
    """Turn libsndfile's errors into ``DecodeError`` naming the file once."""
    try:
        yield
    except (sf.LibsndfileError, RuntimeError) as exc:
        text = str(exc)
        # libsndfile prefixes its message with the path; keep only its reason
        reason = text.split(": ", 1)[-1] if ": " in text else text
        raise DecodeError(f"not a readable audio file ({reason}): {path}") from exc


def _ffmpeg_read(path: Path) -> tuple[np.ndarray, int]:
    info = _ffprobe(path)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "f32le", "-acodec",
           "pcm_f32le", "-ac", str(info.channels), "-ar", str(info.samplerate), "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise DecodeError(f"ffmpeg could not decode {path}: {proc.stderr.decode(errors='replace')}")
    y = np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, info.channels)
    return y.copy(), info.samplerate


def _ffprobe(path: Path) -> AudioInfo:
    if not shutil.which("ffprobe"):
        raise DecodeError(f"{path.suffix} needs ffmpeg, which is not installed: {path}")
    cmd = ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels,codec_name:format=duration", "-of", "default=nw=1", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    fields = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    try:
        sr, channels = int(fields["sample_rate"]), int(fields["channels"])
        duration = float(fields["duration"])
    except (KeyError, ValueError) as exc:
        raise DecodeError(f"not a readable audio file (ffprobe found no audio): {path}") from exc
    return AudioInfo(sr, channels, round(duration * sr), "M4A", fields.get("codec_name", "AAC"),
                     path.stat().st_size)
