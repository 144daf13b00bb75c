"""Precision@5 for "same album" and "same artist" on real soundtracks, with and without tags.

Encore's rankings come from the corpus imported through Encore's own pipeline into a benchmark
database (one with tags, one with every tag stripped); the peers analyse the same files:

- Musly "timbre" (pymusly), on whole tracks and on 30 s excerpts, with its own hubness
  normalisation; bliss-audio's vectors (euclidean); cosine of mean MFCC; random;
- Encore before issue 13: cluster + LSH candidates, shingle Jaccard blended with timbre cosine;
- the levers of issue 13, each scored on the same candidates as Encore: per-track Gaussians
  (over the stored segment frames, or over STFT-frame MFCC, a cheap new feature) compared by
  symmetric KL or Jensen-Shannon, hubness reduction (mutual proximity, local scaling), segment
  best match, rhythm and loudness-contour profiles, blended with the shingles; and components
  added to the shipped blend: block-level patterns of the mel spectrogram (fluctuation, spectral
  and correlation patterns, ``bench/block_patterns.py``), a Gaussian over MFCC with their deltas,
  and the production measures the import stores (loudness, loudness range, peak-to-loudness);
- the shipped default, ``Recommender.rank`` through the store: ``core.similarity.audio_score``
  with its fixed weights on the models the import and the index stored.

Every constant (blend weights) is chosen twice: on the whole corpus, and leave-one-package-out
(chosen on four soundtrack packages' seeds, evaluated on the fifth's; each seed is evaluated once,
under constants chosen without its package).

Decoded-audio analyses are cached per file under ``~/.cache/encore-quality`` (Musly tracks,
frame-MFCC Gaussians, profiles, block-level patterns), so reruns decode nothing.

Usage: python bench/quality.py   (imports the corpus into the benchmark databases on first run)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import block_patterns
from bench.corpus import ensure_corpus, labels, stripped_copy, tracks
from core.audio import decode
from core.config import Config
from core.features import spectral
from core.features.extract import HOP, MAX_ANALYSIS_S, N_FFT, N_MELS, N_MFCC, SR
from core.library.pipeline import run_import
from core.services import LocalStack, mongo_uri
from core.similarity import audio_score, hubness, minhash, profiles, shingles, timbre_gauss
from core.similarity.pool import SHINGLE_WEIGHT, Pool
from core.similarity.recommend import Recommender
from core.store.mongo import MongoStore

K = 5
SHIPPED = "(f) shipped default: Recommender, audio_score"
CACHE = Path(os.environ.get("ENCORE_BENCH_DIR", Path.home() / ".cache" / "encore-bench"))
AUDIO_CACHE = Path(os.environ.get("ENCORE_QUALITY_CACHE", Path.home() / ".cache" / "encore-quality"))
_MEL = spectral.mel_filters(sr=SR, n_fft=N_FFT, n_mels=N_MELS)


def open_bench_store(name: str) -> MongoStore:
    """The benchmark's own database on a local server under ``CACHE``."""
    info = LocalStack(Config(CACHE, None, None)).ensure("mongo")
    store = MongoStore(mongo_uri(info.port), name, timeout_ms=20000)
    store.ensure_schema()
    return store


def key_of(path: str) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.name}"


def seed_precision(top: np.ndarray, labels: list[str | None]) -> np.ndarray:
    """Per seed, the share of its top K that share its label (``nan``: no label or no peer).

    Parameters
    ----------
    top : np.ndarray [shape=(n, K), dtype=int]
        Indices of each seed's recommendations, best first.
    labels : list of str or None
        Label per track, in the same order.
    """
    values = np.array([label or "" for label in labels], dtype=object)
    out = np.full(len(values), np.nan)
    for i, label in enumerate(values):
        peers = int((values == label).sum()) - 1
        if label and peers:
            out[i] = (values[top[i]] == label).sum() / min(K, peers)
    return out


