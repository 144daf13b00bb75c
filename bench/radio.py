"""The endless radio against plain top-k and random on the real soundtracks, tags stripped.

For every seed track (every ``--every``-th of the corpus) each variant picks ``--picks`` tracks:

- radio: a session through ``recommend_for_event`` (the worker's code path): a ``seed`` event,
  then each time the first radio pick is played (a ``play`` event) and the next answer is taken;
- radio with at most 3 per album (and artist) in any 5, and in album mode (caps lifted);
  untagged, a track's artist is its folder too, so both caps bind;
- plain top-k: the seed's top ``--picks`` from ``Recommender.recommend`` (no caps), in order;
- random: tracks drawn without repeats (mean of 20 draws).

Columns: the seed album's share of the picks against chance ((album size - 1) / (tracks - 1)),
the longest run of one album in any 5 consecutive picks (mean and worst over seeds), and the
seed album's share when the listener skips (plays, then leaves after 10 s) the first three
picks from the seed's album. Untagged, the album is the soundtrack's folder.

Usage: python bench/radio.py [--every 4] [--picks 20]   (imports the corpus on first run,
into the same benchmark database as bench/quality.py)
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import ensure_corpus, stripped_copy
from bench.quality import CACHE, open_bench_store
from core.events import PlayEvent
from core.library.pipeline import run_import
from core.similarity.radio import RadioOptions
from core.similarity.recommend import Recommender
from core.similarity.session import recommend_for_event
from core.store.mongo import MongoStore

SPAN = 5
SKIPS = 3
#: A variant: ``(seed id, album whose first picks are skipped or None) -> picked ids``.
Variant = Callable[[str, str | None], list[str]]


def radio_variant(store: MongoStore, album_of: dict[str, str], picks: int,
                  options: RadioOptions) -> Variant:
    """Sessions through the worker's core, one event at a time."""
    recommender = Recommender(store)

    def run(seed: str, skip_album: str | None) -> list[str]:
        session, ts, skipped, out = f"bench-{uuid.uuid4().hex[:12]}", 1.0, 0, []
        doc = recommend_for_event(store, recommender, PlayEvent("seed", seed, session, ts),
                                  options=options)
        while len(out) < picks and doc["radio"]:
            pick = doc["radio"][0]["id"]
            out.append(pick)
            ts += 1.0
            doc = recommend_for_event(store, recommender, PlayEvent("play", pick, session, ts),
                                      options=options)
            if skip_album == album_of[pick] and skipped < SKIPS:
                skipped += 1
                ts += 1.0
                doc = recommend_for_event(store, recommender,
                                          PlayEvent("skip", pick, session, ts, 10.0), options=options)
        return out

    return run


def top_k_variant(store: MongoStore, picks: int) -> Variant:
    """The seed's nearest tracks in order; a skip changes nothing in a fixed list."""
    recommender = Recommender(store)
    return lambda seed, _skip: [r.id for r in recommender.recommend([seed], k=picks,
                                                                    max_per_artist=None)]


def random_variant(ids: list[str], picks: int, draw: int) -> Variant:
    rng = np.random.default_rng(draw)
    return lambda seed, _skip: list(rng.choice([i for i in ids if i != seed], picks, replace=False))


def longest_run(albums: list[str]) -> int:
    """Most picks of one album in any ``SPAN`` consecutive picks."""
    windows = [albums[i:i + SPAN] for i in range(max(1, len(albums) - SPAN + 1))]
    return max(max(w.count(a) for a in w) for w in windows if w)


def evaluate(variants: list[Variant], seeds: list[str], album_of: dict[str, str]) -> dict:
    """Shares and runs over every seed, averaged over the variant's draws."""
    share, skipped_share, runs = [], [], []
    for seed in seeds:
        album = album_of[seed]
        for variant in variants:
            plain = [album_of[t] for t in variant(seed, None)]
            with_skips = [album_of[t] for t in variant(seed, album)]
            share.append(plain.count(album) / len(plain))
            skipped_share.append(with_skips.count(album) / len(with_skips))
            runs.append(longest_run(plain))
    return {"share": np.mean(share), "skipped": np.mean(skipped_share),
            "run_mean": np.mean(runs), "run_max": max(runs)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=4, help="every n-th track is a seed")
    parser.add_argument("--picks", type=int, default=20)
    parser.add_argument("--only", help="run only the variants whose name contains this")
    args = parser.parse_args()
    root = ensure_corpus()
    stripped = stripped_copy(root, CACHE / "corpus-stripped")
    store = open_bench_store("bench_stripped")
    # incremental: analyses only what is new or was analysed by an older extractor
    report = run_import(str(stripped), store, jobs=os.cpu_count())
    print(f"import: {len(report.imported)} new, {report.unchanged} unchanged", file=sys.stderr)
    docs = list(store.iter_tracks({"indexed": True}, {"path": 1}))
    album_of = {d["_id"]: Path(d["path"]).parent.name for d in docs}
    ids = sorted(album_of)
    seeds = ids[:: args.every]
    sizes = {a: list(album_of.values()).count(a) for a in set(album_of.values())}
    chance = np.mean([(sizes[album_of[s]] - 1) / (len(ids) - 1) for s in seeds])
    rows = {
        "radio (default: <= 2 per album in 5)": [radio_variant(store, album_of, args.picks,
                                                               RadioOptions())],
        "radio, <= 3 per album in 5": [radio_variant(store, album_of, args.picks,
                                                     RadioOptions(max_per_album=3,
                                                                  max_per_artist=3))],
        "radio, album mode (caps lifted)": [radio_variant(store, album_of, args.picks,
                                                          RadioOptions.for_mode("album"))],
        "plain top-k": [top_k_variant(store, args.picks)],
        "random (mean of 20 draws)": [random_variant(ids, args.picks, d) for d in range(20)],
    }
    print(f"{len(ids)} tracks, {len(sizes)} albums (folders), {len(seeds)} seeds, "
          f"{args.picks} picks each; chance of the seed's album: {chance:.3f}\n")
    print(f"{'variant':<38} {'seed-album share':>16} {'x chance':>9} {'run in 5: mean':>15} "
          f"{'max':>4} {'share, 3 skipped':>17}")
    for name, variants in rows.items():
        if args.only and args.only not in name:
            continue
        r = evaluate(variants, seeds, album_of)
        print(f"{name:<38} {r['share']:>16.3f} {r['share'] / chance:>9.2f} {r['run_mean']:>15.2f} "
              f"{r['run_max']:>4d} {r['skipped']:>17.3f}", flush=True)


if __name__ == "__main__":
    main()
