"""Signal quality checks: clipping, true peak, DC offset, silence, and lossy-transcode suspicion.

Every check returns numbers; ``issues`` turns them into the flags a user sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal

CLIP_LEVEL = 0.999
#: Audacity's rule: a single full-scale sample is a loud master, three in a row are clipping.
CLIP_MIN_RUN = 3
SILENCE_DBFS = -60.0
OVERSAMPLE = 4
_TP_BLOCK = 1024
# Blocks oversampled first, to raise the bar the others must clear.
_TP_FIRST = 32
# Taps per side and phase of the interpolation filter: 49 taps, as long as BS.1770's own.
_TP_HALF = 6
# Blocks oversampled at once: a few megabytes of working memory.
_TP_CHUNK = 64


@dataclass(frozen=True)
class Clipping:
    """Runs of consecutive samples at or above ``CLIP_LEVEL`` of full scale."""

    runs: int
    share: float
    longest_run: int


@dataclass(frozen=True)
class QualityReport:
    """Numbers from every check, and the issue flags they raise."""

    clipping: Clipping
    sample_peak_dbfs: float
    true_peak_dbtp: float
    dc_offset: float
    leading_silence_s: float
    trailing_silence_s: float
    rms_dbfs: float
    spectral_cutoff_hz: float
    issues: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain dict for storage."""
        out = {key: _finite(val) for key, val in self.__dict__.items() if key != "clipping"}
        out["clipping"] = self.clipping.__dict__.copy()
        return out


def _finite(value):
    if isinstance(value, float):
        return round(value, 6) if np.isfinite(value) else None
    return value


def _db(value: float) -> float:
    with np.errstate(divide="ignore"):
        return float(20 * np.log10(value))


def clipping(y: np.ndarray, *, level: float = CLIP_LEVEL, min_run: int = CLIP_MIN_RUN) -> Clipping:
    """Count runs of at least ``min_run`` consecutive samples at or above ``level``.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples in [-1, 1].
    level : float
        Full-scale fraction that counts as clipped.
    min_run : int
        Shortest run that counts; many masters touch 0.999 on single samples.

    Returns
    -------
    Clipping
        ``share`` is the fraction of all samples that lie in counted runs.
    """
    y = np.atleast_2d(y.T).T
    runs = longest = clipped = 0
    # One pass finds the few loud samples; runs are then found among those alone.
    flat = y.ravel()
    hits = np.flatnonzero((flat >= level) | (flat <= -level))
    for channel in range(y.shape[1]):
        frames = hits[hits % y.shape[1] == channel] // y.shape[1]
        if frames.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(frames) != 1)
        lengths = np.diff(np.concatenate(([-1], breaks, [frames.size - 1])))
        counted = lengths[lengths >= min_run]
        runs += counted.size
        clipped += int(counted.sum())
        longest = max(longest, int(counted.max(initial=0)))
    return Clipping(runs, clipped / y.size if y.size else 0.0, longest)


def _interpolator() -> tuple[np.ndarray, float]:
    taps = signal.firwin(2 * _TP_HALF * OVERSAMPLE + 1, 1.0 / OVERSAMPLE, window=("kaiser", 5.0))
    taps = (taps * OVERSAMPLE).astype(np.float32)
    # No interpolated value can exceed a block's sample peak by more than the largest phase gain.
    bound = max(np.abs(taps[phase::OVERSAMPLE]).sum() for phase in range(OVERSAMPLE))
    return taps, float(bound)


_TAPS, _OVERSHOOT = _interpolator()


def true_peak(y: np.ndarray) -> float:
    """Largest absolute value of the 4x oversampled signal (BS.1770-4 Annex 2), linear.

    Exact, but cheap: the loudest blocks are oversampled first, and a block is oversampled at
    all only if its sample peak times the filter's gain bound could beat the maximum found so far.
    Blocks are oversampled a few at a time, so memory stays far below the signal's own size.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples.

    Returns
    -------
    float
        True peak, linear (1.0 = 0 dBTP).
    """
    y = np.atleast_2d(np.asarray(y, dtype=np.float32).T).T
    block_peak = _block_peaks(y)
    best = float(block_peak.max(initial=0.0))
    order = np.argsort(block_peak)[::-1]
    best = max(best, _oversampled_peak(y, order[:_TP_FIRST]))
    rest = order[_TP_FIRST:]
    rest = rest[block_peak[rest] * _OVERSHOOT > best]
    if rest.size:
        best = max(best, _oversampled_peak(y, rest))
    return best


def _block_peaks(y: np.ndarray) -> np.ndarray:
    """Sample peak of each ``_TP_BLOCK``-frame block (the last one may be shorter)."""
    whole = y.shape[0] // _TP_BLOCK * _TP_BLOCK
    blocks = y[:whole].reshape(-1, _TP_BLOCK * y.shape[1])
    # max and -min instead of abs: no temporary copy of the signal
    peaks = np.maximum(blocks.max(axis=1, initial=0.0), -blocks.min(axis=1, initial=0.0))
    if whole < y.shape[0]:
        peaks = np.append(peaks, np.abs(y[whole:]).max())
    return peaks


