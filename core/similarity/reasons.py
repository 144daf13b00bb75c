"""Plain-language reasons: why a track follows another, in words a listener understands.

A reason compares a recommended track with the track it resembles most (its *reference*) using
stored features only: timbre cosine and shared audio words, tempo (``rhythm`` block of
``features.vector``), brightness (spectral centroid), loudness (integrated LUFS), energy (onset
strength), stereo width (``features.stereo_width_db``) and the key centre (strongest chroma bin).
The phrase keeps the three most telling facts, e.g. "similar timbre · same tempo (~120 BPM) · a
little brighter"; the numbers behind them go to ``details`` (for a tooltip).
"""

from __future__ import annotations

import numpy as np

from core.features.extract import SR, VECTOR_LAYOUT
from core.store.mongo import MongoStore

PITCHES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
SEPARATOR = " · "
_ENDS = np.cumsum([size for _, size in VECTOR_LAYOUT])
#: ``{block name: (start, stop)}`` of ``features.vector``.
_OFFSETS = {name: (int(end) - size, int(end))
            for (name, size), end in zip(VECTOR_LAYOUT, _ENDS, strict=True)}


def _block(vector: np.ndarray, name: str) -> np.ndarray:
    start, stop = _OFFSETS[name]
    return vector[start:stop]


def describe_features(doc: dict, loudness_lufs: float | None = None) -> dict | None:
    """The listener-facing numbers of one track, or ``None`` without a feature vector.

    Returns
    -------
    dict or None
        ``tempo_bpm``, ``brightness_hz`` (mean spectral centroid), ``energy`` (mean onset
        strength), ``key`` (strongest pitch class), and ``loudness_lufs`` and
        ``stereo_width_db`` (``core.features.stereo.width_db``) when known.
    """
    raw = (doc.get("features") or {}).get("vector")
    if raw is None:
        return None
    vector = np.frombuffer(raw, dtype=np.float32)
    rhythm, spectral = _block(vector, "rhythm"), _block(vector, "spectral_mean")
    return {"tempo_bpm": round(float(rhythm[0]) * 200.0, 1),  # stored as tempo / 200
            "brightness_hz": round(float(spectral[0]) * SR / 2),  # centroid / Nyquist
            "energy": round(float(rhythm[1]), 3),
            "key": PITCHES[int(np.argmax(_block(vector, "chroma_mean")))],
            "loudness_lufs": None if loudness_lufs is None else round(loudness_lufs, 1),
            # None: analysed before the stereo image existed
            "stereo_width_db": doc["features"].get("stereo_width_db")}


def _timbre_phrase(cosine: float | None, jaccard: float) -> str:
    if cosine is not None and cosine >= 0.5:
        return "very similar timbre"
    if cosine is not None and cosine >= 0.2:
        return "similar timbre"
    if jaccard >= 0.25:
        return "many of the same sounds"
    if jaccard >= 0.1:
        return "some of the same sounds"
    return "a related sound" if cosine is None or cosine >= -0.1 else "a change of sound"


def _tempo_phrase(ref: float, cand: float) -> str | None:
    if ref <= 0 or cand <= 0:
        return None
    ratio = cand / ref
    around = f"(~{cand:.0f} BPM)"
    if abs(ratio - 1) <= 0.04:
        return f"same tempo {around}"
    if abs(ratio - 2) <= 0.08 or abs(ratio - 0.5) <= 0.02:
        return f"{'double' if ratio > 1 else 'half'} time {around}"
    size = "a little " if abs(ratio - 1) <= 0.15 else ""
    return f"{size}{'faster' if ratio > 1 else 'slower'} {around}"


def _change(ratio_or_db: float, small: float, large: float, more: str, less: str) -> tuple[float, str | None]:
    """How notable a difference is (0 = none) and its words."""
    size = abs(ratio_or_db)
    if size < small:
        return 0.0, None
    word = more if ratio_or_db > 0 else less
    return size / small, (f"a little {word}" if size < large else f"much {word}")


def _contrasts(ref: dict, cand: dict) -> list[tuple[float, str]]:
    """Notable differences in brightness, loudness, energy and stereo width, most notable first."""
    found = []
    if ref["brightness_hz"] > 0 and cand["brightness_hz"] > 0:
        found.append(_change(np.log2(cand["brightness_hz"] / ref["brightness_hz"]), 0.12, 0.5,
                             "brighter", "darker"))
    if ref["loudness_lufs"] is not None and cand["loudness_lufs"] is not None:
        found.append(_change(cand["loudness_lufs"] - ref["loudness_lufs"], 2.0, 6.0, "louder",
                             "quieter"))
    if ref["energy"] > 0 and cand["energy"] > 0:
        found.append(_change(np.log2(cand["energy"] / ref["energy"]), 0.2, 0.8, "more energetic",
                             "calmer"))
    if ref["stereo_width_db"] is not None and cand["stereo_width_db"] is not None:
        found.append(_change(cand["stereo_width_db"] - ref["stereo_width_db"], 3.0, 8.0,
                             "wider stereo", "narrower stereo"))
    return sorted(((weight, words) for weight, words in found if words), reverse=True)


def explain(reference: dict, candidate: dict, *, cosine: float | None, jaccard: float,
            loudness: dict[str, float] | None = None) -> tuple[str, dict]:
    """A plain-language reason and its numbers.

    Parameters
    ----------
    reference : dict
        The track the candidate resembles most (``_id``, ``title``, ``features.vector``).
    candidate : dict
        The recommended track.
    cosine : float or None
        Their timbre cosine (``None`` without timbre vectors).
    jaccard : float
        Share of audio words (shingles) they have in common.
    loudness : dict, optional
        ``{track id: integrated LUFS}`` (see ``loudness_of``).

    Returns
    -------
    why : str
        At most three short phrases joined by " · ".
    details : dict
        The numbers behind them.
    """
    loudness = loudness or {}
    details = {"like": {"id": reference["_id"], "title": reference.get("title")},
               "timbre_cosine": None if cosine is None else round(float(cosine), 3),
               "shared_sounds": round(float(jaccard), 3)}
    phrases = [_timbre_phrase(cosine, jaccard)]
    ref = describe_features(reference, loudness.get(reference["_id"]))
    cand = describe_features(candidate, loudness.get(candidate["_id"]))
    if ref is not None and cand is not None:
        details |= {key: [ref[key], cand[key]] for key in ref}  # [reference, this track]
        tempo = _tempo_phrase(ref["tempo_bpm"], cand["tempo_bpm"])
        phrases += [tempo] if tempo else []
        contrasts = _contrasts(ref, cand)
        if contrasts:
            phrases.append(contrasts[0][1])
        elif ref["key"] == cand["key"]:
            phrases.append(f"same key centre ({cand['key']})")
    return SEPARATOR.join(phrases), details


def loudness_of(store: MongoStore, docs: list[dict]) -> dict[str, float]:
    """Integrated loudness (LUFS) of the given tracks: read from the documents when they carry
    it, the others in one indexed query."""
    found = {d["_id"]: (d.get("loudness") or {}).get("integrated_lufs") for d in docs
             if "loudness" in d}
    missing = list({d["_id"] for d in docs} - found.keys())
    if missing:
        rows = store.iter_tracks({"_id": {"$in": missing}}, {"loudness.integrated_lufs": 1})
        found |= {d["_id"]: (d.get("loudness") or {}).get("integrated_lufs") for d in rows}
    return {i: v for i, v in found.items() if v is not None and np.isfinite(v)}
