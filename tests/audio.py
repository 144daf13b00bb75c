"""Generators of test audio with known answers (tones, noise, clipping, DC, silence)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def sine(freq: float = 997.0, *, seconds: float = 5.0, sr: int = 48000, peak_dbfs: float = -20.0,
         channels: int = 2) -> np.ndarray:
    """A sine at a given peak level, shape (n, channels), float32."""
    t = np.arange(int(seconds * sr)) / sr
    tone = 10 ** (peak_dbfs / 20) * np.sin(2 * np.pi * freq * t)
    return np.repeat(tone[:, None], channels, axis=1).astype(np.float32)


def noise(*, seconds: float = 5.0, sr: int = 44100, rms_dbfs: float = -20.0, channels: int = 2,
          seed: int = 0) -> np.ndarray:
    """Gaussian white noise at a given RMS level."""
    rng = np.random.default_rng(seed)
    return (10 ** (rms_dbfs / 20) * rng.standard_normal((int(seconds * sr), channels))).astype(
        np.float32)


def write(path: Path, y: np.ndarray, sr: int, **kwargs) -> Path:
    """Write a signal, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr, **kwargs)
    return path


def music_like(kind: int, *, seconds: float = 8.0, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """A short stereo piece of one of several timbres: tone families, noise bands, pulses.

    Pieces of the same ``kind`` share their timbre (with different notes), so a similarity
    measure should group them.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    notes = rng.choice([220, 247, 262, 294, 330, 349, 392], size=int(seconds * 2))
    f = np.repeat(notes, n // len(notes) + 1)[:n].astype(float)
    phase = 2 * np.pi * np.cumsum(f) / sr
    if kind == 0:  # pure sine melody
        y = np.sin(phase)
    elif kind == 1:  # bright square-ish melody
        y = np.sign(np.sin(phase)) * 0.5 + 0.2 * np.sin(3 * phase)
    elif kind == 2:  # noise bursts at a tempo
        env = (np.sin(2 * np.pi * 2 * t) > 0.6).astype(float)
        y = rng.standard_normal(n) * env
    else:  # low drone with a beat
        y = np.sin(2 * np.pi * 55 * t) + 0.5 * (np.sin(2 * np.pi * 1.5 * t) > 0.9) * np.sin(phase)
    y = 0.3 * y / (np.abs(y).max() + 1e-9)
    return np.stack([y, y], axis=1).astype(np.float32)


def played_frames(capture: Path, channels: int = 2) -> np.ndarray:
    """Frames the ALSA file device received, from the first non-silent one on."""
    raw = np.fromfile(capture, dtype=np.float32)
    return from_first_sound(raw[: len(raw) // channels * channels].reshape(-1, channels))


def from_first_sound(frames: np.ndarray) -> np.ndarray:
    """``frames [shape=(n, channels)]`` without their leading digital silence."""
    loud = np.flatnonzero(np.abs(frames).max(axis=1) > 0)
    return frames[loud[0]:] if len(loud) else frames[:0]
