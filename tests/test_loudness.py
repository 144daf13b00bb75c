"""BS.1770 / EBU R128 loudness and ReplayGain 2.0 against known values and pyloudnorm."""

import itertools

import numpy as np
import pyloudnorm
import pytest

from core.audio import loudness
from tests.audio import noise, sine


def test_997hz_sine_at_minus_20_dbfs_stereo_reads_minus_20_lufs():
    assert loudness.measure(sine(997, peak_dbfs=-20), 48000).integrated_lufs == pytest.approx(
        -20.0, abs=0.1)


def test_same_sine_in_mono_reads_3db_lower():
    mono = loudness.measure(sine(997, peak_dbfs=-20, channels=1), 48000).integrated_lufs
    assert mono == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize("sr", [44100, 48000, 32000])
def test_agrees_with_pyloudnorm_on_noise(sr):
    y = noise(sr=sr, seconds=8, rms_dbfs=-25)
    ours = loudness.measure(y, sr).integrated_lufs
    reference = pyloudnorm.Meter(sr).integrated_loudness(y.astype(np.float64))
    assert ours == pytest.approx(reference, abs=0.15)


def test_replaygain_of_a_known_level():
    # A 997 Hz sine peaking at -10 dBFS in both channels reads -10 LUFS, so it needs -8 dB
    # to reach ReplayGain 2.0's -18 LUFS.
    assert loudness.measure(sine(997, peak_dbfs=-10), 48000).replaygain_db == pytest.approx(
        -8.0, abs=0.05)
    assert loudness.measure(sine(997, peak_dbfs=-30, channels=1, sr=44100), 44100).replaygain_db == (
        pytest.approx(15.0, abs=0.05))  # mono: -33 LUFS


def test_silence_has_no_loudness_and_zero_gain():
    level = loudness.measure(np.zeros((48000 * 2, 2), dtype=np.float32), 48000)
    assert level.integrated_lufs == float("-inf") and level.replaygain_db == 0.0
    assert level.as_dict()["integrated_lufs"] is None


def test_loudness_range_of_a_two_level_signal():
    quiet, loud = sine(997, peak_dbfs=-30, seconds=20), sine(997, peak_dbfs=-20, seconds=20)
    lra = loudness.measure(np.concatenate([quiet, loud]), 48000).range_lu
    assert 8.0 < lra < 10.5  # 10 LU apart; the 10th-95th percentile span stays below that


def test_album_gain_is_duration_weighted_power_mean():
    assert loudness.album_gain([(-18.0, 100), (-18.0, 50)]) == pytest.approx(0.0)
    gain = loudness.album_gain([(-20.0, 100), (-10.0, 100)])
    assert gain == pytest.approx(-18 - 10 * np.log10((10**-2 + 10**-1) / 2), abs=1e-9)
    assert loudness.album_gain([(None, 10)]) == 0.0


@pytest.mark.parametrize("sr", [8000, 44100, 192000])
def test_blocked_k_weighting_equals_sosfilt_across_calls(sr):
    from scipy import signal

    y = noise(sr=sr, seconds=1, rms_dbfs=-10).T[:, : 512 * (sr // 512)]
    blocked = loudness.BlockedFilter(loudness.k_weighting(sr), 2)
    cuts = [0, 512, 512 * 9, y.shape[1]]  # one group, then several, then the rest
    ours = np.concatenate([blocked.filter(np.ascontiguousarray(y[:, a:b]))
                           for a, b in itertools.pairwise(cuts)], axis=1)
    reference = signal.sosfilt(loudness.k_weighting(sr), y.astype(np.float64), axis=1)
    assert np.abs(ours - reference).max() < 1e-6