def _oversampled_peak(y: np.ndarray, blocks: np.ndarray) -> float:
    if blocks.size == 0:
        return 0.0
    best, pad = 0.0, _TP_HALF + 1
    offsets = np.arange(-pad, _TP_BLOCK + pad)
    start = len(_TAPS) // 2 + pad * OVERSAMPLE
    for chunk in np.array_split(blocks, -(-blocks.size // _TP_CHUNK)):
        index = chunk[:, None] * _TP_BLOCK + offsets
        inside = (index >= 0) & (index < y.shape[0])
        # each block with its filter's run-in on both sides; zeros beyond the signal's ends
        segments = y[np.clip(index, 0, y.shape[0] - 1)] * inside[..., None]
        upsampled = signal.upfirdn(_TAPS, segments, up=OVERSAMPLE, axis=1)
        best = max(best, float(np.abs(upsampled[:, start : start + _TP_BLOCK * OVERSAMPLE]).max()))
    return best


def silence_edges(y: np.ndarray, sr: int, *, threshold_dbfs: float = SILENCE_DBFS) -> tuple[float, float]:
    """Seconds of leading and trailing silence below ``threshold_dbfs``.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples.
    sr : int
        Sample rate in Hz.
    threshold_dbfs : float
        Level below which a sample counts as silent.

    Returns
    -------
    (float, float)
        Leading and trailing silence; both equal the duration for an all-silent signal.
    """
    level = 10 ** (threshold_dbfs / 20)
    loud = ((y > level) | (y < -level)).ravel()  # frame-major: index // channels
    if not loud.any():
        return y.shape[0] / sr, y.shape[0] / sr
    first = int(np.argmax(loud)) // y.shape[1]
    last = (loud.size - 1 - int(np.argmax(loud[::-1]))) // y.shape[1]
    return first / sr, (y.shape[0] - 1 - last) / sr


def spectral_cutoff(y: np.ndarray, sr: int, *, drop_db: float = 60.0) -> float:
    """Highest frequency whose power is within ``drop_db`` of the 0.2-4 kHz level.

    Lossy encoders low-pass at 16-20 kHz, so a lossless file with a cliff near 16 kHz was most
    likely decoded from MP3 or similar.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples.
    sr : int
        Sample rate in Hz.
    drop_db : float
        How far below the reference band the spectrum may fall before it counts as cut off.

    Returns
    -------
    float
        Cutoff frequency in Hz (the Nyquist frequency when nothing is cut).
    """
    # Twenty seconds from the middle show an encoder's low-pass, and bound the cost.
    middle = y.shape[0] // 2
    excerpt = y[max(0, middle - 10 * sr) : middle + 10 * sr].mean(axis=1)
    if excerpt.size < 4096:
        return sr / 2
    # No detrending: the DC bin is not looked at, and detrending costs more than the FFTs
    freqs, power = signal.welch(excerpt, fs=sr, nperseg=4096, detrend=False)
    with np.errstate(divide="ignore"):
        level = 10 * np.log10(power + 1e-20)
    reference = np.median(level[(freqs >= 200) & (freqs <= 4000)])
    above = np.flatnonzero(level > reference - drop_db)
    return float(freqs[above[-1]]) if above.size else 0.0


def check(y: np.ndarray, sr: int, *, lossless: bool) -> QualityReport:
    """Run every check on a decoded signal.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples.
    sr : int
        Sample rate in Hz.
    lossless : bool
        Whether the container is lossless (only then is a low cutoff a transcode sign).

    Returns
    -------
    QualityReport
    """
    clip = clipping(y)
    peak = max(float(y.max()), -float(y.min()))
    tp = true_peak(y)
    # A matrix-vector product sums the columns far faster than a strided axis-0 mean.
    dc = float(np.abs(np.ones(y.shape[0], dtype=y.dtype) @ y).max() / y.shape[0])
    lead, trail = silence_edges(y, sr)
    rms = _db(float(np.sqrt(np.einsum("ij,ij->", y, y, dtype=np.float64) / y.size)))
    cutoff = spectral_cutoff(y, sr)
    duration = y.shape[0] / sr
    issues = []
    if clip.runs:
        issues.append("clipping")
    if _db(tp) > 0.0:
        issues.append("true_peak_over_0dbtp")
    if dc > 0.01:
        issues.append("dc_offset")
    if rms < SILENCE_DBFS or lead >= duration:
        issues.append("near_silent")
    elif lead > 2.0 or trail > 2.0:
        issues.append("long_silence")
    if lossless and sr >= 32000 and cutoff < 16000:
        issues.append("lossy_transcode_suspected")
    return QualityReport(clip, _db(peak), _db(tp), dc, lead, trail, rms, cutoff, issues)


#: Short words for the issue codes, for people (the codes stay stable for programs).
ISSUE_LABELS = {"clipping": "clipping", "true_peak_over_0dbtp": "true peak > 0 dBTP",
                "dc_offset": "DC offset", "near_silent": "near silent", "long_silence": "long silence",
                "lossy_transcode_suspected": "lossy source?"}


def describe_issues(issues: list[str] | tuple[str, ...]) -> str:
    """``"clipping, true peak > 0 dBTP"`` for ``["clipping", "true_peak_over_0dbtp"]``."""
    return ", ".join(ISSUE_LABELS.get(code, code) for code in issues)
