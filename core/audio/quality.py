"""Signal quality checks: clipping, true peak, DC offset, silence, and lossy-transcode suspicion.

``QualityMeter`` runs every check in one streaming pass over blocks of any size: the samples are
cut into 1024-frame blocks whose peaks every check shares (clipping and silence only look inside
the blocks that can hold what they seek; true peak oversamples only the eighths of blocks that
could beat the maximum so far), and state that spans blocks is carried (clipped runs, filter
context, edges).
The whole-signal functions feed the same meter. Every check returns numbers; ``issues`` turns
them into the flags a user sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.audio.stream import feed_in_slices
from core.features import spectral

CLIP_LEVEL = 0.999
#: Audacity's rule: a single full-scale sample is a loud master, three in a row are clipping.
CLIP_MIN_RUN = 3
SILENCE_DBFS = -60.0
OVERSAMPLE = 4
#: Frames per block of the block-peak bookkeeping every check shares.
BLOCK = 1024
#: Frames per segment of the true-peak search: an eighth of a block, so that a loud block's
#: quieter parts are not oversampled (a third as many frames on the soundtracks).
TP_SEGMENT = BLOCK // 8
# Segments oversampled first, to raise the bar the others must clear.
_TP_FIRST = 256
# Taps per side and phase of the interpolation filter: 49 taps, as long as BS.1770's own.
_TP_HALF = 6
# Frames of context each side of a segment, for the interpolation filter's run-in.
_PAD = _TP_HALF + 1
# Segments oversampled at once: a few megabytes of working memory.
_TP_CHUNK = 512
# Candidate segments held for oversampling: about 2 MB in stereo.
_TP_POOL = 2048
_ONES = np.ones(BLOCK, dtype=np.float32)
# Seconds each side of the middle whose spectrum shows an encoder's low-pass, and the frame length
# of its spectrum.
_CUTOFF_HALF_S = 10
_WELCH = 4096


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


class _ClipRuns:
    """Runs of clipped frames per channel, given the clipped frames' indices in ascending order."""

    def __init__(self, channels: int, min_run: int):
        self.min_run = min_run
        self.runs = self.clipped = self.longest = 0
        self._open_end = np.full(channels, -2)  # last frame of each channel's unfinished run
        self._open_len = np.zeros(channels, dtype=np.int64)

    def add(self, channel: int, frames: np.ndarray) -> None:
        """Clipped frames of one channel, ascending, later than any added before."""
        if frames.size == 0:
            return
        breaks = np.flatnonzero(np.diff(frames) != 1)
        lengths = np.diff(np.concatenate(([-1], breaks, [frames.size - 1])))
        if frames[0] == self._open_end[channel] + 1:  # a run continued across blocks
            lengths[0] += self._open_len[channel]
        else:
            self._close(self._open_len[channel : channel + 1])
        self._close(lengths[:-1])
        self._open_end[channel], self._open_len[channel] = frames[-1], lengths[-1]

    def _close(self, lengths: np.ndarray) -> None:
        """Count the finished runs long enough to be clipping (a loud master has thousands of
        single full-scale samples: no Python loop over them)."""
        counted = lengths[lengths >= self.min_run]
        if counted.size:
            self.runs += counted.size
            self.clipped += int(counted.sum())
            self.longest = max(self.longest, int(counted.max()))

    def finish(self, samples: int) -> Clipping:
        """Close the open runs; ``samples`` counts every sample of every channel."""
        self._close(self._open_len)
        self._open_len[:] = 0
        return Clipping(self.runs, self.clipped / samples if samples else 0.0, self.longest)


def _interpolator() -> tuple[np.ndarray, float]:
    # scipy.signal.firwin(49, 1 / 4, window=("kaiser", 5.0)), without importing scipy.signal
    offsets = np.arange(2 * _TP_HALF * OVERSAMPLE + 1) - _TP_HALF * OVERSAMPLE
    taps = np.kaiser(offsets.size, 5.0) * np.sinc(offsets / OVERSAMPLE)
    taps = (taps / taps.sum() * OVERSAMPLE).astype(np.float32)
    # No interpolated value can exceed a block's sample peak by more than the largest phase gain.
    bound = max(np.abs(taps[phase::OVERSAMPLE]).sum() for phase in range(OVERSAMPLE))
    return taps, float(bound)


