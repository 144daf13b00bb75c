"""Precision@5 for "same album" and "same artist" on real soundtracks, with and without tags.

Variants: (a) the seed's algorithm: candidates from the K-means cluster and LSH collisions,
ranked by Jaccard of plain word-bigram shingles; (b) Encore's shipped recommender (bigram +
weighted-word shingles, clusters widened to the nearest ones when candidates are few, Jaccard
blended with the cosine of standardised timbre vectors);
(c) cosine on mean MFCC; (d) bliss-audio's vectors, euclidean; (e) random.

Usage: python bench/quality.py   (imports the corpus into a benchmark database on first run)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ensure_corpus, labels, stripped_copy, tracks
from core.config import Config
from core.library.pipeline import run_import
from core.services import LocalStack, mongo_uri
from core.similarity import minhash, shingles
from core.similarity.recommend import Recommender
from core.store.mongo import MongoStore

K = 5
CACHE = Path(os.environ.get("ENCORE_BENCH_DIR", Path.home() / ".cache" / "encore-bench"))


def open_bench_store(name: str) -> MongoStore:
    """The benchmark's own database on a local server under ``CACHE``."""
    info = LocalStack(Config(CACHE, None, None)).ensure("mongo")
    store = MongoStore(mongo_uri(info.port), name, timeout_ms=20000)
    store.ensure_schema()
    return store


def key_of(path: str) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.name}"


def precision(ranked: dict[str, list[str]], truth: dict[str, str | None]) -> float:
    """Mean share of the top K that share the seed's label (seeds with a label and a peer)."""
    scores = []
    for seed, recs in ranked.items():
        label = truth.get(seed)
        peers = sum(1 for k, v in truth.items() if v == label and k != seed)
        if label is None or peers == 0:
            continue
        hits = sum(1 for r in recs[:K] if truth.get(r) == label)
        scores.append(hits / min(K, peers))
    return float(np.mean(scores))


def shipped(store: MongoStore, ids: dict[str, str]) -> dict[str, list[str]]:
    rec = Recommender(store)
    path_of = {v: k for k, v in ids.items()}
    return {key: [path_of[r.id] for r in rec.recommend([tid], k=K, max_per_artist=None)]
            for key, tid in ids.items()}


def seed_algorithm(store: MongoStore, docs: list[dict]) -> dict[str, list[str]]:
    """Cluster + LSH candidates ranked by Jaccard of plain bigram shingles (no widening)."""
    book = shingles.Codebook.from_doc(store.get_model("codebook"))
    frames = {d["_id"]: np.frombuffer(d["data"], np.float32).reshape(d["shape"])
              for d in store.iter_frames()}
    sets = {d["_id"]: shingles.shingle_set(shingles.to_words(frames[d["_id"]], book), weighted=False)
            for d in docs}
    bands = {i: set(minhash.band_keys(minhash.signature(s))) for i, s in sets.items()}
    out = {}
    for d in docs:
        cands = [c for c in docs if c["_id"] != d["_id"]
                 and (c["cluster"] == d["cluster"] or bands[c["_id"]] & bands[d["_id"]])]
        scored = sorted(cands, key=lambda c: -shingles.jaccard(sets[d["_id"]], sets[c["_id"]]))
        out[key_of(d["source_path"])] = [key_of(c["source_path"]) for c in scored[:K]]
    return out


def nearest(keys: list[str], vectors: np.ndarray, metric: str) -> dict[str, list[str]]:
    if metric == "cosine":
        unit = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
        distance = -unit @ unit.T
    else:
        distance = ((vectors[:, None] - vectors[None]) ** 2).sum(axis=2)
    np.fill_diagonal(distance, np.inf)
    return {k: [keys[j] for j in np.argsort(distance[i])[:K]] for i, k in enumerate(keys)}


def random_ranking(keys: list[str], seed: int) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    return {k: list(rng.choice([o for o in keys if o != k], K, replace=False)) for k in keys}


def bliss_vectors(paths: list[Path]) -> dict[str, np.ndarray]:
    """bliss-audio analyses (cached); run in a subprocess so a crash cannot take this one down."""
    cache = CACHE / "bliss.json"
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


def evaluate(root: Path, db: str, truth_album: dict, truth_artist: dict, bliss: dict) -> dict:
    store = open_bench_store(db)
    report = run_import(str(root), store, jobs=os.cpu_count())
    print(f"  {db}: imported {len(report.imported)}, unchanged {report.unchanged}, "
          f"skipped {len(report.skipped)}", file=sys.stderr)
    docs = list(store.iter_tracks({}, {"source_path": 1, "cluster": 1, "features.vector": 1}))
    ids = {key_of(d["source_path"]): d["_id"] for d in docs}
    keys = sorted(ids)
    vectors = {key_of(d["source_path"]): np.frombuffer(d["features"]["vector"], np.float32)
               for d in docs}
    rankings = {
        "(a) seed: cluster+LSH, Jaccard of bigram shingles": seed_algorithm(store, docs),
        "(b) Encore default: shingles + timbre blend": shipped(store, ids),
        "(c) cosine on mean MFCC": nearest(keys, np.vstack([vectors[k][:20] for k in keys]), "cosine"),
        "(d) bliss-audio, euclidean": nearest([k for k in keys if k in bliss],
                                              np.vstack([bliss[k] for k in keys if k in bliss]),
                                              "euclidean"),
    }
    table = {name: (precision(r, truth_album), precision(r, truth_artist)) for name, r in rankings.items()}
    randoms = [random_ranking(keys, s) for s in range(20)]
    table["(e) random (mean of 20)"] = (np.mean([precision(r, truth_album) for r in randoms]),
                                        np.mean([precision(r, truth_artist) for r in randoms]))
    return table


def main() -> None:
    root = ensure_corpus()
    paths = tracks(root)
    truth = labels(paths)
    album = {k: v[0] for k, v in truth.items()}
    artist = {k: v[1] for k, v in truth.items()}
    bliss = bliss_vectors(paths)
    stripped = stripped_copy(root, CACHE / "corpus-stripped")
    print(f"{len(paths)} tracks, {len(set(album.values()))} albums, "
          f"{len({a for a in artist.values() if a})} artists")
    for title, folder, db in (("with tags", root, "bench_tagged"),
                              ("tags stripped (audio only)", stripped, "bench_stripped")):
        table = evaluate(folder, db, album, artist, bliss)
        print(f"\n{title}\n{'variant':<52} {'P@5 album':>10} {'P@5 artist':>11}")
        for name, (p_album, p_artist) in table.items():
            print(f"{name:<52} {p_album:>10.3f} {p_artist:>11.3f}")


if __name__ == "__main__":
    main()
