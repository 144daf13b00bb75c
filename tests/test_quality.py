"""Quality checks on generated signals with known answers."""

import numpy as np
import pytest

from core.audio import quality
from tests.audio import noise, sine


def test_clipped_sine_is_flagged_and_clean_sine_is_not():
    clipped = np.clip(sine(1000, peak_dbfs=3.0), -1.0, 1.0)
    clean = sine(1000, peak_dbfs=-1.0)
    bad = quality.check(clipped, 48000, lossless=True)
    good = quality.check(clean, 48000, lossless=True)
    assert "clipping" in bad.issues and bad.clipping.runs > 100 and bad.clipping.longest_run >= 3
    assert "clipping" not in good.issues and good.clipping.runs == 0


def test_single_full_scale_samples_are_not_clipping():
    y = sine(1000, peak_dbfs=-6.0)
    y[::1000] = 0.9995  # isolated peaks, as loud masters have
    assert quality.clipping(y).runs == 0


def test_dc_offset_measured_within_1e3():
    y = noise(rms_dbfs=-30) + np.float32(0.0375)
    assert quality.check(y, 44100, lossless=True).dc_offset == pytest.approx(0.0375, abs=1e-3)


def test_true_peak_finds_intersample_overs():
    sr = 48000
    t = np.arange(sr) / sr
    # A quarter-rate sine sampled 45 degrees off its peaks: samples at 0.707, true peak 1.0.
    y = (np.sin(2 * np.pi * sr / 4 * t + np.pi / 4)).astype(np.float32)[:, None]
    assert np.abs(y).max() == pytest.approx(0.7071, abs=1e-3)
    assert quality.true_peak(y) == pytest.approx(1.0, abs=0.02)


def test_true_peak_skipping_blocks_equals_oversampling_everything():
    from scipy import signal

    block = 1024
    rng = np.random.default_rng(7)
    y = rng.normal(0, 0.02, (300 * block + 993, 2)).astype(np.float32)  # a partial last block
    n = np.arange(block)
    # 100 loud blocks of a low tone, whose true peak is its sample peak (more blocks than are
    # oversampled first, more than one chunk) ...
    for b in rng.choice(np.arange(10, 280), 100, replace=False):
        y[b * block : (b + 1) * block, 1] = 0.7 * np.sin(2 * np.pi * n / 48)
    # ... outrank, by sample peak, a block whose intersample peak is the file's true peak
    y[5 * block : 6 * block, 0] = 0.95 * np.sin(np.pi / 2 * n + np.pi / 4)
    full = np.abs(signal.upfirdn(quality._TAPS, y, up=quality.OVERSAMPLE, axis=0)).max()
    assert quality.true_peak(y) == pytest.approx(float(full), rel=1e-6)
    assert quality.true_peak(y) > 0.95
    y[-1] = 0.99  # now the last, partial block holds it, at the very end
    full = np.abs(signal.upfirdn(quality._TAPS, y, up=quality.OVERSAMPLE, axis=0)).max()
    assert quality.true_peak(y) == pytest.approx(float(full), rel=1e-6)


def test_silence_edges_and_near_silent_file():
    sr = 44100
    y = np.concatenate([np.zeros((sr * 3, 2)), sine(440, sr=sr, seconds=2), np.zeros((sr, 2))])
    lead, trail = quality.silence_edges(y.astype(np.float32), sr)
    assert lead == pytest.approx(3.0, abs=0.01) and trail == pytest.approx(1.0, abs=0.01)
    assert "long_silence" in quality.check(y.astype(np.float32), sr, lossless=True).issues
    quiet = np.zeros((sr * 2, 2), dtype=np.float32)
    assert "near_silent" in quality.check(quiet, sr, lossless=True).issues


def test_lowpassed_lossless_file_is_suspected_transcode():
    sr = 44100
    full = noise(sr=sr, seconds=10)
    # An MP3 encoder drops every band above its cutoff: a brick wall, as here at 15 kHz.
    spectrum = np.fft.rfft(full, axis=0)
    spectrum[np.fft.rfftfreq(full.shape[0], 1 / sr) > 15000] = 0
    cut = np.fft.irfft(spectrum, n=full.shape[0], axis=0).astype(np.float32)
    assert "lossy_transcode_suspected" in quality.check(cut, sr, lossless=True).issues
    assert "lossy_transcode_suspected" not in quality.check(full, sr, lossless=True).issues
    assert "lossy_transcode_suspected" not in quality.check(cut, sr, lossless=False).issues


@pytest.mark.parametrize("cutoff_hz", [11000, 15000, 19500])
def test_spectral_cutoff_is_the_last_bin_within_60_db_of_welchs_midband(cutoff_hz):
    from scipy import signal

    sr = 44100
    y = noise(sr=sr, seconds=10, channels=1)[:, 0]
    spectrum = np.fft.rfft(y)
    spectrum[np.fft.rfftfreq(y.size, 1 / sr) > cutoff_hz] *= 1e-4  # 80 dB down, not to zero
    y = np.fft.irfft(spectrum, n=y.size).astype(np.float32)
    freqs, power = signal.welch(y, fs=sr, nperseg=4096, detrend=False)
    level = 10 * np.log10(power + 1e-20)
    reference = np.median(level[(freqs >= 200) & (freqs <= 4000)])
    expected = freqs[np.flatnonzero(level > reference - 60)[-1]]
    assert quality.check(y, sr, lossless=True).spectral_cutoff_hz == pytest.approx(expected)
    assert abs(expected - cutoff_hz) < 100  # the Hann window leaks a few bins past the edge
