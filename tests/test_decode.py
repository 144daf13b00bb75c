"""Bad input gets a clear reason and never aborts an import."""

import os
import re

import av
import numpy as np
import pytest
import soundfile as sf

from core.audio import decode, tags
from core.errors import DecodeError
from core.library.analyse import AnalyseOptions, analyse_file
from core.library.discover import Skipped, discover
from core.library.pipeline import _safe_analyse
from tests.audio import sine, write


@pytest.fixture
def bad_folder(tmp_path):
    good = write(tmp_path / "good.flac", sine(440, seconds=3, sr=44100), 44100)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.mp3").write_text("this is not audio, just text renamed to .mp3\n" * 20)
    corrupt = bytearray(good.read_bytes())
    corrupt[40:4000] = np.random.default_rng(11).bytes(3960)  # the same damage every run
    (tmp_path / "corrupt.flac").write_bytes(bytes(corrupt))
    full = (tmp_path / "good.flac").read_bytes()
    (tmp_path / "truncated.flac").write_bytes(full[: len(full) // 3])
    (tmp_path / "x.mp3").mkdir()
    (tmp_path / "dangling.ogg").symlink_to(tmp_path / "missing.ogg")
    write(tmp_path / "ünïcødé 音楽.wav", sine(330, seconds=3, sr=22050), 22050)
    (tmp_path / "notes.txt").write_text("ignored: not an audio extension")
    return tmp_path


def test_discover_lists_audio_and_reports_non_files(bad_folder):
    files, skipped = discover(bad_folder)
    names = {os.path.basename(f) for f in files}
    assert names == {"good.flac", "empty.wav", "text.mp3", "corrupt.flac", "truncated.flac",
                     "ünïcødé 音楽.wav"}
    reasons = {os.path.basename(s.path): s.reason for s in skipped}
    assert reasons["x.mp3"] == "a folder, not an audio file"
    assert reasons["dangling.ogg"] == "dangling symbolic link"


@pytest.mark.parametrize("name, reason", [
    ("empty.wav", "empty file"),
    ("text.mp3", "not a readable audio file"),
    ("dangling.ogg", "dangling symbolic link"),
    ("x.mp3", "not a regular file"),
    ("missing.flac", "file not found"),
])
def test_unreadable_files_raise_decode_error_with_reason(bad_folder, name, reason):
    with pytest.raises(DecodeError, match=reason):
        decode.read(bad_folder / name)


@pytest.mark.parametrize("name, reason", [
    ("corrupt.flac", "not a readable audio file"),
    # both decoders stop where the file does; FFmpeg's reason is kept beside libsndfile's
    ("truncated.flac", r"lost sync.*\(FFmpeg: Invalid data"),
    ("text.mp3", "not a readable audio file"),
    ("empty.wav", "empty file"),
])
def test_corrupt_and_truncated_files_are_skipped_with_their_reason(bad_folder, name, reason):
    result = _safe_analyse(str(bad_folder / name), AnalyseOptions())
    assert isinstance(result, Skipped) and re.search(reason, result.reason), result
    assert result.path == str(bad_folder / name)


def test_unicode_named_file_decodes_and_falls_back_to_file_name_title(bad_folder):
    path = bad_folder / "ünïcødé 音楽.wav"
    y, sr = decode.read(path)
    assert sr == 22050 and y.shape == (3 * 22050, 2)
    meta = tags.read_tags(path)
    assert meta.title == "ünïcødé 音楽" and meta.album == bad_folder.name and not meta.tagged


def test_blocks_yield_the_whole_file_from_a_seek_point(tmp_path):
    path = write(tmp_path / "t.wav", sine(440, seconds=1, sr=8000, channels=1), 8000)
    whole, _ = sf.read(path, dtype="float32", always_2d=True)
    parts = np.concatenate(list(decode.blocks(path, blocksize=1000, start=500)))
    np.testing.assert_array_equal(parts, whole[500:])


def test_probe_reports_format_fields(tmp_path):
    path = write(tmp_path / "t.flac", sine(440, seconds=2, sr=44100), 44100, subtype="PCM_24")
    info = decode.probe(path)
    assert (info.samplerate, info.channels, info.bit_depth) == (44100, 2, 24)
    assert info.duration_s == pytest.approx(2.0)


def write_m4a(path, y: np.ndarray, sr: int):
    """AAC in an MP4 container, encoded with PyAV's own FFmpeg (libsndfile cannot read it)."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=sr, layout="stereo")
        for start in range(0, len(y), 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(y[start : start + 1024].T),
                                               format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = sr, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_m4a_probes_plays_and_analyses_through_ffmpeg(tmp_path):
    path = write_m4a(tmp_path / "aac.m4a", sine(997, seconds=3, sr=44100, peak_dbfs=-10), 44100)
    info = decode.probe(path)
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("M4A", "AAC", 44100, 2)
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    played = np.concatenate(list(decode.blocks(path, blocksize=4096, start=44100)))
    assert len(played) == pytest.approx(2 * 44100, abs=2048)  # the encoder pads its last frame
    doc = analyse_file(str(path)).doc
    assert doc["loudness"]["integrated_lufs"] == pytest.approx(-10.0, abs=0.2)
