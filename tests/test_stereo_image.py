"""The stereo image (width, correlation, balance per band), streamed in blocks of any size."""

import numpy as np
import pytest

from core.features import stereo
from core.features.stereo import N_BANDS, SIDE_FLOOR_DB, StereoImage

SR = 44100


def _image(signal: np.ndarray, sizes=None, sr: int = SR) -> np.ndarray:
    meter = StereoImage(sr, signal.shape[1])
    if sizes is None:
        meter.feed(signal)
    else:
        start = 0
        for size in sizes:
            meter.feed(signal[start : start + size])
            start += size
        meter.feed(signal[start:])
    return meter.result()


def _parts(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return image[:N_BANDS], image[N_BANDS : 2 * N_BANDS], image[2 * N_BANDS :]


def _noise(seconds: float = 6.0, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.1, int(seconds * SR)).astype(np.float32)


def _band_of(freq: float) -> int:
    return int(np.searchsorted(stereo.EDGES, freq, side="right") - 1)


def test_identical_channels_read_as_a_centred_mono_image():
    mono = _noise()
    width, correlation, balance = _parts(_image(np.column_stack([mono, mono])))
    assert width == pytest.approx(np.full(N_BANDS, SIDE_FLOOR_DB))
    assert correlation == pytest.approx(1.0, abs=1e-4)
    assert balance == pytest.approx(0.0, abs=1e-3)
    # a mono file is its one channel on both sides
    assert _image(mono[:, None]) == pytest.approx(_image(np.column_stack([mono, mono])), abs=1e-4)


def test_independent_channels_are_wide_and_uncorrelated():
    pair = np.column_stack([_noise(30, seed=1), _noise(30, seed=2)])
    width, correlation, balance = _parts(_image(pair))
    # side as strong as mid (0 dB), within the spread of 60 spectra in bands of many bins
    assert (np.abs(width[8:]) < 1.0).all()
    assert (np.abs(correlation[8:]) < 0.15).all()
    assert (np.abs(balance[8:]) < 1.0).all()


def test_a_source_panned_left_shows_in_its_own_band_only():
    t = np.arange(6 * SR) / SR
    centre = 0.2 * np.sin(2 * np.pi * 110 * t)
    left = 0.2 * np.sin(2 * np.pi * 1000 * t)
    signal = np.column_stack([centre + left, centre + 0.5 * left]).astype(np.float32)
    width, correlation, balance = _parts(_image(signal))
    assert balance[_band_of(1000)] == pytest.approx(20 * np.log10(2), abs=0.05)
    assert abs(balance[_band_of(110)]) < 0.01
    assert correlation[_band_of(1000)] == pytest.approx(1.0, abs=1e-3)
    assert width[_band_of(1000)] == pytest.approx(20 * np.log10(0.5 / 1.5), abs=0.05)
    assert width[_band_of(110)] == SIDE_FLOOR_DB


def test_opposite_phase_is_negatively_correlated():
    mono = _noise()
    width, correlation, _ = _parts(_image(np.column_stack([mono, -mono])))
    assert correlation[2:] == pytest.approx(-1.0, abs=1e-3)
    assert (width[2:] > 60).all()


@pytest.mark.parametrize("sizes", [[1000] * 40, [4095, 1, 4096, 7, 22049, 22051, 3000],
                                   [100] * 300 + [44100, 1]])
def test_blocks_of_any_size_give_the_one_block_image(sizes):
    # spectra straddle block boundaries, and the 100-sample blocks cut one spectrum in 41 pieces
    signal = np.column_stack([_noise(seed=3), _noise(seed=4) + 0.5 * _noise(seed=3)])
    assert _image(signal, sizes) == pytest.approx(_image(signal), abs=1e-5)


def test_only_the_first_two_of_more_channels_count():
    left, right = _noise(seed=5), _noise(seed=6)
    surround = np.column_stack([left, right, _noise(seed=7), _noise(seed=8)])
    assert _image(surround) == pytest.approx(_image(np.column_stack([left, right])))


@pytest.mark.parametrize("signal", [np.zeros((SR * 3, 2), np.float32),
                                    np.ones((stereo.N_FFT - 1, 2), np.float32)],
                         ids=["silence", "shorter than one spectrum"])
def test_silence_and_very_short_files_read_as_mono(signal):
    width, correlation, balance = _parts(_image(signal))
    assert (width == SIDE_FLOOR_DB).all() and (correlation == 1).all() and (balance == 0).all()


def _reference(signal: np.ndarray, sr: int) -> np.ndarray:
    """The image from its definition, over the whole signal at once in float64."""
    size = stereo.spectrum_size(sr)
    starts = range(0, len(signal) - size + 1, sr // stereo.FRAMES_PER_S)
    frames = np.stack([signal[s : s + size, :2] for s in starts]).astype(np.float64)
    spectra = np.fft.rfft(frames * np.hanning(size)[None, :, None], axis=1)
    left, right = spectra[..., 0], spectra[..., 1]
    band = np.searchsorted(stereo.EDGES, np.fft.rfftfreq(size, 1 / sr), side="right") - 1
    sums = [np.array([part.sum(axis=0)[band == b].sum() for b in range(N_BANDS)])
            for part in (np.abs(left) ** 2, np.abs(right) ** 2, (left * right.conj()).real)]
    pl, pr, cross = sums
    floor = 1e-9 * (pl + pr).sum()
    width = 10 * np.log10((np.maximum(pl + pr - 2 * cross, 0) + floor) / (pl + pr + 2 * cross + floor))
    return np.concatenate([np.maximum(width, SIDE_FLOOR_DB), cross / np.sqrt(pl * pr + floor ** 2),
                           10 * np.log10((pl + floor) / (pr + floor))])


@pytest.mark.parametrize("sr", [22050, 44100, 48000, 96000])
def test_streamed_image_equals_its_definition_over_the_whole_signal(sr):
    rng = np.random.default_rng(sr)
    left = rng.normal(0, 0.1, 7 * sr)
    signal = np.column_stack([left, 0.6 * left + rng.normal(0, 0.05, left.size),
                              rng.normal(0, 0.1, left.size)]).astype(np.float32)
    # empty blocks, blocks of one frame and blocks around a spectrum's size
    size = stereo.spectrum_size(sr)
    sizes = [0, 1, size - 1, 0, size, size + 1, sr // 2, 3, sr // 2 + 1, 0] * 3
    assert _image(signal, sizes, sr=sr) == pytest.approx(_reference(signal, sr), abs=2e-3)


def test_every_band_below_nyquist_holds_bins_at_high_rates():
    # at 96 kHz a 4096-point spectrum has no bin in 50-64 Hz: the band would read as wide
    mono = np.random.default_rng(3).normal(0, 0.1, 96000 * 4).astype(np.float32)
    width, correlation, _ = _parts(_image(np.column_stack([mono, mono]), sr=96000))
    assert (width == SIDE_FLOOR_DB).all() and correlation == pytest.approx(1.0, abs=1e-4)


def test_the_width_in_one_number_leaves_out_the_bass_and_the_top_bands():
    image = np.concatenate([np.full(N_BANDS, -6.0), np.ones(N_BANDS), np.zeros(N_BANDS)])
    image[:3] = SIDE_FLOOR_DB  # a mono bass below 100 Hz
    image[21:N_BANDS] = 0.0  # a lossy file's empty top bands
    assert stereo.width_db(image) == -6.0
    assert stereo.width_db(_image(np.column_stack([_noise(), _noise()]))) == SIDE_FLOOR_DB
    wide = _image(np.column_stack([_noise(30, seed=1), _noise(30, seed=2)]))
    assert abs(stereo.width_db(wide)) < 0.5  # independent channels: side as strong as mid
