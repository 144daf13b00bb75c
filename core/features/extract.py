"""Audio features with librosa: one STFT, shared by every descriptor.

A track yields a fixed-length ``vector`` (timbre, harmony, brightness, rhythm statistics) and a
``frames`` matrix of short segments, the raw material of the shingles.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

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
    """

    vector: np.ndarray
    frames: np.ndarray
    tempo_bpm: float


def to_mono(y: np.ndarray, sr: int) -> np.ndarray:
    """Mix down and resample to the analysis rate.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples.
    sr : int
        Their sample rate.

    Returns
    -------
    np.ndarray [shape=(m,), dtype=float32]
        Mono signal at ``SR`` Hz, at most ``MAX_ANALYSIS_S`` long.
    """
    y = y[: MAX_ANALYSIS_S * sr]
    # BLAS mixes channels far faster than a strided mean over axis 1
    mono = y @ np.full(y.shape[1], 1 / y.shape[1], dtype=y.dtype) if y.ndim == 2 else y
    if sr != SR:
        mono = librosa.resample(mono, orig_sr=sr, target_sr=SR, res_type="soxr_mq")
    return np.ascontiguousarray(mono, dtype=np.float32)


def extract(mono: np.ndarray) -> Features:
    """Compute a track's feature vector and segment frames.

    Parameters
    ----------
    mono : np.ndarray [shape=(n,)]
        Mono signal at ``SR`` Hz (see ``to_mono``).

    Returns
    -------
    Features

    Raises
    ------
    ValueError
        If the signal is shorter than one analysis window.
    """
    if mono.size < N_FFT:
        raise ValueError(f"signal too short to analyse ({mono.size} samples < {N_FFT})")
    magnitude = np.abs(librosa.stft(mono, n_fft=N_FFT, hop_length=HOP))
    power = magnitude**2
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=SR, n_mels=N_MELS))
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=N_MFCC)
    # tuning=0 skips librosa's pitch-tracking tuning estimate, which costs more than all the rest
    chroma = librosa.feature.chroma_stft(S=power, sr=SR, tuning=0.0)
    contrast = librosa.feature.spectral_contrast(S=magnitude, sr=SR)
    spectral = np.vstack([*_centroid_bandwidth(magnitude), _flatness(mel_db),
                          _zero_crossings(mono, mfcc.shape[1]), librosa.db_to_amplitude(mel_db).mean(0)])
    onset = librosa.onset.onset_strength(S=mel_db, sr=SR)
    tempo, clarity = _tempo(onset)
    rhythm = np.array([tempo / 200.0, onset.mean(), onset.std(), clarity])
    delta = np.diff(mfcc, axis=1) if mfcc.shape[1] > 1 else np.zeros_like(mfcc)
    vector = np.concatenate([
        mfcc.mean(1), mfcc.std(1), delta.std(1), chroma.mean(1), chroma.std(1),
        contrast.mean(1), contrast.std(1), spectral.mean(1), spectral.std(1), rhythm,
    ]).astype(np.float32)
    frames = segment_means(np.vstack([mfcc[1:], contrast]), SEGMENT_FRAMES)
    return Features(vector, frames, tempo)


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


_FREQS = librosa.fft_frequencies(sr=SR, n_fft=N_FFT).astype(np.float32)


def _centroid_bandwidth(magnitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Two matrix-vector products instead of librosa's per-bin deviation matrix: same numbers.
    total = magnitude.sum(axis=0) + 1e-10
    centroid = _FREQS @ magnitude / total
    spread = np.sqrt(np.maximum((_FREQS**2) @ magnitude / total - centroid**2, 0.0))
    return centroid / (SR / 2), spread / (SR / 2)


def _flatness(mel_db: np.ndarray) -> np.ndarray:
    # Wiener entropy on the mel bands: noise-like frames near 1, tonal frames near 0.
    power = librosa.db_to_power(mel_db) + 1e-10
    return np.exp(np.log(power).mean(axis=0)) / power.mean(axis=0)


def _zero_crossings(mono: np.ndarray, n_frames: int) -> np.ndarray:
    crossings = np.zeros(n_frames * HOP, dtype=np.float32)
    flips = np.signbit(mono[1:]) != np.signbit(mono[:-1])
    crossings[: min(flips.size, crossings.size)] = flips[: crossings.size]
    return crossings.reshape(n_frames, HOP).mean(axis=1)


def _tempo(onset: np.ndarray) -> tuple[float, float]:
    """Global tempo (BPM) and pulse clarity from the onset envelope's autocorrelation.

    librosa's tempogram autocorrelates every window; one autocorrelation of the whole envelope,
    weighted by the same log-normal prior around 120 BPM, finds the same dominant tempo.
    """
    onset = onset - onset.mean()
    max_lag = int(2 * SR / HOP)
    ac = librosa.autocorrelate(onset, max_size=max_lag + 1)
    lags = np.arange(1, ac.size)
    if ac.size < 12 or ac[0] <= 0:
        return 0.0, 0.0
    bpm = 60.0 * SR / HOP / lags
    prior = np.exp(-0.5 * (np.log2(bpm / 120.0)) ** 2)
    best = int(np.argmax(ac[1:] * prior))
    clarity = float(ac[int(0.25 * SR / HOP):].max() / ac[0])
    return float(bpm[best]), clarity
