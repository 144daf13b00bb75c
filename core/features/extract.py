"""Audio features as librosa computes them: one STFT, shared by every descriptor.

A track yields a fixed-length ``vector`` (timbre, harmony, brightness, rhythm statistics), a
``frames`` matrix of short segments (the raw material of the shingles), a Gaussian of its STFT-frame
MFCC, a loudness-contour profile and a stereo image (the audio-only scorer's per-track models,
``core.similarity.audio_score``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import soxr

from core.features import spectral
from core.features.stereo import StereoImage, width_db
from core.similarity import profiles, timbre_gauss

SR = 22050
N_FFT = 2048
HOP = 512
N_MFCC = 20
N_MELS = 64
#: STFT frames per shingle segment (about 0.74 s at 22.05 kHz).
SEGMENT_FRAMES = 32
#: Longest stretch analysed; beyond it only the loudness and quality checks see the file.
MAX_ANALYSIS_S = 600

# Names of the vector's blocks, in order, for readers of stored vectors.
VECTOR_LAYOUT = (
    ("mfcc_mean", N_MFCC), ("mfcc_std", N_MFCC), ("mfcc_delta_std", N_MFCC),
    ("chroma_mean", 12), ("chroma_std", 12), ("contrast_mean", 7), ("contrast_std", 7),
    ("spectral_mean", 5), ("spectral_std", 5), ("rhythm", 4),
)
VECTOR_SIZE = sum(size for _, size in VECTOR_LAYOUT)
#: Vector entries that describe timbre and rhythm: all but chroma, which follows the key.
TIMBRE_MASK = np.concatenate([np.full(size, not name.startswith("chroma"))
                              for name, size in VECTOR_LAYOUT])
FRAME_SIZE = N_MFCC - 1 + 7
#: Version of what ``Features.to_doc`` stores: a track stored with an older one is analysed again.
FEATURES_VERSION = 4


@dataclass(frozen=True)
class Features:
    """Features of one track.

    Attributes
    ----------
    vector : np.ndarray [shape=(VECTOR_SIZE,), dtype=float32]
        Summary statistics.
    frames : np.ndarray [shape=(n_segments, FRAME_SIZE), dtype=float32]
        Per-segment MFCC (without the energy coefficient) and spectral contrast means.
    tempo_bpm : float
        Estimated tempo.
    gauss_mean : np.ndarray [shape=(N_MFCC,)]
    gauss_cov : np.ndarray [shape=(N_MFCC, N_MFCC)]
        Mean and (shrunk) covariance of the STFT-frame MFCC (``timbre_gauss.fit``).
    loudness_profile : np.ndarray [shape=(6,)]
        Quantiles and movement of the smoothed 0th MFCC (``profiles.loudness``).
    stereo : np.ndarray [shape=(stereo.SIZE,)]
        Width, correlation and balance per band (``core.features.stereo``).
    """

    vector: np.ndarray
    frames: np.ndarray
    tempo_bpm: float
    gauss_mean: np.ndarray
    gauss_cov: np.ndarray
    loudness_profile: np.ndarray
    stereo: np.ndarray

    def to_doc(self) -> dict:
        """The track document's ``features`` field (the segment frames are stored apart).

        Returns
        -------
        dict
            ``vector`` (float32 bytes), ``tempo_bpm``, ``timbre_gauss`` (``timbre_gauss.to_doc``),
            ``loudness_profile`` and ``stereo_image`` (float32 bytes), ``stereo_width_db``
            (``stereo.width_db``, for the reasons) and ``version`` (``FEATURES_VERSION``).
        """
        return {"vector": self.vector.tobytes(), "tempo_bpm": round(self.tempo_bpm, 2),
                "timbre_gauss": timbre_gauss.to_doc(self.gauss_mean, self.gauss_cov),
                "loudness_profile": self.loudness_profile.astype(np.float32).tobytes(),
                "stereo_image": self.stereo.astype(np.float32).tobytes(),
                "stereo_width_db": width_db(self.stereo),
                "version": FEATURES_VERSION}


class FeatureExtractor:
    """Streaming feature extraction: feed mono blocks at ``SR`` Hz, then read ``result()``.

    The STFT is computed a few hundred frames at a time from a buffer that keeps the frames'
    overlap (``N_FFT - HOP`` samples), framed as ``librosa.stft(center=True)`` frames the whole
    signal. Per-frame descriptors are kept (a few hundred floats per second); everything that
    depends on the whole track (dB floors relative to its loudest frame, MFCC of those, onset
    strength, tempo, statistics) is computed from them at the end. Samples beyond
    ``MAX_ANALYSIS_S`` are ignored.
    """

    #: STFT frames computed at once: about 6 s, 2 MB of spectrum.
    FRAMES_PER_BLOCK = 256
    #: Samples those frames span.
    SPAN = N_FFT + (FRAMES_PER_BLOCK - 1) * HOP

    def __init__(self):
        # filled in place (no concatenation per fed block); center=True pads the signal with
        # N_FFT // 2 zeros at both ends
        self._buffer = np.zeros(self.SPAN, dtype=np.float32)
        self._filled = N_FFT // 2
        self._samples = 0
        self._last_sign = None
        self._flips = np.empty(0, dtype=bool)  # sign changes not yet counted in a hop
        self._parts: dict[str, list[np.ndarray]] = {key: [] for key in _PER_FRAME}

    def feed(self, mono: np.ndarray) -> None:
        """Add the next samples, ``np.ndarray [shape=(n,)]`` at ``SR`` Hz."""
        mono = np.asarray(mono, dtype=np.float32)[: max(0, MAX_ANALYSIS_S * SR - self._samples)]
        if mono.size == 0:
            return
        self._samples += mono.size
        self._count_crossings(mono)
        while mono.size:
            taken = min(mono.size, self.SPAN - self._filled)
            self._buffer[self._filled : self._filled + taken] = mono[:taken]
            self._filled += taken
            mono = mono[taken:]
            if self._filled == self.SPAN:
                self._frames(self._buffer)
                # the next block's first frames overlap this one's last
                overlap = self.SPAN - self.FRAMES_PER_BLOCK * HOP
                self._buffer[:overlap] = self._buffer[-overlap:]
                self._filled = overlap

    def _count_crossings(self, mono: np.ndarray) -> None:
        signs = np.signbit(mono)
        previous = signs[:1] if self._last_sign is None else self._last_sign
        # flip j lies between samples j and j + 1, counted in hop j // HOP
        flips = np.concatenate([self._flips, signs != np.concatenate([previous, signs[:-1]])])
        if self._last_sign is None:
            flips = flips[1:]
        self._last_sign = signs[-1:]
        whole = flips.size // HOP * HOP
        self._parts["crossings"].append(np.count_nonzero(flips[:whole].reshape(-1, HOP), axis=1) / HOP)
        self._flips = flips[whole:]

    def _frames(self, samples: np.ndarray) -> None:
        magnitude = spectral.stft_magnitude(samples, n_fft=N_FFT, hop=HOP)
        power = magnitude**2
        # dB without the floor relative to the track's loudest frame, which only the end knows
        self._parts["mel_db"].append(_db_unfloored(_MEL_BASIS @ power))
        # the frames are the rows of ``power.T`` in memory: BLAS is 40 % faster in that order
        chroma = (power.T @ _CHROMA_BASIS.T).T
        # librosa's normalisation: each frame by its maximum, unless that is below ``tiny``
        largest = chroma.max(axis=0)
        self._parts["chroma"].append(chroma / np.where(largest < _TINY, 1.0, largest))
        valley, peak = _band_valleys_peaks(magnitude)
        self._parts["valley"].append(valley)
        self._parts["peak"].append(peak)
        self._parts["centroid_bandwidth"].append(np.vstack(_centroid_bandwidth(magnitude)))

    def result(self, stereo: np.ndarray) -> Features:
        """The features of every sample fed.

        Parameters
        ----------
        stereo : np.ndarray [shape=(stereo.SIZE,)]
            The track's stereo image (``StereoImage.result``), measured on the original channels.

        Raises
        ------
        ValueError
            If fewer samples than one analysis window were fed.
        """
        if self._samples < N_FFT:
            raise ValueError(f"signal too short to analyse ({self._samples} samples < {N_FFT})")
        tail = np.concatenate([self._buffer[: self._filled], np.zeros(N_FFT // 2, dtype=np.float32)])
        last = 1 + (tail.size - N_FFT) // HOP
        self._frames(tail[: N_FFT + (last - 1) * HOP])
        self._filled = 0
        parts = {key: np.hstack(self._parts[key]) for key in _PER_FRAME if key != "crossings"}
        n_frames = parts["mel_db"].shape[1]
        crossings = np.zeros(n_frames, dtype=np.float32)
        counted = np.concatenate([*self._parts["crossings"], [self._flips.sum() / HOP]])[:n_frames]
        crossings[: counted.size] = counted
        return _summarise(parts, crossings, stereo)


_PER_FRAME = ("mel_db", "chroma", "valley", "peak", "centroid_bandwidth", "crossings")
_TINY = np.finfo(np.float32).tiny
_TOP_DB = 80.0


def _db_to_power(db: np.ndarray) -> np.ndarray:
    return np.power(10.0, 0.1 * db, dtype=db.dtype)


def _db_unfloored(power: np.ndarray) -> np.ndarray:
    """``librosa.power_to_db`` without its ``top_db`` floor (ref 1, amin 1e-10)."""
    return 10.0 * np.log10(np.maximum(power, 1e-10))


def _floored(db: np.ndarray) -> np.ndarray:
    """``librosa.power_to_db``'s floor: nothing more than ``_TOP_DB`` below the loudest value."""
    return np.maximum(db, db.max() - _TOP_DB)


