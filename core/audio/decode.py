"""Read audio files into float32 arrays, with a clear ``DecodeError`` for anything unreadable."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio import stream
from core.errors import DecodeError

#: Extensions libsndfile decodes itself.
NATIVE_EXTENSIONS = frozenset({".mp3", ".ogg", ".oga", ".opus", ".flac", ".wav", ".aif", ".aiff"})
#: Extensions only FFmpeg decodes (PyAV ships FFmpeg's libraries, so they are always there).
FFMPEG_EXTENSIONS = frozenset({".m4a", ".aac", ".wma"})


def supported_extensions() -> frozenset[str]:
    """Return the file extensions Encore decodes.

    Returns
    -------
    frozenset of str
        Lower-case extensions with the leading dot.
    """
    return NATIVE_EXTENSIONS | FFMPEG_EXTENSIONS


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
    try:
        with as_decode_error(path):
            # bytes, here and below: soundfile cannot encode a name that is not valid UTF-8
            info = sf.info(os.fsencode(path))
    except DecodeError:
        # libsndfile knows no AAC or WMA; FFmpeg reads the container's header instead
        return _ffmpeg_probe(path)
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
        sr = _ffmpeg_probe(path).samplerate
        y = np.concatenate(list(_ffmpeg_blocks(path, stream.BLOCK_FRAMES)))
    else:
        with as_decode_error(path):
            y, sr = sf.read(os.fsencode(path), dtype="float32", always_2d=True)
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
        yield from _skip(_ffmpeg_blocks(path, blocksize), start)
        return
    with as_decode_error(path), sf.SoundFile(os.fsencode(path)) as handle:
        handle.seek(start)
        yield from handle.blocks(blocksize=blocksize, dtype="float32", always_2d=True)


def _ffmpeg_blocks(path: Path, blocksize: int) -> Iterator[np.ndarray]:
    """FFmpeg's blocks of a file libsndfile cannot read, its failures as ``DecodeError``."""
    try:
        yield from stream.open_ffmpeg(path, blocksize=blocksize).blocks
    except stream.FFmpegRejected as exc:
        raise DecodeError(f"not a readable audio file ({exc}): {path}") from exc


def _skip(blocks: Iterator[np.ndarray], start: int) -> Iterator[np.ndarray]:
    """Blocks from frame ``start`` on (FFmpeg's streams are decoded up to a seek point)."""
    for block in blocks:
        if start < len(block):
            yield block[start:]
        start = max(0, start - len(block))


@contextlib.contextmanager
def as_decode_error(path: Path) -> Iterator[None]:
    """Turn libsndfile's errors into ``DecodeError`` naming the file once."""
    try:
        yield
    except (sf.LibsndfileError, RuntimeError) as exc:
        text = str(exc)
        # libsndfile prefixes its message with the path; keep only its reason
        reason = text.split(": ", 1)[-1] if ": " in text else text
        raise DecodeError(f"not a readable audio file ({reason}): {path}") from exc


def _ffmpeg_probe(path: Path) -> AudioInfo:
    """What FFmpeg's demuxer says of a file libsndfile cannot open (rate, channels, length)."""
    import av

    try:
        with av.open(str(path)) as container:
            audio = container.streams.audio[0]
            codec, seconds = audio.codec_context, container.duration
            if audio.duration is not None and audio.time_base is not None:
                seconds = float(audio.duration * audio.time_base)
            elif seconds is not None:
                seconds /= av.time_base
    except (av.error.FFmpegError, IndexError) as exc:
        reason = getattr(exc, "strerror", None) or "no audio stream"
        raise DecodeError(f"not a readable audio file ({reason}): {path}") from exc
    if not seconds or not codec.sample_rate:
        raise DecodeError(f"no audio frames in {path}")
    return AudioInfo(codec.sample_rate, codec.layout.nb_channels, round(seconds * codec.sample_rate),
                     path.suffix[1:].upper(), codec.name.upper(), path.stat().st_size)
