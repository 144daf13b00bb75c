"""Batch scoring of a candidate pool equals pair-by-pair scoring; reasons read like a listener's."""

import numpy as np

from core.features import stereo
from core.features.extract import VECTOR_LAYOUT, VECTOR_SIZE
from core.similarity.pool import Pool
from core.similarity.reasons import explain
from core.similarity.shingles import jaccard
from player.widgets.reason_tip import detail_lines


def _vector(**blocks) -> bytes:
    """A feature vector with the given first values of named blocks, zeros elsewhere."""
    vector, start = np.zeros(VECTOR_SIZE, dtype=np.float32), 0
    for name, size in VECTOR_LAYOUT:
        values = blocks.get(name, [])
        vector[start:start + len(values)] = values
        start += size
    return vector.tobytes()


def _track(track_id: str, tempo: float, centroid_hz: float, energy: float, key: int,
           width_db: float = -6.0) -> dict:
    chroma = np.zeros(12)
    chroma[key] = 1.0
    # the mix's bands at ``width_db``; the bass and the top bands say otherwise (mono bass, a
    # lossy file's empty top), and a listener's sense of width (``stereo.width_db``) leaves them out
    width = np.full(stereo.N_BANDS, width_db)
    width[:2], width[-2:] = stereo.SIDE_FLOOR_DB, 0.0
    image = np.concatenate([width, np.full(stereo.N_BANDS, 0.5), np.zeros(stereo.N_BANDS)])
    return {"_id": track_id, "title": track_id, "path": f"/m/{track_id}.ogg",
            "features": {"vector": _vector(rhythm=[tempo / 200, energy],
                                           spectral_mean=[centroid_hz / 11025],
                                           chroma_mean=chroma),
                         "stereo_width_db": stereo.width_db(image)}}


def test_pool_jaccard_matches_pairwise_jaccard():
    rng = np.random.default_rng(0)
    sets = [np.unique(rng.integers(0, 400, size=n).astype(np.uint64)) for n in (50, 120, 0, 300, 7)]
    docs = [{"_id": str(i), "shingles": s.tobytes(), "duration_s": 100.0 + 5 * i}
            for i, s in enumerate(sets)]
    pool = Pool(docs, None)
    for ref in docs:
        expected = [jaccard(np.frombuffer(ref["shingles"], np.uint64), s) for s in sets]
        assert np.allclose(pool.jaccard(ref), expected)
        assert pool.cosine(ref) is None  # no clustering, no timbre: Jaccard alone
        assert np.allclose(pool.similarity(ref).score, expected)
    copies = pool.copies_of(docs[1] | {"_id": "copy"}, pool.jaccard(docs[1]))
    assert copies.tolist() == [False, True, False, False, False]  # same file path


def test_reasons_are_plain_words_from_the_stored_features():
    ref = _track("ref", 120, 1500, 1.0, key=9)
    brighter = _track("cand", 121, 1800, 1.0, key=9)
    why, details = explain(ref, brighter, cosine=0.6, jaccard=0.2,
                           loudness={"ref": -14.0, "cand": -14.5})
    assert why == "very similar timbre · same tempo (~121 BPM) · a little brighter"
    assert details["tempo_bpm"] == [120.0, 121.0] and details["brightness_hz"] == [1500, 1800]
    assert details["loudness_lufs"] == [-14.0, -14.5] and details["key"] == ["A", "A"]
    assert details["like"] == {"id": "ref", "title": "ref"}

    same_colour = _track("same", 60, 1500, 1.0, key=9)
    why, _ = explain(ref, same_colour, cosine=0.3, jaccard=0.0)
    assert why == "similar timbre · half time (~60 BPM) · same key centre (A)"

    louder = _track("loud", 150, 1500, 1.0, key=2)
    why, _ = explain(ref, louder, cosine=None, jaccard=0.3, loudness={"ref": -20.0, "loud": -11.0})
    assert why == "many of the same sounds · faster (~150 BPM) · much louder"

    wide = _track("wide", 120, 1500, 1.0, key=9, width_db=-1.0)
    why, details = explain(ref, wide, cosine=0.6, jaccard=0.2)
    assert why == "very similar timbre · same tempo (~120 BPM) · a little wider stereo"
    assert details["stereo_width_db"] == [-6.0, -1.0]
    mono = _track("mono", 120, 1500, 1.0, key=9, width_db=stereo.SIDE_FLOOR_DB)
    assert explain(ref, mono, cosine=0.6, jaccard=0.2)[0].endswith("much narrower stereo")
    # a track analysed before the stereo image: no width, no phrase about it
    old = _track("old", 120, 1500, 1.0, key=9)
    del old["features"]["stereo_width_db"]
    why, details = explain(ref, old, cosine=0.6, jaccard=0.2)
    assert why.endswith("same key centre (A)") and details["stereo_width_db"] == [-6.0, None]


def test_the_tooltip_shows_the_stereo_width_in_decibels():
    ref, wide = _track("ref", 120, 1500, 1.0, key=9), _track("wide", 120, 1500, 1.0, key=9, width_db=-1.0)
    _, details = explain(ref, wide, cosine=0.6, jaccard=0.2)
    assert "Stereo width (side to mid): -6.0 dB → -1.0 dB" in detail_lines(details)
    old = _track("old", 120, 1500, 1.0, key=9)
    del old["features"]["stereo_width_db"]
    _, details = explain(old, wide, cosine=0.6, jaccard=0.2)
    assert "Stereo width (side to mid): – → -1.0 dB" in detail_lines(details)
    _, details = explain(old, old, cosine=0.6, jaccard=0.2)
    assert not any(line.startswith("Stereo width") for line in detail_lines(details))
