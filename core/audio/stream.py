"""Decode a file block by block: FFmpeg's decoders (PyAV) first, libsndfile for what they reject.

Nothing here holds a whole signal. ``run_stream`` hands a block iterator to a consumer; if FFmpeg
cannot open the file, or fails part-way through it, the consumer is run again from the start on
libsndfile's blocks (some real Ogg files end in an empty packet that FFmpeg's Vorbis decoder
refuses, while libsndfile reads them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import av
import numpy as np
import soundfile as sf

from core.errors import DecodeError

#: Frames per block handed to consumers: about 1.5 s at 44.1 kHz, half a megabyte in stereo.
BLOCK_FRAMES = 1 << 16
T = TypeVar("T")

# Full scale of FFmpeg's integer sample formats, as libsndfile scales them to float.
_INT_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0,
              np.dtype(np.int64): 9223372036854775808.0}


class FFmpegRejected(Exception):
    """FFmpeg could not open or finish decoding a file (libsndfile may still read it)."""


@dataclass
class BlockStream:
    """A file being decoded.

    Attributes
    ----------
    samplerate : int
        Hz.
    channels : int
        Channels of every block.
    blocks : Iterator[np.ndarray [shape=(n, channels), dtype=float32]]
        Consecutive blocks of the whole file, C-contiguous.
    decoder : str
        ``"ffmpeg"`` or ``"libsndfile"``.
    path : Path
        The file.
    """

    samplerate: int
    channels: int
    blocks: Iterator[np.ndarray]
    decoder: str
    path: Path


def run_stream(path: str | Path, consume: Callable[[BlockStream], T], *,
               blocksize: int = BLOCK_FRAMES) -> T:
    """Run ``consume`` over a file's decoded blocks, with libsndfile as the fallback decoder.

    Parameters
    ----------
    path : str or Path
        Audio file (already checked readable).
    consume : callable
        ``consume(stream) -> result``; it may be called twice, so it must start from fresh state.
    blocksize : int
        Frames per block.

    Returns
    -------
    The result of ``consume``.

    Raises
    ------
    DecodeError
        If neither decoder reads the file, with both reasons.
    """
    try:
        return consume(open_ffmpeg(path, blocksize=blocksize))
    except FFmpegRejected as rejected:
        try:
            return consume(open_sndfile(path, blocksize=blocksize))
        except DecodeError as exc:
            raise DecodeError(f"{exc} (FFmpeg: {rejected})") from exc


def open_ffmpeg(path: str | Path, *, blocksize: int = BLOCK_FRAMES) -> BlockStream:
    """Open a file with FFmpeg's decoders (PyAV); blocks at the file's own rate and channels.

    Raises
    ------
    FFmpegRejected
        If FFmpeg cannot open it or finds no audio stream; iterating the blocks raises it too
        when decoding fails part-way.
    """
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise FFmpegRejected(_reason(exc)) from exc
    if not container.streams.audio:
        container.close()
        raise FFmpegRejected("no audio stream")
    codec = container.streams.audio[0].codec_context
    channels = codec.layout.nb_channels
    if not codec.sample_rate or not channels:
        container.close()
        raise FFmpegRejected("no sample rate or channel count")
    blocks = _ffmpeg_blocks(container, channels, blocksize)
    return BlockStream(codec.sample_rate, channels, blocks, "ffmpeg", Path(path))


def open_sndfile(path: str | Path, *, blocksize: int = BLOCK_FRAMES) -> BlockStream:
    """Open a file with libsndfile.

    Raises
    ------
    DecodeError
        If libsndfile cannot open it; iterating the blocks raises it when decoding fails.
    """
    from core.audio.decode import as_decode_error

    with as_decode_error(Path(path)):
        # bytes: libsndfile opens any name, also one that is not valid UTF-8
        handle = sf.SoundFile(os.fsencode(path))
    return BlockStream(handle.samplerate, handle.channels, _sndfile_blocks(handle, blocksize, path),
                       "libsndfile", Path(path))


def _sndfile_blocks(handle: sf.SoundFile, blocksize: int, path: str | Path) -> Iterator[np.ndarray]:
    from core.audio.decode import as_decode_error

    with as_decode_error(Path(path)), handle:
        yield from handle.blocks(blocksize=blocksize, dtype="float32", always_2d=True)


def _ffmpeg_blocks(container, channels: int, blocksize: int) -> Iterator[np.ndarray]:
    """FFmpeg's decoded frames joined into blocks by its own sample FIFO.

    Vorbis frames hold 128-1024 samples: numpy work per frame costs a third of decoding them,
    so the frames go into FFmpeg's FIFO (one C call each) and come out as whole blocks,
    converted to float32 once per block.
    """
    fifo, drop = av.AudioFifo(), 0
    with container:
        try:
            for frame in container.decode(audio=0):
                if frame.layout.nb_channels != channels:
                    raise FFmpegRejected("channel count changes within the stream")
                pts = frame.pts
                priming = pts is not None and pts < 0
                if priming:
                    # the encoder's priming samples (negative time) lead the stream: libsndfile
                    # drops them too
                    drop += min(frame.samples, round(-pts * frame.time_base * frame.sample_rate))
                frame.pts = None  # the FIFO would check that timestamps run on; we do not use them
                fifo.write(frame)
                if priming:
                    continue
                if drop:
                    fifo.read(drop)
                    drop = 0
                while fifo.samples >= blocksize:
                    yield _block(fifo.read(blocksize), channels)
        except (av.error.FFmpegError, ValueError) as exc:  # ValueError: the format changed
            raise FFmpegRejected(_reason(exc)) from exc
    if drop:
        fifo.read(drop)
    if fifo.samples_written == drop:
        raise FFmpegRejected("no audio decoded")
    if fifo.samples:
        yield _block(fifo.read(), channels)


def _block(frame, channels: int) -> np.ndarray:
    """A FIFO's frame as float32 frames by channels, a new C-contiguous array."""
    dtype = np.dtype(_SAMPLE_TYPES[frame.format.name.rstrip("p")])
    out = np.empty((frame.samples, channels), dtype=np.float32)
    if frame.format.is_planar:
        for channel, plane in enumerate(frame.planes):
            out[:, channel] = _as_float(np.frombuffer(plane, dtype, count=frame.samples))
    else:
        packed = np.frombuffer(frame.planes[0], dtype, count=frame.samples * channels)
        out[:] = _as_float(packed.reshape(-1, channels))
    return out


_SAMPLE_TYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "s64": np.int64,
                 "flt": np.float32, "dbl": np.float64}


def _as_float(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1]: integers scaled as libsndfile scales them."""
    if samples.dtype == np.uint8:
        return (samples.astype(np.float32) - 128.0) / 128.0
    scale = _INT_SCALE.get(samples.dtype)
    if scale is not None:
        return samples.astype(np.float32) * np.float32(1.0 / scale)
    return samples.astype(np.float32, copy=False)


def _reason(exc: BaseException) -> str:
    # PyAV's errors repeat the path; keep FFmpeg's own words
    return getattr(exc, "strerror", None) or str(exc)


def feed_in_slices(consumer, y: np.ndarray, *, blocksize: int = BLOCK_FRAMES) -> None:
    """Feed a signal already in memory to a streaming consumer, one block-sized view at a time.

    Parameters
    ----------
    consumer : object with ``feed(block)``
        A streaming meter.
    y : np.ndarray [shape=(n, ...)]
        Samples.
    blocksize : int
        Frames per view (bounds the consumer's temporaries).
    """
    for start in range(0, len(y), blocksize):
        consumer.feed(y[start : start + blocksize])
