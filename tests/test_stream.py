"""One streaming pass: block boundaries in awkward places give the whole-signal answers.

References are computed here independently on the whole signal (full-length filtering and
oversampling, brute-force run counting), not with the streaming code.
"""

import struct
import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from core.audio import loudness, quality, stream
from core.library.analyse import analyse_file
from tests.audio import noise, sine, write

# Feed sizes that cut through 1024-frame blocks, 100 ms loudness steps and clipped runs.
AWKWARD = (1, 1023, 2, 4799, 7, 48001, 1025, 333)


def feed_awkwardly(meter, y: np.ndarray) -> None:
    start, sizes = 0, iter(AWKWARD * 1000)
    while start < len(y):
        size = next(sizes)
        meter.feed(y[start : start + size])
        start += size


def reference_loudness(y: np.ndarray, sr: int) -> float:
    """BS.1770-4 integrated loudness, textbook style: whole-signal filter, one window at a time."""
    weighted = signal.sosfilt(loudness.k_weighting(sr), y.astype(np.float64), axis=0)
    window, step = round(0.4 * sr), round(0.1 * sr)
    powers = np.array([(weighted[i : i + window] ** 2).mean(axis=0).sum()
                       for i in range(0, len(y) - window + 1, step)])
    lufs = -0.691 + 10 * np.log10(powers)
    gated = powers[lufs > -70]
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10
    return float(-0.691 + 10 * np.log10(gated[-0.691 + 10 * np.log10(gated) > relative].mean()))


def reference_runs(y: np.ndarray) -> list[int]:
    """Lengths of clipped runs per channel, one sample at a time."""
    lengths = []
    for channel in y.T:
        run = 0
        for value in np.append(np.abs(channel) >= quality.CLIP_LEVEL, False):
            if value:
                run += 1
            elif run:
                lengths.append(run) if run >= quality.CLIP_MIN_RUN else None
                run = 0
    return lengths


def test_streamed_loudness_equals_whole_signal_reference():
    sr = 48000
    y = np.concatenate([sine(997, sr=sr, seconds=3.37, peak_dbfs=-30),
                        noise(sr=sr, seconds=4.21, rms_dbfs=-18)])
    meter = loudness.LoudnessMeter(sr, 2)
    feed_awkwardly(meter, y)
    streamed = meter.result()
    assert streamed.integrated_lufs == pytest.approx(reference_loudness(y, sr), abs=0.01)
    whole = loudness.measure(y, sr)
    assert streamed.range_lu == pytest.approx(whole.range_lu, abs=1e-6)


def test_clipped_run_split_across_blocks_is_counted_once():
    y = sine(50, sr=48000, seconds=1, peak_dbfs=-12)
    y[1022:1025, 0] = 1.0  # 3 clipped frames across a 1024-frame block edge (and a feed edge)
    y[2047:2049, 1] = -1.0  # 2 frames: too short to count ...
    y[5000:5001, 1] = 1.0  # ... as is a single one
    y[9000:9010, 1] = 1.0  # 10 frames split by feeds of 1 and 7
    meter = quality.QualityMeter(48000, 2, lossless=True, expected_frames=len(y))
    feed_awkwardly(meter, y)
    clip = meter.result().clipping
    assert sorted(reference_runs(y)) == [3, 10]
    assert (clip.runs, clip.longest_run) == (2, 10)
    assert clip.share == pytest.approx(13 / y.size)


def test_true_peak_between_blocks_equals_full_oversampling():
    y = (0.05 * np.random.default_rng(3).standard_normal((20 * 1024 + 77, 2))).astype(np.float32)
    n = np.arange(16)
    # A quarter-rate burst sampled 45 degrees off its crests, straddling the edge of blocks 9/10:
    # its samples reach 0.68, its interpolated peak 0.96.
    y[10 * 1024 - 8 : 10 * 1024 + 8, 1] = 0.96 * np.sin(np.pi / 2 * n + np.pi / 4)
    full = float(np.abs(signal.upfirdn(quality._TAPS, y, up=quality.OVERSAMPLE, axis=0)).max())
    meter = quality.QualityMeter(48000, 2, lossless=False, expected_frames=len(y))
    feed_awkwardly(meter, y)
    tp = 10 ** (meter.result().true_peak_dbtp / 20)
    assert full > 0.9 > np.abs(y).max()
    assert tp == pytest.approx(full, rel=1e-5)


