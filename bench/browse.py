"""Browse pane latency with a 50,000-track library (synthetic rows, as the library loader holds them).

Times, repaint included, on a shown ``BrowserPane`` (offscreen):
1. building the panes: filing each 2,000-row batch as the library loader delivers it, then
   listing the albums and opening the first one once the load ends;
2. switching category: artists, albums (cover grid and plain list), genres, folders;
3. opening an album, and an artist (a larger group, ordered by album, disc and track).
The target is the search's latency: p95 ≤ 50 ms.

Usage: python bench/browse.py [--tracks 50000] [--repeats 30] [--gc-freeze]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication

from bench.stats import percentiles
from core.library.catalog import TrackRow
from player.widgets.browser import BrowserPane

PER_ALBUM = 12


def synthetic(n: int, *, seed: int = 0) -> tuple[list[TrackRow], dict[str, dict]]:
    """``n`` rows in albums of 12 (every other album tagged with track numbers), 400 artists,
    25 genres, one folder per album; and their stored tags."""
    rng = random.Random(seed)
    rows, tags = [], {}
    for i in range(n):
        album, number = divmod(i, PER_ALBUM)
        folder = f"/music/artist {album % 400}/album {album}"
        track_id = f"t{i:06d}"
        rows.append(TrackRow(track_id, f"{folder}/{number + 1:02d} track {i}.ogg", f"Track {i}",
                             f"Artist {album % 400}", f"Album {album}", f"Genre {album % 25}",
                             rng.uniform(90, 400), -14.0, album % 30, (), 0.0, 0.9))
        if album % 2 == 0:
            tags[track_id] = {"tracknumber": number + 1, "discnumber": 1 + number // 6,
                              "date": f"{1970 + album % 50}-05-01"}
    rng.shuffle(rows)  # library order is import order, not album order
    return rows, tags


def timed(app: QApplication, pane: BrowserPane, action) -> float:
    """Seconds for ``action`` and the repaint it causes."""
    start = time.perf_counter()
    action()
    pane.repaint()
    app.processEvents()
    return time.perf_counter() - start


def load(app: QApplication, pane: BrowserPane, rows: list[TrackRow], tags: dict,
         size: int = 2000) -> tuple[list[float], float]:
    """Seconds per loader batch, as the library loader delivers them, and for listing the panes
    (albums, first one opened) when the batches end."""
    pane.clear()
    spent = [timed(app, pane, lambda b=rows[i : i + size]: pane.append(b, tags))
             for i in range(0, len(rows), size)]
    return spent, timed(app, pane, pane._refresh.timeout.emit)


def switch_times(app: QApplication, pane: BrowserPane, repeats: int) -> dict[str, list[float]]:
    """Seconds to list each category (and the albums as a cover grid), repaint included."""
    results = {}
    for category, grid in (("artists", False), ("albums", True), ("albums", False),
                           ("genres", False), ("folders", False)):
        pane.grid_button.setChecked(grid)

        def switch(c=category):
            pane.show_category("genres" if c == "artists" else "artists")  # away, then back
            pane.show_category(c)

        label = f"switch to {category}" + (" (cover grid)" if grid else "")
        results[label] = [timed(app, pane, switch) / 2 for _ in range(repeats)]
    return results


def open_times(app: QApplication, pane: BrowserPane, repeats: int,
               rng: random.Random) -> dict[str, list[float]]:
    """Seconds to open a random album and a random artist (its tracks listed), repaint included."""
    results = {}
    for category in ("albums", "artists"):
        pane.show_category(category)
        keys = [e.key for e in pane.entries.entries]
        picks = [rng.choice(keys) for _ in range(repeats)]
        results[f"open one of {len(keys):,} {category}"] = [
            timed(app, pane, lambda k=key, c=category: pane.open_entry(c, k)) for key in picks]
    return results


def report(results: dict[str, list[float]]) -> float:
    """Print p50/p95/max per measure; returns the worst p95 in seconds."""
    worst = 0.0
    for label, values in results.items():
        print(f"  {label:32s} {percentiles(values)}")
        worst = max(worst, sorted(values)[int(0.95 * (len(values) - 1))])
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() once the rows exist, as a player can after a load: the "
                             "cyclic collector then stops rescanning 50,000 rows (its pauses "
                             "dominate the slowest samples otherwise)")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    rows, tags = synthetic(args.tracks)
    if args.gc_freeze:
        gc.freeze()
    pane = BrowserPane()
    pane.resize(1200, 800)
    pane.show()
    app.processEvents()
    loads = [load(app, pane, rows, tags) for _ in range(5)]
    results = {"file a 2,000-row loader batch": [t for batch, _ in loads for t in batch],
               "list the panes after the load": [listed for _, listed in loads],
               **switch_times(app, pane, args.repeats),
               **open_times(app, pane, args.repeats, random.Random(1))}
    one_shot = timed(app, pane, lambda: pane.set_rows(rows, tags))
    print(f"{args.tracks:,} tracks, {len(pane.index.entries('albums')):,} albums")
    worst = report(results)
    print(f"worst p95 {worst * 1000:.1f} ms (target 50 ms); all rows indexed at once (no loader): "
          f"{one_shot * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