def top_k(similarity: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """Each row's K most similar columns (never itself; only ``allowed`` ones if given).

    Returns
    -------
    np.ndarray [shape=(n, K), dtype=int]
    """
    scores = similarity.astype(np.float64).copy()
    if allowed is not None:
        scores[~allowed] = -np.inf
    np.fill_diagonal(scores, -np.inf)
    return np.argsort(-scores, axis=1, kind="stable")[:, :K]


# ---------------------------------------------------------------- analyses of the decoded audio


def _jukebox():
    from pymusly import MuslyJukebox  # bench extra: only the benchmark needs it

    return MuslyJukebox("timbre", "none")


def _excerpt(mono: np.ndarray, seconds: float = 30.0) -> np.ndarray:
    """Musly's default excerpt: ``seconds`` around the middle, starting at least 48 s in."""
    length, middle = int(seconds * SR), len(mono) // 2
    start = min(max(middle - length // 2, 48 * SR), max(len(mono) - length, 0))
    return mono[start:start + length]


def _mel_db(mono: np.ndarray) -> np.ndarray:
    """Mel spectrogram (dB, floored 80 dB under its peak) exactly as the import's extractor's.

    Returns
    -------
    np.ndarray [shape=(N_MELS, t)]
    """
    padded = np.pad(mono[: MAX_ANALYSIS_S * SR], N_FFT // 2)
    frames = 1 + (len(padded) - N_FFT) // HOP
    mel = []
    for start in range(0, frames, 2048):  # in blocks: a whole track's STFT is hundreds of MB
        stop = min(frames, start + 2048)
        magnitude = spectral.stft_magnitude(padded[start * HOP:(stop - 1) * HOP + N_FFT],
                                            n_fft=N_FFT, hop=HOP)
        mel.append(10 * np.log10(np.maximum(_MEL @ magnitude**2, 1e-10)))
    mel_db = np.hstack(mel)
    return np.maximum(mel_db, mel_db.max() - 80.0)


def _frame_mfcc(mel_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """STFT-frame MFCC and onset strength exactly as the import's extractor computes them.

    Returns
    -------
    mfcc : np.ndarray [shape=(N_MFCC, t)]
    onset : np.ndarray [shape=(t,)]
    """
    return (spectral.mfcc(mel_db, n_mfcc=N_MFCC),
            spectral.onset_strength(mel_db, n_fft=N_FFT, hop=HOP))


def _mono(path: Path) -> np.ndarray:
    """The file decoded, mixed to mono and resampled to the analysis rate."""
    y, sr = decode.read(path)
    return soxr.resample(y.mean(axis=1), sr, SR, quality="MQ").astype(np.float32)


def _analyse_audio(path: Path, target: Path) -> None:
    mono = _mono(path)
    box = _jukebox()
    musly = {name: np.frombuffer(box.serialize_track(box.track_from_audiodata(part.tolist())),
                                 np.uint8) for name, part in (("musly_whole", mono),
                                                              ("musly_30s", _excerpt(mono)))}
    mfcc, onset = _frame_mfcc(_mel_db(mono))
    mean, cov = timbre_gauss.fit(mfcc.T)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez(target, mfcc_mean=mean, mfcc_cov=cov, rhythm=profiles.rhythm(onset),
             loudness=profiles.loudness(mfcc[0]), **musly)


def audio_inputs(paths: list[Path]) -> dict[str, dict[str, np.ndarray]]:
    """Per file (cached): Musly tracks, frame-MFCC Gaussian, rhythm and loudness profiles, and
    the block-level patterns (``bench/block_patterns.py``)."""
    out = {}
    for done, path in enumerate(paths):
        cached = {}
        for kind, analyse in (("audio", _analyse_audio), ("patterns", _analyse_patterns)):
            target = AUDIO_CACHE / kind / f"{key_of(str(path))}.npz"
            if not target.exists():
                print(f"  analysing {kind} {done + 1}/{len(paths)}: {path.name}", file=sys.stderr)
                analyse(path, target)
            with np.load(target) as stored:
                cached |= dict(stored)
        out[key_of(str(path))] = cached
    return out


def _analyse_patterns(path: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez(target, **block_patterns.all_patterns(_mel_db(_mono(path))))


def bliss_vectors(paths: list[Path]) -> dict[str, np.ndarray]:
    """bliss-audio analyses (cached); run in a subprocess so a crash cannot take this one down."""
    cache = AUDIO_CACHE / "bliss.json"
    known = json.loads(cache.read_text()) if cache.exists() else {}
    todo = [str(p) for p in paths if key_of(str(p)) not in known]
    if todo:
        code = ("import json,sys\nfrom bliss_audio import Song\nout={}\n"
                "for p in sys.argv[1:]:\n"
                "    try:\n        out[p]=list(Song(p).analysis)\n"
                "    except BaseException as e:\n        print(p, e, file=sys.stderr)\n"
                "print(json.dumps(out))")
        proc = subprocess.run([sys.executable, "-c", code, *todo], capture_output=True, text=True,
                              check=True)
        known |= {key_of(p): v for p, v in json.loads(proc.stdout).items()}
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(known))
    return {k: np.array(v) for k, v in known.items()}


# ---------------------------------------------------------------- what the import stored

LIBRARY_FIELDS = {"source_path": 1, "path": 1, "original_path": 1, "artist": 1, "cluster": 1,
                  "lsh": 1, "shingles": 1, "features.vector": 1, "duration_s": 1, "indexed": 1,
                  "loudness": 1, "quality.true_peak_dbtp": 1, "features.stereo_image": 1}


@dataclass
class Library:
    """An imported corpus, in corpus-key order.

    Attributes
    ----------
    keys : list of str
    docs : list of dict
        Track documents (``LIBRARY_FIELDS``).
    frames : list of np.ndarray [shape=(n_segments, FRAME_SIZE)]
    book : shingles.Codebook
    pool : Pool
        Every track as the recommender's candidate pool (Jaccard, standardised timbre).
    allowed : np.ndarray [shape=(n, n), dtype=bool]
        Row seed, column candidate: what ``Recommender.candidates`` returns for the seed.
    rankings : dict of str to np.ndarray [shape=(n, K)]
        The seed's algorithm, Encore's blend before issue 13 and the shipped ``Recommender``.
    """

    keys: list[str]
    docs: list[dict]
    frames: list[np.ndarray]
    book: shingles.Codebook
    pool: Pool
    allowed: np.ndarray
    rankings: dict[str, np.ndarray] = field(default_factory=dict)


def load_library(folder: Path, db: str) -> Library:
    """Import ``folder`` into database ``db`` (incremental) and read back what was stored."""
    store = open_bench_store(db)
    report = run_import(str(folder), store, jobs=os.cpu_count())
    print(f"  {db}: imported {len(report.imported)}, unchanged {report.unchanged}, "
          f"skipped {len(report.skipped)}", file=sys.stderr)
    docs = sorted(store.iter_tracks({}, LIBRARY_FIELDS), key=lambda d: key_of(d["source_path"]))
    index = {d["_id"]: i for i, d in enumerate(docs)}
    frames = {d["_id"]: np.frombuffer(d["data"], np.float32).reshape(d["shape"])
              for d in store.iter_frames()}
    rec = Recommender(store)
    allowed = np.zeros((len(docs), len(docs)), dtype=bool)
    shipped = np.zeros((len(docs), K), dtype=int)
    for i, doc in enumerate(docs):
        seed = rec.seed(doc["_id"])
        allowed[i, [index[c["_id"]] for c in rec.candidates(seed, [doc["_id"]])]] = True
        shipped[i] = [index[r.id] for r in rec.rank([seed], k=K, max_per_artist=None)]
    lib = Library([key_of(d["source_path"]) for d in docs], docs, [frames[d["_id"]] for d in docs],
                  shingles.Codebook.from_doc(store.get_model("codebook")), Pool(docs, rec.model()),
                  allowed)
    lib.rankings = {"(a) seed: cluster+LSH, Jaccard of bigram shingles": seed_algorithm(lib),
                    "(b) before: shingles 0.35 + timbre cosine": former_blend(lib),
                    SHIPPED: shipped}
    return lib


def former_blend(lib: Library) -> np.ndarray:
    """Encore's ranking before issue 13: ``SHINGLE_WEIGHT`` Jaccard + timbre cosine, candidates."""
    jaccard = np.vstack([lib.pool.jaccard(d) for d in lib.docs])
    cosine = lib.pool.timbre @ lib.pool.timbre.T
    return top_k(SHINGLE_WEIGHT * jaccard + (1 - SHINGLE_WEIGHT) * (cosine + 1) / 2, lib.allowed)


def seed_algorithm(lib: Library) -> np.ndarray:
    """Cluster + LSH candidates ranked by Jaccard of plain bigram shingles (no widening)."""
    sets = [shingles.shingle_set(shingles.to_words(f, lib.book), weighted=False) for f in lib.frames]
    bands = [set(minhash.band_keys(minhash.signature(s))) for s in sets]
    clusters = [d["cluster"] for d in lib.docs]
    n = len(sets)
    similarity = np.array([[shingles.jaccard(sets[i], sets[j]) for j in range(n)] for i in range(n)])
    allowed = np.array([[clusters[i] == clusters[j] or bool(bands[i] & bands[j]) for j in range(n)]
                        for i in range(n)])
    return top_k(similarity, allowed)


# ---------------------------------------------------------------- distance matrices

#: Components whose distances lie in [0, 1] (1 - Jaccard, (1 - cosine) / 2): "plain" is 1 - d.
BOUNDED = {"jaccard", "cosine"}


def audio_models(lib: Library, audio: dict[str, dict]) -> audio_score.AudioModels:
    """The scorer's inputs: the Gaussians and loudness profiles from the cached decoded audio (the
    same computation as the import's), the stereo images the import stored, each profile
    standardised over the corpus."""
    pick = [audio[k] for k in lib.keys]
    frame = timbre_gauss.stack(np.vstack([a["mfcc_mean"] for a in pick]),
                               np.stack([a["mfcc_cov"] for a in pick]))
    raw = {"loudness": np.vstack([a["loudness"] for a in pick]),
           "stereo": audio_score.raw_profiles(lib.docs, "stereo")}
    return audio_score.AudioModels(lib.pool.timbre, frame, **{
        name: (v - v.mean(axis=0)) / (v.std(axis=0) + 1e-9) for name, v in raw.items()})


def components(lib: Library, audio: dict[str, dict]) -> dict[str, np.ndarray]:
    """Every distance the levers use, as (n, n) matrices in ``lib.keys`` order."""
    pick = [audio[k] for k in lib.keys]
    models = audio_models(lib, audio)
    scaled = np.stack([audio_score.component_distances(models[i], models)
                       for i in range(len(models))])
    segment = timbre_gauss.stack(*map(np.array, zip(*(timbre_gauss.fit(f) for f in lib.frames),
                                                    strict=True)))
    dist = {"jaccard": 1 - np.vstack([lib.pool.jaccard(d) for d in lib.docs]),
            **{name: scaled[:, :, c] for c, name in enumerate(("cosine", "frame-MFCC JS",
                                                                "loudness", "stereo image"))},
            "segment SKL": timbre_gauss.pairwise(segment, timbre_gauss.symmetric_kl),
            "segment JS": timbre_gauss.pairwise(segment, timbre_gauss.jensen_shannon),
            "frame-MFCC SKL": timbre_gauss.pairwise(models.gauss, timbre_gauss.symmetric_kl),
            "segment best match": best_match(lib),
            "rhythm": euclidean(np.vstack([a["rhythm"] for a in pick])),
            "musly whole": musly_distances([a["musly_whole"] for a in pick]),
            "musly 30s": musly_distances([a["musly_30s"] for a in pick]),
            "fluctuation pattern": euclidean(np.vstack([a["fluctuation"] for a in pick])),
            "spectral pattern": euclidean(np.vstack([a["spectral_pattern"] for a in pick]),
                                          standardise=False),
            "correlation pattern": euclidean(np.vstack([a["correlation_pattern"] for a in pick]),
                                             standardise=False),
            "frame-MFCC+delta JS": timbre_gauss.pairwise(
                timbre_gauss.stack(np.vstack([a["delta_mean"] for a in pick]),
                                   np.stack([a["delta_cov"] for a in pick])),
                timbre_gauss.jensen_shannon),
            "production": euclidean(production(lib.docs))}
    return dist


def production(docs: list[dict]) -> np.ndarray:
    """Integrated loudness, loudness range and peak-to-loudness ratio, as the import measured.

    Returns
    -------
    np.ndarray [shape=(n, 3)]
    """
    def row(doc: dict) -> list[float]:
        lufs = doc["loudness"].get("integrated_lufs") or -70.0
        return [lufs, doc["loudness"].get("range_lu") or 0.0,
                (doc["quality"].get("true_peak_dbtp") or 0.0) - lufs]

    return np.array([row(d) for d in docs])


def euclidean(vectors: np.ndarray, *, standardise: bool = True) -> np.ndarray:
    """Euclidean distance matrix, each dimension standardised over the library first."""
    if standardise:
        vectors = (vectors - vectors.mean(axis=0)) / (vectors.std(axis=0) + 1e-9)
    return np.sqrt(np.maximum(((vectors[:, None] - vectors[None]) ** 2).sum(axis=2), 0.0))


def cosine_distance(vectors: np.ndarray) -> np.ndarray:
    unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
    return 1 - unit @ unit.T


def best_match(lib: Library, per_track: int = 64) -> np.ndarray:
    """Mean distance of each segment to its best match in the other track, both ways.

    Segments are standardised with the library's codebook statistics and thinned evenly to
    ``per_track`` (the query-time cost grows with the square of it).
    """
    thin = [((f - lib.book.mean) / lib.book.scale)[np.linspace(0, len(f) - 1, min(per_track, len(f)))
                                                    .astype(int)] for f in lib.frames]
    owner = np.concatenate([np.full(len(t), i) for i, t in enumerate(thin)])
    flat = np.vstack(thin)
    out = np.zeros((len(thin), len(thin)))
    for i, segs in enumerate(thin):
        d2 = (segs**2).sum(1)[:, None] - 2 * segs @ flat.T + (flat**2).sum(1)[None]
        out[i] = [d2[:, owner == j].min(axis=1).mean() for j in range(len(thin))]
    return 0.5 * (out + out.T)


def musly_distances(blobs: list[np.ndarray]) -> np.ndarray:
    """Musly's own distances (its mutual-proximity normalisation over the whole corpus)."""
    box = _jukebox()
    tracks = [box.deserialize_track(b.tobytes()) for b in blobs]
    box.set_style(tracks[:1000])
    pairs = list(enumerate(tracks))
    box.add_tracks(pairs)
    return np.array([box.compute_similarity(pair, pairs) for pair in pairs])


def similarity(name: str, distance: np.ndarray, transform: str) -> np.ndarray:
    """A distance matrix as a similarity in [0, 1] (larger is closer).

    ``plain``: ``1 - d`` for ``BOUNDED`` components, else ``exp(-d / median d)``;
    ``mp``: mutual proximity; ``ls``: local scaling (``core.similarity.hubness``).
    """
    if transform == "plain":
        if name in BOUNDED:
            return 1 - distance
        return np.exp(-distance / np.median(distance[~np.eye(len(distance), dtype=bool)]))
    return hubness.matrix_similarity(distance, transform)


# ---------------------------------------------------------------- choosing weights, honestly


@dataclass
class Truth:
    """Labels per track in library order, and the package (soundtrack) each belongs to."""

    album: list[str | None]
    artist: list[str | None]
    package: np.ndarray

    def scores(self, top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-seed album and artist precision of a ranking."""
        return seed_precision(top, self.album), seed_precision(top, self.artist)


def weight_grid(parts: int) -> np.ndarray:
    """Blend weights on a simplex grid (step 0.05 for up to four parts, 0.1 for more).

    Returns
    -------
    np.ndarray [shape=(m, parts)]
    """
    steps = 20 if parts <= 4 else 10
    grid = [w for w in np.ndindex(*(steps + 1,) * (parts - 1)) if sum(w) <= steps]
    return np.array([[*w, steps - sum(w)] for w in grid], dtype=float) / steps


def choose(truth: Truth, per_weight: list[tuple[np.ndarray, np.ndarray]], seeds: np.ndarray) -> int:
    """Index of the weights with the best mean of album and artist P@5 over ``seeds``."""
    return int(np.argmax([np.nanmean(a[seeds]) + np.nanmean(r[seeds]) for a, r in per_weight]))


def blend(truth: Truth, parts: list[np.ndarray], allowed: np.ndarray | None) -> dict:
    """In-sample best weights, and leave-one-package-out precision of the weight choice.

    Returns
    -------
    dict
        ``in_sample``: (album, artist); ``weights``: in-sample weights; ``lopo``: (album,
        artist) with each package's seeds scored under weights chosen on the other packages;
        ``lopo_weights``: the weights each fold chose.
    """
    grid = weight_grid(len(parts))
    per_weight = [truth.scores(top_k(sum(w * p for w, p in zip(weights, parts, strict=True)),
                                     allowed)) for weights in grid]
    best = choose(truth, per_weight, np.ones(len(truth.package), dtype=bool))
    album, artist = np.full(len(truth.package), np.nan), np.full(len(truth.package), np.nan)
    chosen = []
    for package in np.unique(truth.package):
        held = truth.package == package
        pick = choose(truth, per_weight, ~held)
        album[held], artist[held] = per_weight[pick][0][held], per_weight[pick][1][held]
        chosen.append(grid[pick].round(2).tolist())
    return {"in_sample": tuple(np.nanmean(s) for s in per_weight[best]),
            "weights": grid[best].round(2).tolist(),
            "lopo": (np.nanmean(album), np.nanmean(artist)), "lopo_weights": chosen}


# ---------------------------------------------------------------- the table

#: Levers: blends of (component, transform), weights chosen on the grid, ranked within Encore's
#: candidates (cluster + LSH, as ``Recommender.candidates``).
LEVERS = {
    "J + cosine, weight refit": [("jaccard", "plain"), ("cosine", "plain")],
    "J + cosine (MP)": [("jaccard", "plain"), ("cosine", "mp")],
    "J + cosine (LS)": [("jaccard", "plain"), ("cosine", "ls")],
    "J + segment Gaussian SKL": [("jaccard", "plain"), ("segment SKL", "plain")],
    "J + segment Gaussian JS (LS)": [("jaccard", "plain"), ("segment JS", "ls")],
    "J + segment best match (LS)": [("jaccard", "plain"), ("segment best match", "ls")],
    "J + frame-MFCC Gaussian SKL (LS)": [("jaccard", "plain"), ("frame-MFCC SKL", "ls")],
    "J + frame-MFCC Gaussian JS (MP)": [("jaccard", "plain"), ("frame-MFCC JS", "mp")],
    "J + frame-MFCC Gaussian JS (LS)": [("jaccard", "plain"), ("frame-MFCC JS", "ls")],
    "J + cosine + frame-MFCC JS (LS)": [("jaccard", "plain"), ("cosine", "ls"),
                                        ("frame-MFCC JS", "ls")],
    "J + cosine + frame-MFCC JS + rhythm (LS)": [("jaccard", "plain"), ("cosine", "ls"),
                                                 ("frame-MFCC JS", "ls"), ("rhythm", "ls")],
    "J + cosine + frame-MFCC JS + loudness (MP)": [("jaccard", "plain"), ("cosine", "mp"),
                                                   ("frame-MFCC JS", "mp"), ("loudness", "mp")],
    "J + cosine + frame-MFCC JS + loudness (LS)": [("jaccard", "plain"), ("cosine", "ls"),
                                                   ("frame-MFCC JS", "ls"), ("loudness", "ls")],
}
#: Single components on every track (no candidates, no weights).
ALONE = {"segment Gaussian JS (LS), all tracks": ("segment JS", "ls"),
         "frame-MFCC Gaussian SKL (LS), all tracks": ("frame-MFCC SKL", "ls"),
         "frame-MFCC Gaussian JS (LS), all tracks": ("frame-MFCC JS", "ls")}
#: The lever whose leave-one-package-out choice fixed the proportions of ``audio_score.WEIGHTS``'
#: first four components (the four-part blend).
WINNER = "J + cosine + frame-MFCC JS + loudness (LS)"
#: Components added to the four-part blend (``WINNER`` in the proportions of
#: ``audio_score.WEIGHTS``), locally scaled; the weight of the addition is chosen on a 0.05 grid.
ADDED = {f"4 parts + {name} (LS)": name
         for name in ("stereo image", "fluctuation pattern", "spectral pattern",
                      "correlation pattern", "frame-MFCC+delta JS", "production", "rhythm",
                      "segment best match")}
#: The addition that won: its in-sample weight is ``audio_score.WEIGHTS["stereo"]``.
SHIPPED_LEVER = "4 parts + stereo image (LS)"


def fixed(truth: Truth, top: np.ndarray) -> dict:
    """A ranking with no constant chosen here: its in-sample and held-out figures agree."""
    scores = tuple(np.nanmean(s) for s in truth.scores(top))
    return {"in_sample": scores, "lopo": scores}


def peers(lib: Library, truth: Truth, dist: dict, bliss: dict) -> dict:
    """Musly, mean-MFCC cosine, bliss-audio and random, over every track."""
    vectors = np.vstack([np.frombuffer(d["features"]["vector"], np.float32) for d in lib.docs])
    mean_bliss = np.mean(list(bliss.values()), axis=0)  # a file bliss failed on: average vector
    bliss_matrix = np.vstack([bliss.get(k, mean_bliss) for k in lib.keys])
    out = {"Musly timbre, whole tracks": fixed(truth, top_k(-dist["musly whole"])),
           "Musly timbre, 30 s excerpts": fixed(truth, top_k(-dist["musly 30s"])),
           "(c) cosine on mean MFCC": fixed(truth, top_k(-cosine_distance(vectors[:, :N_MFCC]))),
           "(d) bliss-audio, euclidean": fixed(truth, top_k(-euclidean(bliss_matrix,
                                                                      standardise=False)))}
    rng = np.random.default_rng(0)
    draws = [truth.scores(top_k(rng.random((len(lib.keys),) * 2))) for _ in range(20)]
    out["(e) random (mean of 20)"] = {
        key: (np.mean([np.nanmean(a) for a, _ in draws]), np.mean([np.nanmean(r) for _, r in draws]))
        for key in ("in_sample", "lopo")}
    return out


def evaluate(lib: Library, truth: Truth, audio: dict, bliss: dict) -> dict:
    """Every variant's figures on one imported corpus."""
    dist = components(lib, audio)
    table = peers(lib, truth, dist, bliss)
    table |= {name: fixed(truth, top) for name, top in lib.rankings.items()}
    for name, spec in LEVERS.items():
        parts = [similarity(c, dist[c], t) for c, t in spec]
        table[name] = blend(truth, parts, lib.allowed)
    # WEIGHTS lists the winner's components in the same order, then the stereo image
    four = [w / (1 - audio_score.WEIGHTS["stereo"]) for w in audio_score.WEIGHTS.values()][:4]
    default = sum(w * similarity(c, dist[c], t)
                  for w, (c, t) in zip(four, LEVERS[WINNER], strict=True))
    for name, c in ADDED.items():
        table[name] = blend(truth, [default, similarity(c, dist[c], "ls")], lib.allowed)
    if not np.isclose(table[SHIPPED_LEVER]["weights"][1], audio_score.WEIGHTS["stereo"]):
        print(f"  note: {SHIPPED_LEVER} chose {table[SHIPPED_LEVER]['weights']}, the shipped "
              f"stereo weight is {audio_score.WEIGHTS['stereo']}", file=sys.stderr)
    for name, (c, t) in ALONE.items():
        table[name] = fixed(truth, top_k(similarity(c, dist[c], t)))
    # its weights were chosen on this corpus: the held-out figure is its lever's
    table[SHIPPED]["lopo"] = table[SHIPPED_LEVER]["lopo"]
    return table


def print_table(results: dict[str, dict]) -> None:
    """One row per variant: tagged, stripped, and both leave-one-package-out."""
    musly = results["stripped"]["Musly timbre, whole tracks"]["lopo"]
    print(f"\n{'variant':<50} {'tagged':>13} {'stripped':>13} {'LOPO tagged':>13} "
          f"{'LOPO stripped':>13} {'x Musly (LOPO strip)':>20}  weights (stripped)")
    print(f"{'':<50}" + "  album artist" * 4)
    for name, row in results["stripped"].items():
        tagged = results["tagged"][name]
        cells = [tagged["in_sample"], row["in_sample"], tagged["lopo"], row["lopo"]]
        ratio = f"{row['lopo'][0] / musly[0]:.2f} / {row['lopo'][1] / musly[1]:.2f}"
        print(f"{name:<50}" + "".join(f"  {a:.3f}  {r:.3f}" for a, r in cells) +
              f" {ratio:>20}  {row.get('weights', '')}")
    print("\nweights chosen per held-out package (stripped):")
    for name, row in results["stripped"].items():
        if "lopo_weights" in row:
            print(f"  {name:<44} {row['lopo_weights']}")


def main() -> None:
    root = ensure_corpus()
    paths = tracks(root)
    truth = labels(paths)
    audio = audio_inputs(paths)
    bliss = bliss_vectors(paths)
    stripped = stripped_copy(root, CACHE / "corpus-stripped")
    print(f"{len(paths)} tracks, {len({a for a, _ in truth.values()})} albums, "
          f"{len({r for _, r in truth.values() if r})} artists")
    results = {}
    for title, folder, db in (("tagged", root, "bench_tagged"),
                              ("stripped", stripped, "bench_stripped")):
        lib = load_library(folder, db)
        # labels come from the tagged originals, by corpus key, for both imports
        keyed = Truth([truth[k][0] for k in lib.keys], [truth[k][1] for k in lib.keys],
                      np.array([truth[k][0] for k in lib.keys]))
        results[title] = evaluate(lib, keyed, audio, bliss)
    print_table(results)
    (AUDIO_CACHE / "last_results.json").write_text(json.dumps(results, default=float, indent=1))


if __name__ == "__main__":
    main()
