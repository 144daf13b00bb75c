"""The librosa building blocks re-written in ``core.features.spectral`` give librosa's numbers."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from core.features import spectral

SR, N_FFT, HOP = 22050, 2048, 512


def test_mel_and_chroma_filters_equal_librosas():
    assert np.allclose(spectral.mel_filters(sr=SR, n_fft=N_FFT, n_mels=64),
                       librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=64), rtol=1e-4, atol=1e-7)
    assert np.allclose(spectral.chroma_filters(sr=SR, n_fft=N_FFT),
                       librosa.filters.chroma(sr=SR, n_fft=N_FFT), rtol=1e-4, atol=1e-7)


def test_banded_rows_multiply_as_the_dense_bank():
    weights = spectral.mel_filters(sr=SR, n_fft=N_FFT, n_mels=64)
    x = np.random.default_rng(0).random((weights.shape[1], 300), dtype=np.float32)
    dense = weights @ x
    assert np.allclose(spectral.BandedRows(weights) @ x, dense, rtol=1e-5, atol=1e-7 * dense.max())


def test_stft_magnitude_and_mfcc_equal_librosas():
    y = np.random.default_rng(1).standard_normal(SR * 3).astype(np.float32)
    ours = spectral.stft_magnitude(y, n_fft=N_FFT, hop=HOP)
    theirs = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, center=False))
    frames = min(ours.shape[1], theirs.shape[1])
    assert ours.shape[0] == theirs.shape[0] and frames >= theirs.shape[1] - 1
    assert np.allclose(ours[:, :frames], theirs[:, :frames], rtol=1e-3, atol=1e-3)
    mel_db = librosa.power_to_db(librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=64) @ theirs ** 2)
    assert spectral.mfcc(mel_db, n_mfcc=20) == pytest.approx(
        librosa.feature.mfcc(S=mel_db, n_mfcc=20), rel=1e-3, abs=1e-3)
