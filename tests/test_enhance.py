"""Enhanced copies: decodable, at the target loudness, true peak under the ceiling, original intact."""

import hashlib

import numpy as np
import pytest
import soundfile as sf

from core.audio import enhance, loudness, quality
from tests.audio import noise, sine


@pytest.mark.parametrize("codec, eq, target", [("opus", "flat", -18.0), ("vorbis", "loudness", -14.0),
                                               ("opus", "bass", -23.0)])
def test_copy_meets_target_loudness_and_true_peak(tmp_path, codec, eq, target):
    sr = 44100
    y = np.concatenate([np.zeros((sr, 2)), 0.7 * sine(220, sr=sr, seconds=6, peak_dbfs=-3)
                        + noise(sr=sr, seconds=6, rms_dbfs=-18), np.zeros((sr, 2))]).astype(np.float32)
    y += np.float32(0.02)  # a DC offset the chain must remove
    original = y.copy()
    doc = {"_id": "0123456789abcdef", "title": "A/B: test", "artist": "Ärtist", "album": None}
    options = enhance.EnhanceOptions(codec=codec, eq=eq, target_lufs=target)
    copy = enhance.write_enhanced_copy(y, sr, doc, tmp_path, options)
    np.testing.assert_array_equal(y, original)  # the input is never modified
    decoded, dsr = sf.read(copy.path, dtype="float32", always_2d=True)
    assert copy.path.suffix == enhance.CODECS[codec][1] and copy.path.is_relative_to(tmp_path)
    assert loudness.measure(decoded, dsr).integrated_lufs == pytest.approx(target, abs=1.0)
    assert 20 * np.log10(quality.true_peak(decoded)) <= -1.0
    assert abs(decoded.mean(axis=0)).max() < 1e-3
    assert copy.trimmed_s == pytest.approx(2.0, abs=0.1)


def test_import_with_transcode_leaves_original_untouched(tmp_path, store):
    from core.library.analyse import AnalyseOptions
    from core.library.pipeline import run_import
    from tests.audio import music_like, write

    src = write(tmp_path / "in" / "song.flac", music_like(1, seconds=6), 22050)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    options = AnalyseOptions(enhance=enhance.EnhanceOptions(), library_dir=str(tmp_path / "lib"))
    report = run_import(str(tmp_path / "in"), store, options=options, jobs=1)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    doc = store.get_track(str(src))
    assert doc["original_path"] == str(src) and doc["path"].endswith(".opus")
    assert sf.info(doc["path"]).samplerate == 48000 and report.imported == [doc["_id"]]


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown EQ preset"):
        enhance.EnhanceOptions(eq="megabass")