def test_streamed_quality_report_equals_one_block():
    sr = 44100
    y = np.concatenate([np.zeros((sr * 3 + 11, 2)), noise(sr=sr, seconds=25, rms_dbfs=-20) + 0.02,
                        np.zeros((sr + 5, 2))]).astype(np.float32)
    meter = quality.QualityMeter(sr, 2, lossless=True, expected_frames=len(y))
    feed_awkwardly(meter, y)
    streamed = meter.result()
    whole = quality.QualityMeter(sr, 2, lossless=True, expected_frames=len(y))
    whole.feed(y)
    assert streamed.as_dict() == whole.result().as_dict()
    assert streamed.leading_silence_s == pytest.approx((sr * 3 + 11) / sr)
    assert streamed.trailing_silence_s == pytest.approx((sr + 5) / sr)
    assert streamed.dc_offset == pytest.approx(0.02 * 25 * sr / len(y), abs=1e-3)  # the mean


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        value = byte << 24
        for _ in range(8):
            value = ((value << 1) ^ 0x04C11DB7) if value & 0x80000000 else value << 1
        table.append(value & 0xFFFFFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def _ogg_crc(page: bytes) -> int:
    """Ogg's page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, initial value 0."""
    crc = 0
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def with_empty_last_packet(path):
    """Append a zero-length packet to an Ogg file's last page, as in supertux's christmas_theme.ogg:
    FFmpeg's Vorbis decoder refuses it (EINVAL), libsndfile skips it."""
    data = path.read_bytes()
    last = data.rindex(b"OggS")
    page = bytearray(data[last:])
    count = page[26]
    page = page[:26] + bytes([count + 1]) + page[27 : 27 + count] + b"\x00" + page[27 + count :]
    page[22:26] = b"\0\0\0\0"
    page[22:26] = struct.pack("<I", _ogg_crc(bytes(page)))
    path.write_bytes(data[:last] + bytes(page))
    return path


def test_file_ffmpeg_rejects_falls_back_to_libsndfile(tmp_path):
    y = sine(997, sr=44100, seconds=4, peak_dbfs=-6)
    path = with_empty_last_packet(write(tmp_path / "empty-packet.ogg", y, 44100,
                                        format="OGG", subtype="VORBIS"))
    with pytest.raises(stream.FFmpegRejected):
        list(stream.open_ffmpeg(path).blocks)
    used = []

    def frames(opened):
        used.append(opened.decoder)
        return sum(len(block) for block in opened.blocks)

    assert stream.run_stream(path, frames) == len(y)
    assert used == ["ffmpeg", "libsndfile"]
    doc = analyse_file(str(path)).doc
    # BS.1770's calibration: a 997 Hz sine in both channels reads its peak level in LUFS
    assert doc["loudness"]["integrated_lufs"] == pytest.approx(-6.0, abs=0.1)


@pytest.mark.parametrize("name, subtype, channels", [
    ("pcm16.flac", "PCM_16", 2), ("pcm24.flac", "PCM_24", 1), ("u8.wav", "PCM_U8", 2),
    ("float.wav", "FLOAT", 6), ("double.wav", "DOUBLE", 1), ("pcm32.wav", "PCM_32", 2),
])
def test_ffmpeg_blocks_equal_libsndfile_samples(tmp_path, name, subtype, channels):
    y = noise(sr=44100, seconds=3, rms_dbfs=-12, channels=channels).clip(-1, 1)
    path = write(tmp_path / name, y, 44100, subtype=subtype)
    blocks = list(stream.open_ffmpeg(path, blocksize=1000).blocks)
    sndfile = np.concatenate(list(stream.open_sndfile(path).blocks))
    np.testing.assert_allclose(np.concatenate(blocks), sndfile, rtol=0, atol=1e-7)
    assert [len(b) for b in blocks] == [1000] * 132 + [300]
    assert all(b.dtype == np.float32 and b.flags.c_contiguous for b in blocks)


def test_analysis_processes_import_no_index_code():
    """Forked analysis processes carry what the import process loaded: keep the index out."""
    code = ("import sys, core.library.pipeline; "
            "print(sorted(m for m in ('sklearn', 'scipy.signal', 'datasketch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
