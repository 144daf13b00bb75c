"""Player responsiveness with a 50,000-track library, and playback under load.

1. Opening the window: time until it is shown, and until all rows are loaded, against a bare
   pymongo read of the same fields (the floor) in the same run; resident memory.
2. Search-as-you-type: ``LibraryModel.set_filter`` against a ``QSortFilterProxyModel`` over the
   same model (the textbook way), p50/p95 over a set of queries, repaint included.
3. Browsing in the same window (its Browse tab, filled by the real loader): listing each category
   and opening random albums and artists, repaint included; the bar is the search's, p95 ≤ 50 ms.
4. Playback under JACK's dummy driver (real-time pacing) for 60 s, idle and then while an
   ``encore import`` of real soundtracks runs with two processes: underruns counted by the
   engine (ring empty in the callback) and by PortAudio.

Usage: python bench/ui.py [--tracks 50000] [--seconds 60] [--repeats 30] [--only library|playback]
(the playback part needs jackd: apt install jackd2)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PySide6.QtCore import QSettings, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QApplication

from bench.browse import open_times, report, switch_times
from bench.corpus import ensure_corpus, tracks
from bench.stats import percentiles
from core.bus.memory import InProcessBus
from core.config import Config
from core.library.catalog import ROW_FIELDS
from core.services import LocalStack, mongo_uri
from core.store.mongo import MongoStore
from player.backend import Backend
from player.main_window import MainWindow

CACHE = Path(os.environ.get("ENCORE_BENCH_DIR", Path.home() / ".cache" / "encore-bench"))
JACK_LOG = Path(tempfile.gettempdir()) / "encore-bench-jackd.log"
QUERIES = ["a", "ba", "bat", "battle", "artist 12", "album 7", "rock", "zzz", "th", "the cave"]
#: Bump when the synthetic documents change: the cached database is rebuilt under the new name.
SCHEMA = 2
PER_ALBUM = 12


def rss_mb() -> float:
    """Resident memory of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def synthetic_store(uri: str, n: int) -> MongoStore:
    """A database of ``n`` tracks carrying every field a library row shows, ``tags`` included
    (albums of 12 tracks on two discs, an album artist, a date), cached between runs."""
    store = MongoStore(uri, f"bench_ui_v{SCHEMA}_{n}", timeout_ms=60000)
    if store.count_tracks() == n:
        return store
    store.client.drop_database(store.db.name)
    store.ensure_schema()
    rng = np.random.default_rng(0)
    words = ["Battle", "Cave", "Forest", "Night", "Theme", "Boss", "Snow", "Desert", "Castle", "Rain"]
    for start in range(0, n, 5000):
        store.tracks.insert_many([{
            "_id": f"{i:016x}", "path": f"/music/{i // PER_ALBUM}/{i}.ogg",
            "source_path": f"/music/{i}.ogg",
            "title": f"{words[i % 10]} {words[(i // 10) % 10]} {i}", "artist": f"Artist {i % 997}",
            "album": f"Album {i // PER_ALBUM}", "genre": ["Soundtrack", "Rock", "Ambient", ""][i % 4],
            "tags": {"tracknumber": i % PER_ALBUM + 1, "discnumber": 1 + i % PER_ALBUM // 6,
                     "albumartist": f"Artist {i // PER_ALBUM % 997}",
                     "date": f"{1970 + i // PER_ALBUM % 50}-05-01"},
            "duration_s": float(rng.uniform(60, 400)),
            "loudness": {"integrated_lufs": float(rng.uniform(-24, -9))}, "cluster": i % 40,
            "issues": ["clipping"] if i % 50 == 0 else [],
            "replaygain": {"track_gain_db": -3.0, "track_peak": 0.9}, "indexed": True}
            for i in range(start, min(n, start + 5000))], ordered=False)
    return store


def pump(app: QApplication, until, timeout: float = 120.0) -> float:
    """Process events until ``until()``; returns the seconds it took."""
    start = time.perf_counter()
    while not until():
        app.processEvents()
        if time.perf_counter() - start > timeout:
            raise TimeoutError("condition not reached")
    return time.perf_counter() - start


def open_window(app: QApplication, store: MongoStore, uri: str, n: int) -> MainWindow:
    start = time.perf_counter()
    rows = list(store.tracks.find({}, ROW_FIELDS, batch_size=2000))
    floor = time.perf_counter() - start
    del rows
    before = rss_mb()
    config = Config(Path(tempfile.mkdtemp()), None, uri, db_name=store.db.name)
    start = time.perf_counter()
    window = MainWindow(Backend(config, uri, store, InProcessBus(store)),
                        QSettings(str(Path(config.data_dir) / "s.ini"), QSettings.Format.IniFormat),
                        playback={"device": "null"})
    window.show()
    app.processEvents()
    shown = time.perf_counter() - start
    pump(app, lambda: window.library.total() == n)
    loaded = time.perf_counter() - start
    print(f"\nlibrary of {n:,} tracks")
    print(f"  window shown          {shown * 1000:8.0f} ms")
    print(f"  all rows loaded       {loaded * 1000:8.0f} ms   (bare pymongo read of the same fields: "
          f"{floor * 1000:.0f} ms; ratio {loaded / floor:.2f})")
    print(f"  memory                {rss_mb() - before:8.0f} MB for the window and its rows "
          f"({(rss_mb() - before) * 2**20 / n:.0f} bytes per track)")
    return window