def _summarise(parts: dict[str, np.ndarray], crossings: np.ndarray,
               stereo: np.ndarray) -> Features:
    mel_db = _floored(parts["mel_db"])
    mfcc = spectral.mfcc(mel_db, n_mfcc=N_MFCC)
    contrast = _floored(_db_unfloored(parts["peak"])) - _floored(_db_unfloored(parts["valley"]))
    mel_power = _db_to_power(mel_db)  # flatness and RMS share it
    shape = np.vstack([parts["centroid_bandwidth"], _flatness(mel_power), crossings,
                       np.sqrt(mel_power).mean(0)])
    onset = spectral.onset_strength(mel_db, n_fft=N_FFT, hop=HOP)
    tempo, clarity = _tempo(onset)
    rhythm = np.array([tempo / 200.0, onset.mean(), onset.std(), clarity])
    delta = np.diff(mfcc, axis=1) if mfcc.shape[1] > 1 else np.zeros_like(mfcc)
    chroma = parts["chroma"]
    vector = np.concatenate([
        mfcc.mean(1), mfcc.std(1), delta.std(1), chroma.mean(1), chroma.std(1),
        contrast.mean(1), contrast.std(1), shape.mean(1), shape.std(1), rhythm,
    ]).astype(np.float32)
    frames = segment_means(np.vstack([mfcc[1:], contrast]), SEGMENT_FRAMES)
    mean, cov = timbre_gauss.fit(mfcc.T)
    return Features(vector, frames, tempo, mean, cov, profiles.loudness(mfcc[0]), stereo)


