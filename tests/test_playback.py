"""The playback engine through real PortAudio: what reaches the device is what the file holds,
with ReplayGain and volume applied, from the right place, without gaps between tracks."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

from core.playback.engine import PlaybackEngine
from core.playback.playqueue import PlayQueue
from core.playback.source import PlayItem, replaygain_factor
from tests.audio import noise, played_frames, write
from tests.waiting import wait_for

SR = 44100


def wait_stopped(engine: PlaybackEngine, timeout: float = 30) -> None:
    """Until the engine has played everything and released the device (flushing the capture)."""
    def done() -> bool:
        status = engine.status()
        return bool(status.serial) and status.state == "stopped" and not engine.output_open

    wait_for(done, timeout, what="the end of playback and the device's release")


def track(tmp_path, name: str, seconds: float, seed: int, sr: int = SR) -> tuple[PlayItem, np.ndarray]:
    y = np.clip(noise(seconds=seconds, sr=sr, rms_dbfs=-14, seed=seed), -1, 1)
    path = write(tmp_path / f"{name}.wav", y, sr, subtype="FLOAT")
    return PlayItem(name, str(path), title=name, duration_s=seconds), y


def buffered_engine(**kwargs) -> PlaybackEngine:
    # The ALSA file device is not paced: buffer whole tracks before they start so the capture
    # shows the engine's output, not how fast this machine decodes.
    return PlaybackEngine(buffer_s=30, prefill_s=30, **kwargs)


def test_replaygain_factor_prevents_clipping():
    assert replaygain_factor(-6.0, 0.5) == pytest.approx(10 ** (-6 / 20))
    assert replaygain_factor(+6.0, 0.9) == pytest.approx(1 / 0.9)  # +6 dB would clip the peak
    assert replaygain_factor(+3.0, 0.0) == pytest.approx(10 ** (3 / 20))  # unknown peak


def test_samples_reaching_portaudio_equal_the_file_with_gain_and_volume(tmp_path, capture):
    item, y = track(tmp_path, "a", 1.5, seed=1)
    gain = replaygain_factor(-4.5, float(np.abs(y).max()))
    item = PlayItem(item.track_id, item.path, duration_s=item.duration_s, gain=gain)
    engine = buffered_engine()
    engine.volume = 0.5
    engine.play(item)
    wait_stopped(engine)
    engine.close()
    played = played_frames(capture)
    expected = (y * np.float32(gain)) * np.float32(0.5)
    assert len(played) >= len(y)
    np.testing.assert_array_equal(played[: len(y)], expected)
    assert not played[len(y):].any()  # then silence, nothing repeated
    assert engine.status().underruns == 0


def test_play_from_a_position_starts_at_that_sample(tmp_path, capture):
    item, y = track(tmp_path, "b", 2.0, seed=2)
    engine = buffered_engine()
    engine.play(item, start_s=1.25)
    wait_stopped(engine)
    engine.close()
    start = round(1.25 * SR)
    np.testing.assert_array_equal(played_frames(capture)[: len(y) - start], y[start:])


def test_next_track_follows_without_a_gap(tmp_path, capture):
    first, y1 = track(tmp_path, "c1", 1.0, seed=3)
    second, y2 = track(tmp_path, "c2", 1.0, seed=4)
    queue = PlayQueue([second])
    engine = buffered_engine(next_item=queue.pop_next)
    engine.play(first)
    wait_stopped(engine)
    engine.close()
    both = np.concatenate([y1, y2])
    np.testing.assert_array_equal(played_frames(capture)[: len(both)], both)
    assert len(queue) == 0


def test_mono_file_at_another_rate_is_converted(tmp_path, capture):
    y = noise(seconds=1.0, sr=22050, channels=1, rms_dbfs=-20, seed=5)
    path = write(tmp_path / "mono.flac", y, 22050)
    engine = buffered_engine()
    engine.play(PlayItem("m", str(path), duration_s=1.0))
    wait_stopped(engine)
    engine.close()
    played = played_frames(capture)
    decoded, _ = sf.read(path, dtype="float32", always_2d=True)
    # The device accepted 22050 Hz: mono copied to both channels, bit for bit.
    np.testing.assert_array_equal(played[: len(decoded)], np.repeat(decoded, 2, axis=1))


def test_a_device_that_cannot_open_is_reported_and_playback_goes_on(tmp_path):
    item, _ = track(tmp_path, "d", 0.6, seed=6)
    engine = PlaybackEngine(device=9999)
    engine.play(item)
    wait_for(lambda: engine.status().error is not None, what="the device error")
    status = engine.status()
    assert status.error and "9999" in status.error
    assert status.state in ("buffering", "playing")  # the paced null output keeps time
    engine.close()


def test_corrupt_file_is_reported_not_fatal(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF0000WAVEjunk" * 20)
    good, _ = track(tmp_path, "e", 0.5, seed=7)
    engine = PlaybackEngine(device="null")
    engine.play(PlayItem("bad", str(bad)))
    wait_for(lambda: engine.status().error is not None, what="the decode error")
    assert "bad.wav" in engine.status().error
    engine.play(good)  # the engine still works
    wait_for(lambda: engine.status().item == good, what="the good track")
    engine.close()


def test_seek_and_pause_move_the_position_in_real_time(tmp_path):
    item, _ = track(tmp_path, "f", 8.0, seed=8)
    engine = PlaybackEngine(device="null")
    engine.play(item)
    wait_for(lambda: engine.status().state == "playing", what="playing")
    serial = engine.status().serial
    engine.seek(5.0)
    wait_for(lambda: engine.status().position_s >= 5.0, what="the seek")
    start = time.monotonic()
    wait_for(lambda: engine.status().position_s >= 5.5, what="time to pass after the seek")
    # The paced output plays in real time: 0.5 s of audio took about 0.5 s of wall time.
    assert time.monotonic() - start < 2.0
    assert engine.status().serial == serial  # a seek is not a new start (not a new play)
    engine.pause()
    wait_for(lambda: engine.status().state == "paused", what="paused")
    held = engine.status().position_s
    # The null output keeps calling back while paused; the position must not move meanwhile.
    callbacks = engine.fills
    wait_for(lambda: engine.fills >= callbacks + 10, what="ten callbacks while paused")
    assert engine.status().position_s == held
    engine.close()


def test_encore_smoke_test_plays_a_file_and_exits_0(tmp_path):
    import os
    import subprocess
    import sys

    track(tmp_path, "smoke", 0.5, seed=9)
    proc = subprocess.run([sys.executable, "-m", "player", "--smoke-test", str(tmp_path / "smoke.wav")],
                          capture_output=True, text=True, timeout=60, env={**os.environ}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "state stopped, error None" in proc.stdout


def test_a_following_track_at_another_rate_is_resampled_to_the_stream(tmp_path, capture):
    first, y1 = track(tmp_path, "r1", 0.5, seed=10)
    t = np.arange(22050) / 22050
    tone = np.repeat((0.3 * np.sin(2 * np.pi * 440 * t))[:, None], 2, axis=1).astype(np.float32)
    path = write(tmp_path / "r2.wav", tone, 22050, subtype="FLOAT")
    engine = buffered_engine(next_item=PlayQueue([PlayItem("r2", str(path), duration_s=1.0)]).pop_next)
    engine.play(first)
    wait_stopped(engine)
    engine.close()
    played = played_frames(capture)
    np.testing.assert_array_equal(played[: len(y1)], y1)
    second = played[len(y1) : len(y1) + SR]  # one second at the stream's 44.1 kHz
    expected = 0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    lag = int(np.argmax(np.correlate(second[:2000, 0], expected[:1000], mode="valid")))
    np.testing.assert_allclose(second[lag + 200 : SR - 400, 0], expected[200 : SR - 400 - lag], atol=0.01)