_TAPS, _OVERSHOOT = _interpolator()


class _TruePeak:
    """Largest absolute value of the 4x oversampled signal (BS.1770-4 Annex 2), exact but cheap.

    A segment is a candidate only if its sample peak times the filter's gain bound could beat
    the maximum so far. Candidates wait in a pool (with their filter context); when it fills, or at
    the end, the loudest are oversampled first to raise the bar, and the rest only if they can
    still clear it.
    """

    def __init__(self, channels: int):
        self.best = 0.0
        self._segments = np.empty((_TP_POOL, TP_SEGMENT + 2 * _PAD, channels), dtype=np.float32)
        self._peaks = np.empty(_TP_POOL)
        self._count = 0

    def offer(self, context: np.ndarray, peaks: np.ndarray) -> None:
        """Blocks with ``_PAD`` frames of context each side (``context`` holds ``len(peaks)``
        blocks plus ``2 * _PAD`` frames) and their sample peaks.

        An interpolated value is at most ``_OVERSHOOT`` times the largest sample within the
        filter's reach, which for a segment's outputs lies in the segment and its context: blocks
        are screened with their neighbours' peaks, then the candidate blocks' segments with the
        peak of their whole window, so no value that could beat the maximum is skipped.
        """
        self.best = max(self.best, float(peaks.max(initial=0.0)))
        # each block's peak with its neighbours' (the context's for the first and last); np.r_
        # would cost more than the comparison itself
        padded = np.empty(len(peaks) + 2)
        padded[0], padded[1:-1], padded[-1] = (np.abs(context[:_PAD]).max(), peaks,
                                               np.abs(context[-_PAD:]).max())
        reach = np.maximum(peaks, np.maximum(padded[:-2], padded[2:]))
        blocks = np.flatnonzero(reach * _OVERSHOOT > self.best)
        if blocks.size == 0:
            return
        per_block = BLOCK // TP_SEGMENT
        rows, columns = context.strides
        # overlapping views of the segments with their context
        segments = np.lib.stride_tricks.as_strided(
            context, (len(peaks) * per_block, TP_SEGMENT + 2 * _PAD, context.shape[1]),
            (rows * TP_SEGMENT, rows, columns), writeable=False)
        windows = segments[(blocks[:, None] * per_block + np.arange(per_block)).ravel()]
        flat = windows.reshape(len(windows), -1)
        window_peaks = np.maximum(flat.max(axis=1), -flat.min(axis=1))
        keep = window_peaks * _OVERSHOOT > self.best
        windows, window_peaks = windows[keep], window_peaks[keep]
        while len(windows):
            taken = min(len(windows), _TP_POOL - self._count)
            self._segments[self._count : self._count + taken] = windows[:taken]
            self._peaks[self._count : self._count + taken] = window_peaks[:taken]
            self._count += taken
            windows, window_peaks = windows[taken:], window_peaks[taken:]
            if self._count == _TP_POOL:
                self.flush()
                keep = window_peaks * _OVERSHOOT > self.best
                windows, window_peaks = windows[keep], window_peaks[keep]

    def flush(self) -> float:
        """Oversample the pooled candidates that can still matter; the true peak so far."""
        peaks = self._peaks[: self._count]
        order = np.argsort(peaks)[::-1]
        self.best = max(self.best, self._oversampled_peak(order[:_TP_FIRST]))
        rest = order[_TP_FIRST:]
        rest = rest[peaks[rest] * _OVERSHOOT > self.best]
        if rest.size:
            self.best = max(self.best, self._oversampled_peak(rest))
        self._count = 0
        return self.best

    def _oversampled_peak(self, which: np.ndarray) -> float:
        best = 0.0
        for chunk in np.array_split(which, -(-which.size // _TP_CHUNK)) if which.size else []:
            best = max(best, _interpolated_peak(self._segments[chunk]))
        return best


def _interpolation_matrix() -> np.ndarray:
    """``rows @ matrix``: every phase's ``_FRAME`` outputs from a row of ``_SPAN`` inputs.

    Output ``4 m + p`` is ``sum over k of h[p + 4 k] * x[m - k]``; column ``p * _FRAME + w`` of
    the matrix holds phase ``p``'s taps placed for output ``w`` of the row.
    """
    matrix = np.zeros((_SPAN, OVERSAMPLE * _FRAME), dtype=np.float32)
    for phase in range(OVERSAMPLE):
        for k, tap in enumerate(_TAPS[phase::OVERSAMPLE]):
            for w in range(_FRAME):
                matrix[_REACH - 1 + w - k, phase * _FRAME + w] = tap
    return matrix


#: Outputs of each phase per row of the interpolation product.
_FRAME = 16
# rows must tile a segment exactly, or its last outputs would never be looked at
assert TP_SEGMENT % _FRAME == 0
#: Taps of the longest phase, and the inputs a row of ``_FRAME`` outputs reaches.
_REACH = -(-len(_TAPS) // OVERSAMPLE)
_SPAN = _FRAME + _REACH - 1
_INTERPOLATION = _interpolation_matrix()
# The first input a segment's first output reaches: output m of a segment lies beside its frame
# ``_PAD + m`` (the first ``_PAD`` frames are context), reaching back ``_REACH - 1`` frames.
_FIRST_INPUT = 2 * _PAD - 1 - (_REACH - 1)


def _interpolated_peak(segments: np.ndarray) -> float:
    """Peak of the 4x interpolation of segments (``[shape=(k, TP_SEGMENT + 2 * _PAD, ch)]``).

    Equal to ``scipy.signal.upfirdn(_TAPS, segments, up=4, axis=1)`` over the segments' own
    outputs. Each channel's segment is cut into overlapping rows of ``_SPAN`` inputs (a strided
    view, no copy) and one matrix product gives every phase's outputs: three times faster than a
    dozen shifted multiply-adds per phase, each of which walked the segments' memory again.
    """
    count, length, channels = segments.shape
    rows = np.ascontiguousarray(segments.transpose(0, 2, 1)).reshape(count * channels, length)
    step, item = rows.strides
    framed = np.lib.stride_tricks.as_strided(
        rows[:, _FIRST_INPUT:], (count * channels, TP_SEGMENT // _FRAME, _SPAN),
        (step, _FRAME * item, item), writeable=False)
    out = framed @ _INTERPOLATION
    return max(float(out.max()), -float(out.min()))


class QualityMeter:
    """Every quality check in one streaming pass: feed blocks, then read ``result()``.

    Parameters
    ----------
    sr : int
        Sample rate in Hz.
    channels : int
        Channels of every block.
    lossless : bool
        Whether the container is lossless (only then is a low cutoff a transcode sign).
    expected_frames : int, optional
        The length the container announces; the spectral cutoff is measured on the 20 s around
        its middle. Without it, on the first 20 s.
    silence_dbfs : float
        Level below which a sample counts as silent.
    """

    def __init__(self, sr: int, channels: int, *, lossless: bool, expected_frames: int | None = None,
                 silence_dbfs: float = SILENCE_DBFS):
        self.sr, self.channels, self.lossless = sr, channels, lossless
        self._silence_level = 10 ** (silence_dbfs / 20)
        middle = (expected_frames or 0) // 2
        self._excerpt = (max(0, middle - _CUTOFF_HALF_S * sr), middle + _CUTOFF_HALF_S * sr)
        self._excerpt_parts: list[np.ndarray] = []
        self._mix = np.full(channels, 1 / channels, dtype=np.float32)
        self._frames = 0  # frames fed
        self._done = 0  # frames cut into blocks
        self._context = np.zeros((_PAD, channels), dtype=np.float32)  # frames before the held ones
        self._held = np.empty((0, channels), dtype=np.float32)
        self._peak = 0.0
        self._clips = _ClipRuns(channels, CLIP_MIN_RUN)
        self._true_peak = _TruePeak(channels)
        self._sums = np.zeros(channels)
        self._squares = 0.0
        self._first_loud: int | None = None
        self._last_loud = -1

    def feed(self, block: np.ndarray) -> None:
        """Add the next samples, ``np.ndarray [shape=(n, channels)]``.

        Raises
        ------
        ValueError
            If a sample is not finite (a corrupt stream).
        """
        block = np.asarray(block, dtype=np.float32)
        start, stop = max(self._excerpt[0] - self._frames, 0), self._excerpt[1] - self._frames
        if start < min(stop, len(block)):
            # a matrix-vector product mixes channels far faster than a strided mean
            self._excerpt_parts.append(block[start:stop] @ self._mix)
        self._frames += len(block)
        # a whole block is cut only when the filter context after it has arrived too
        whole = max(0, (len(self._held) + len(block) - _PAD) // BLOCK)
        if whole == 0:
            self._held = np.concatenate([self._held, block])
            return
        data = np.concatenate([self._context, self._held, block])
        self._blocks(data[: whole * BLOCK + 2 * _PAD], whole)
        self._context = data[whole * BLOCK : whole * BLOCK + _PAD].copy()
        self._held = data[whole * BLOCK + _PAD :].copy()

    def _blocks(self, data: np.ndarray, count: int) -> None:
        """``count`` whole blocks with ``_PAD`` frames of context each side."""
        blocks = data[_PAD : _PAD + count * BLOCK]
        flat = blocks.reshape(count, BLOCK * self.channels)
        # max and -min instead of abs: no temporary copy of the samples
        peaks = np.maximum(flat.max(axis=1), -flat.min(axis=1))
        if not np.isfinite(peaks).all():
            raise ValueError("decoded samples are not finite (corrupt stream)")
        self._peak = max(self._peak, float(peaks.max()))
        self._true_peak.offer(data, peaks)
        self._clipped_runs(blocks, np.flatnonzero(peaks >= CLIP_LEVEL))
        self._loud_edges(blocks, np.flatnonzero(peaks > self._silence_level))
        # Matrix-vector products sum the columns far faster than a strided axis-0 sum, and BLAS
        # dot products the squares faster than a float64 einsum; one per block, so the float32
        # sums do not depend on how the stream was cut.
        self._sums += (_ONES @ blocks.reshape(count, BLOCK, self.channels)).sum(axis=0, dtype=np.float64)
        self._squares += float(np.vecdot(flat, flat).sum(dtype=np.float64))
        self._done += count * BLOCK

    def _clipped_runs(self, blocks: np.ndarray, loud: np.ndarray) -> None:
        if loud.size == 0:
            return
        candidates = blocks.reshape(-1, BLOCK, self.channels)[loud]
        hits = (candidates >= CLIP_LEVEL) | (candidates <= -CLIP_LEVEL)
        for channel in range(self.channels):
            which, offset = np.nonzero(hits[..., channel])
            self._clips.add(channel, self._done + loud[which] * BLOCK + offset)

    def _loud_edges(self, blocks: np.ndarray, loud: np.ndarray) -> None:
        if loud.size == 0:
            return
        level = self._silence_level
        if self._first_loud is None:
            first = blocks[loud[0] * BLOCK : (loud[0] + 1) * BLOCK]
            inside = np.flatnonzero(((first > level) | (first < -level)).any(axis=1))[0]
            self._first_loud = self._done + loud[0] * BLOCK + int(inside)
        last = blocks[loud[-1] * BLOCK : (loud[-1] + 1) * BLOCK]
        inside = np.flatnonzero(((last > level) | (last < -level)).any(axis=1))[-1]
        self._last_loud = self._done + loud[-1] * BLOCK + int(inside)

    def _finish_blocks(self) -> None:
        """Cut the held frames into blocks, zeros beyond the end (as the filter sees them)."""
        held = len(self._held)
        if held == 0:
            return
        count = -(-held // BLOCK)
        tail = np.zeros((count * BLOCK + _PAD - held, self.channels), dtype=np.float32)
        self._blocks(np.concatenate([self._context, self._held, tail]), count)
        self._held = self._held[:0]

    def result(self) -> QualityReport:
        """Every check's numbers and the issues they raise, for all samples fed."""
        self._finish_blocks()
        n, sr = self._frames, self.sr
        tp = self._true_peak.flush()
        clip = self._clips.finish(n * self.channels)
        dc = float(np.abs(self._sums).max() / n) if n else 0.0
        if self._first_loud is None:
            lead = trail = n / sr
        else:
            lead, trail = self._first_loud / sr, (n - 1 - self._last_loud) / sr
        rms = _db(float(np.sqrt(self._squares / (n * self.channels)))) if n else float("-inf")
        parts = self._excerpt_parts
        cutoff = _cutoff(np.concatenate(parts) if parts else np.empty(0, np.float32), sr)
        issues = _issues(clip, tp, dc, lead, trail, rms, cutoff, duration=n / sr, sr=sr,
                         lossless=self.lossless)
        return QualityReport(clip, _db(self._peak), _db(tp), dc, lead, trail, rms, cutoff, issues)


def _issues(clip: Clipping, tp: float, dc: float, lead: float, trail: float, rms: float,
            cutoff: float, *, duration: float, sr: int, lossless: bool) -> list[str]:
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
    return issues


def _cutoff(excerpt: np.ndarray, sr: int, drop_db: float = 60.0) -> float:
    if excerpt.size < _WELCH:
        return sr / 2
    # Welch's density estimate, as scipy.signal.welch(nperseg=4096, detrend=False) gives it: Hann
    # frames overlapping by half; one-sided, so every bin but DC and Nyquist counts twice.
    frames = 1 + (excerpt.size - _WELCH) // (_WELCH // 2)
    magnitude = spectral.stft_magnitude(excerpt[: _WELCH + (frames - 1) * _WELCH // 2],
                                        n_fft=_WELCH, hop=_WELCH // 2)
    power = np.square(magnitude).mean(axis=1) * (2.0 / (sr * _WELCH * 3 / 8))
    power[[0, -1]] /= 2
    freqs = spectral.fft_frequencies(sr=sr, n_fft=_WELCH)
    level = 10 * np.log10(power + 1e-20)
    reference = np.median(level[(freqs >= 200) & (freqs <= 4000)])
    above = np.flatnonzero(level > reference - drop_db)
    return float(freqs[above[-1]]) if above.size else 0.0


def _report(y: np.ndarray, sr: int = 48000, *, lossless: bool = False,
            silence_dbfs: float = SILENCE_DBFS) -> QualityReport:
    """Every check on a signal in memory: the streaming meter, fed one block-sized view at a time."""
    y = np.atleast_2d(np.asarray(y, dtype=np.float32).T).T
    meter = QualityMeter(sr, y.shape[1], lossless=lossless, expected_frames=len(y),
                         silence_dbfs=silence_dbfs)
    feed_in_slices(meter, y)
    return meter.result()


def clipping(y: np.ndarray) -> Clipping:
    """Count runs of at least ``CLIP_MIN_RUN`` consecutive samples at or above ``CLIP_LEVEL``.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples in [-1, 1].

    Returns
    -------
    Clipping
        ``share`` is the fraction of all samples that lie in counted runs.
    """
    return _report(y).clipping


def true_peak(y: np.ndarray) -> float:
    """Largest absolute value of the 4x oversampled signal (BS.1770-4 Annex 2), linear.

    Parameters
    ----------
    y : np.ndarray [shape=(n, channels)]
        Samples.

    Returns
    -------
    float
        True peak, linear (1.0 = 0 dBTP).
    """
    return float(10 ** (_report(y).true_peak_dbtp / 20))


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
    report = _report(y, sr, silence_dbfs=threshold_dbfs)
    return report.leading_silence_s, report.trailing_silence_s


def check(y: np.ndarray, sr: int, *, lossless: bool) -> QualityReport:
    """Run every check on a signal in memory (the streaming meter fed at once).

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
    return _report(y, sr, lossless=lossless)


#: Short words for the issue codes, for people (the codes stay stable for programs).
ISSUE_LABELS = {"clipping": "clipping", "true_peak_over_0dbtp": "true peak > 0 dBTP",
                "dc_offset": "DC offset", "near_silent": "near silent", "long_silence": "long silence",
                "lossy_transcode_suspected": "lossy source?"}


def describe_issues(issues: list[str] | tuple[str, ...]) -> str:
    """``"clipping, true peak > 0 dBTP"`` for ``["clipping", "true_peak_over_0dbtp"]``."""
    return ", ".join(ISSUE_LABELS.get(code, code) for code in issues)