def filter_latency(app: QApplication, window: MainWindow) -> None:
    model, view = window.library, window.library_view.table

    def timed(apply) -> list[float]:
        times = []
        for query in [*QUERIES, ""]:
            start = time.perf_counter()
            apply(query)
            view.viewport().repaint()
            app.processEvents()
            times.append(time.perf_counter() - start)
        return times

    ours = timed(model.set_filter)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    view.setModel(proxy)
    theirs = timed(proxy.setFilterFixedString)
    view.setModel(model)
    print(f"  search filter         {percentiles(ours)}")
    print(f"  QSortFilterProxyModel {percentiles(theirs)}   ratio of p50s "
          f"{np.median(theirs) / np.median(ours):.1f}x slower")


def browse_latency(app: QApplication, window: MainWindow, repeats: int) -> None:
    """The Browse tab of the loaded window: categories listed, albums and artists opened."""
    window.pages.show_browse()
    pane = window.browser
    pane.flush()
    app.processEvents()
    results = {**switch_times(app, pane, repeats), **open_times(app, pane, repeats, random.Random(1))}
    print(f"  browse ({len(pane.index.entries('albums')):,} albums, "
          f"{len(pane.index.entries('artists')):,} artists)")
    worst = report(results)
    print(f"  worst browse p95      {worst * 1000:8.1f} ms (target 50 ms, the search's bar)")


def start_jack(period: int) -> tuple[subprocess.Popen | None, str]:
    """jackd with the dummy driver, real-time scheduled when this machine allows it (as desktop
    audio servers are), else without; returns the process and the mode."""
    if shutil.which("jackd") is None:
        print("\njackd not installed (apt install jackd2): playback under load skipped")
        return None, ""
    for mode, flags in (("real-time", ["-R", "-P", "70"]), ("no real-time", ["--no-realtime"])):
        jack = subprocess.Popen(["jackd", *flags, "-d", "dummy", "-r", "48000", "-p", str(period)],
                                stdout=JACK_LOG.open("w"), stderr=subprocess.STDOUT)
        ready = subprocess.run(["jack_wait", "-w", "-t", "10"], check=False, stdout=subprocess.DEVNULL)
        if ready.returncode == 0 and jack.poll() is None:
            return jack, mode
        jack.kill()
        jack.wait()
    raise RuntimeError("jackd did not start")


def play_for(path: Path, seconds: float) -> tuple[int, int, float, float]:
    """Play into JACK for ``seconds``; (engine underruns, PortAudio underflows, audio seconds,
    longest callback in ms)."""
    from core.audio.decode import probe
    from core.playback.engine import PlaybackEngine
    from core.playback.outputs import find_device
    from core.playback.source import PlayItem

    engine = PlaybackEngine(device=find_device("JACK"))
    item = PlayItem("bench", str(path), duration_s=probe(path).duration_s)
    engine.play(item)
    time.sleep(seconds)
    status = engine.status()
    underflows, longest = engine.device_underflows, engine.longest_callback_s * 1000
    engine.close()
    if status.error:
        raise RuntimeError(status.error)
    return status.underruns, underflows, status.position_s, longest


def playback_under_load(uri: str, seconds: float, period: int) -> None:
    jack, mode = start_jack(period)
    if jack is None:
        return
    try:
        corpus = tracks(ensure_corpus())
        longest = max(corpus, key=lambda p: p.stat().st_size)
        print(f"\nplayback into JACK's dummy driver, {mode}, {period} frames per period "
              f"({seconds:.0f} s of {longest.name})")
        under, flows, played, slowest = play_for(longest, seconds)
        print(f"  idle                  engine underruns {under}, PortAudio underflows {flows}; "
              f"{played:.1f} s played in {seconds:.0f} s; longest callback {slowest:.2f} ms")
        env = {**os.environ, "ENCORE_MONGO_URI": uri, "ENCORE_DB": "bench_ui_import",
               "ENCORE_DATA_DIR": tempfile.mkdtemp()}
        folder = Path(tempfile.mkdtemp()) / "import"
        folder.mkdir()
        for path in corpus[::2]:  # more than a minute of analysis on two cores
            os.symlink(path, folder / path.name)
        importer = subprocess.Popen([sys.executable, "-m", "core.cli", "import", str(folder), "--jobs", "2",
                                     "--no-progress"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        time.sleep(3)  # let the analysis processes get going
        under, flows, played, slowest = play_for(longest, seconds)
        still = importer.poll() is None
        importer.kill()
        importer.wait()
        MongoStore(uri, "bench_ui_import").client.drop_database("bench_ui_import")
        print(f"  during an import      engine underruns {under}, PortAudio underflows {flows}; "
              f"{played:.1f} s played in {seconds:.0f} s; longest callback {slowest:.2f} ms; "
              f"import still running at the end: {still}")
    finally:
        import sounddevice

        sounddevice._terminate()  # PortAudio must let go of JACK before the server stops
        jack.terminate()
        jack.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tracks", type=int, default=50000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=30, help="samples per browse measure")
    parser.add_argument("--only", choices=("library", "playback"), help="run one part")
    parser.add_argument("--period", type=int, default=1024, help="JACK frames per period")
    args = parser.parse_args()
    uri = mongo_uri(LocalStack(Config(CACHE, None, None)).ensure("mongo").port)
    if args.only != "playback":
        app = QApplication.instance() or QApplication(sys.argv[:1])
        store = synthetic_store(uri, args.tracks)
        window = open_window(app, store, uri, args.tracks)
        filter_latency(app, window)
        browse_latency(app, window, args.repeats)
        window.close()
    if args.only != "library":
        playback_under_load(uri, args.seconds, args.period)
        xruns = [line for line in JACK_LOG.read_text().splitlines() if "was not finished" in line]
        print(f"  jackd reported {len(xruns)} xruns" + (f", e.g. {xruns[0].strip()}" if xruns else ""))


if __name__ == "__main__":
    main()
