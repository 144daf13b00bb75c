"""An hour-long file analyses in an import worker under the 300 MB limit (issue 11).

Decoding the whole file, as the analysis did before the streaming pass, needs 1.3 GB for the
samples alone at 44.1 kHz stereo (plus copies), so this test fails without it.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import soundfile as sf

from bench.import_speed import peak_rss_mb
from core.library.analyse import AnalyseOptions
from core.library.pipeline import _init_worker, _safe_analyse

LIMIT_MB = 300
SR = 44100


def analyse_in_worker(path: str) -> tuple[float, object]:
    """Run in a fresh import worker: the analysis and the worker's peak resident memory in MB."""
    result = _safe_analyse(path, AnalyseOptions())
    return peak_rss_mb(), result


def write_hour(path) -> None:
    """60 minutes of 44.1 kHz stereo FLAC, written a minute at a time (a rising tone per minute
    with a slow tremolo: compresses well, so the file stays near 100 MB and quick to write)."""
    n = np.arange(60 * SR)
    with sf.SoundFile(path, "w", SR, 2, subtype="PCM_16", compression_level=0.0) as out:
        for minute in range(60):
            tone = 0.3 * np.sin(2 * np.pi * 110 * 2 ** (minute % 12 / 12) * n / SR)
            tone *= 0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * n / SR)
            out.write(np.stack([tone, np.roll(tone, 100)], axis=1).astype(np.float32))


@pytest.mark.timeout(600)
def test_sixty_minute_file_analyses_under_the_memory_limit(tmp_path):
    path = tmp_path / "hour.flac"
    write_hour(path)
    # spawn: a clean worker, so its peak is the analysis's own, not a copy of pytest's memory
    # (and VmHWM, not ru_maxrss, which carries the pre-exec fork of pytest: see peak_rss_mb)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=_init_worker) as pool:
        peak_mb, result = pool.submit(analyse_in_worker, str(path)).result(timeout=600)
    assert not hasattr(result, "reason"), result
    assert result.doc["duration_s"] == pytest.approx(3600.0)
    assert result.doc["loudness"]["integrated_lufs"] is not None
    assert peak_mb < LIMIT_MB, f"analysis worker peaked at {peak_mb:.0f} MB"