class AnalysisFeed:
    """Mixes blocks of any rate and channel count to mono at ``SR`` Hz, into a ``FeatureExtractor``,
    and measures their stereo image (``StereoImage``) at their own rate.

    Parameters
    ----------
    sr : int
        Sample rate of the blocks.
    channels : int
        Their channels.
    """

    def __init__(self, sr: int, channels: int):
        self.extractor = FeatureExtractor()
        self._stereo = StereoImage(sr, channels)
        self._mix = np.full(channels, 1 / channels, dtype=np.float32)
        self._left = MAX_ANALYSIS_S * sr  # input frames still wanted
        # soxr's medium quality, as librosa's "soxr_mq"; streaming, so blocks join seamlessly
        self._resampler = None if sr == SR else soxr.ResampleStream(sr, SR, 1, dtype="float32",
                                                                    quality="MQ")

    def feed(self, block: np.ndarray) -> None:
        """Add the next samples, ``np.ndarray [shape=(n, channels)]``."""
        if self._left <= 0:
            return
        block = block[: self._left]
        self._left -= len(block)
        self._stereo.feed(block)
        # BLAS mixes channels far faster than a strided mean over axis 1
        mono = block @ self._mix
        if self._resampler is not None:
            mono = self._resampler.resample_chunk(mono, last=False)
        self.extractor.feed(mono)

    def result(self) -> Features:
        """Features of everything fed (see ``FeatureExtractor.result``)."""
        if self._resampler is not None:
            self.extractor.feed(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
            self._resampler = None
        return self.extractor.result(self._stereo.result())


def segment_means(matrix: np.ndarray, width: int) -> np.ndarray:
    """Average consecutive frames into segments.

    Parameters
    ----------
    matrix : np.ndarray [shape=(d, t)]
        Frame-level features.
    width : int
        Frames per segment; a trailing partial segment is dropped unless it is the only one.

    Returns
    -------
    np.ndarray [shape=(max(1, t // width), d), dtype=float32]
    """
    d, t = matrix.shape
    n = max(1, t // width)
    used = matrix[:, : n * width] if t >= width else matrix
    return used.reshape(d, n, -1).mean(axis=2).T.astype(np.float32)


_FREQS = spectral.fft_frequencies(sr=SR, n_fft=N_FFT).astype(np.float32)
_MEL_BASIS = spectral.BandedRows(spectral.mel_filters(sr=SR, n_fft=N_FFT, n_mels=N_MELS))
# no tuning estimate (librosa's pitch tracking costs more than all the rest): A = 440 Hz
_CHROMA_BASIS = spectral.chroma_filters(sr=SR, n_fft=N_FFT)


def _contrast_bands(n_bands: int = 6, fmin: float = 200.0, quantile: float = 0.02) -> list[tuple]:
    """Rows and quantile counts of ``librosa.feature.spectral_contrast``'s octave bands."""
    edges = np.concatenate(([0.0], fmin * 2.0 ** np.arange(n_bands + 1)))
    bands = []
    for k, (low, high) in enumerate(itertools.pairwise(edges)):
        band = (low <= _FREQS) & (high >= _FREQS)
        inside = np.flatnonzero(band)
        if k > 0:
            band[inside[0] - 1] = True
        if k == n_bands:
            band[inside[-1] + 1 :] = True
        rows = np.flatnonzero(band)
        count = max(int(np.rint(quantile * rows.size)), 1)
        stop = rows[-1] if k < n_bands else rows[-1] + 1  # librosa drops a band's top bin
        bands.append((slice(rows[0], stop), count))
    return bands


_CONTRAST_BANDS = _contrast_bands()


def _band_valleys_peaks(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the quietest and loudest bins per octave band and frame, as librosa's contrast."""
    valley = np.empty((len(_CONTRAST_BANDS), magnitude.shape[1]))
    peak = np.empty_like(valley)
    for k, (rows, count) in enumerate(_CONTRAST_BANDS):
        band = magnitude[rows]
        if count == 1:  # the narrow low bands: their extremes, without a sort
            valley[k], peak[k] = band.min(axis=0), band.max(axis=0)
            continue
        ordered = np.sort(band, axis=0)
        valley[k], peak[k] = ordered[:count].mean(axis=0), ordered[-count:].mean(axis=0)
    return valley, peak


def _centroid_bandwidth(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Two matrix-vector products instead of librosa's per-bin deviation matrix: same numbers.
    total = magnitude.sum(axis=0) + 1e-10
    centroid = _FREQS @ magnitude / total
    spread = np.sqrt(np.maximum((_FREQS**2) @ magnitude / total - centroid**2, 0.0))
    return centroid / (SR / 2), spread / (SR / 2)


def _flatness(mel_power: np.ndarray) -> np.ndarray:
    # Wiener entropy on the mel bands: noise-like frames near 1, tonal frames near 0.
    power = mel_power + 1e-10
    return np.exp(np.log(power).mean(axis=0)) / power.mean(axis=0)


def _tempo(onset: np.ndarray) -> tuple[float, float]:
    """Global tempo (BPM) and pulse clarity from the onset envelope's autocorrelation.

    librosa's tempogram autocorrelates every window; one autocorrelation of the whole envelope,
    weighted by the same log-normal prior around 120 BPM, finds the same dominant tempo.
    """
    onset = onset - onset.mean()
    max_lag = int(2 * SR / HOP)
    ac = spectral.autocorrelate(onset, max_size=max_lag + 1)
    lags = np.arange(1, ac.size)
    if ac.size < 12 or ac[0] <= 0:
        return 0.0, 0.0
    bpm = 60.0 * SR / HOP / lags
    prior = np.exp(-0.5 * (np.log2(bpm / 120.0)) ** 2)
    best = int(np.argmax(ac[1:] * prior))
    clarity = float(ac[int(0.25 * SR / HOP):].max() / ac[0])
    return float(bpm[best]), clarity
