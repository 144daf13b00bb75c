"""Screenshots of the player with the real soundtrack library, and of each import-wizard page.

Links the benchmark corpus (Debian game soundtracks, see ``bench/fetch_corpus.sh``) into
``<data dir>/music`` next to a generated cover per soundtrack (they carry no art; the corpus is not
touched) and imports it into its own data folder on first run (incremental afterwards), or copies
an existing import of it (``--copy-uri``/``--copy-db``), starts the local stack and a recommender
worker, listens to the radio in the paced null output and saves PNGs next to this script: the
radio playing with the queue and sidebar (``main-window.png``), the Browse tab with an album open
(``browse.png``), the settings dialog, the Liked and Recently played views, a reason tooltip, the
welcome page of a window over an empty library, and the wizard.

Usage: python docs/screenshots.py [--data-dir DIR] [--db NAME] [--copy-uri URI --copy-db NAME]
(``--copy-uri mongodb://127.0.0.1:PORT/?directConnection=true --copy-db bench_tagged`` reuses
bench/quality.py's import without touching it.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import soundfile as sf
from PySide6.QtCore import QPoint, QSettings
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QToolTip

from bench.corpus import ensure_corpus, tracks
from core.config import Config
from core.library.folders import add_folder
from core.playlists.store import Playlists
from player.backend import connect_backend
from player.main_window import MainWindow
from player.resources import style_sheet
from player.widgets.browser import HEADER_COVER
from player.wizard import ImportWizard

sys.path.insert(0, str(Path(__file__).resolve().parent))
from component_screenshots import link_corpus  # a script beside this one

OUT = Path(__file__).resolve().parent
#: What the radio needs of an imported library (listening history is left behind).
LIBRARY_COLLECTIONS = ("tracks", "frames", "clusters", "meta")


def pump(app: QApplication, seconds: float, until=None) -> None:
    """Run the event loop for a while (or until ``until()`` holds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until()):
        app.processEvents()
        time.sleep(0.02)


def import_corpus(config: Config, root: Path) -> None:
    from core.library.pipeline import run_import
    from core.services import resolve_mongo_uri
    from core.store.mongo import MongoStore

    store = MongoStore(resolve_mongo_uri(config), config.db_name)
    report = run_import(str(root), store, progress=lambda d, t, m: print(f"\r{d}/{t} {m[:40]:40}", end=""))
    print(f"\nimported {len(report.imported)}, unchanged {report.unchanged}")
    store.close()


def copy_library(config: Config, uri: str, db_name: str) -> None:
    """Copy an imported library from another database (only its tracks and models)."""
    from pymongo import MongoClient

    from core.services import resolve_mongo_uri
    from core.store.mongo import MongoStore

    store = MongoStore(resolve_mongo_uri(config), config.db_name)
    if store.count_tracks():
        return
    source = MongoClient(uri)[db_name]
    for name in LIBRARY_COLLECTIONS:
        docs = list(source[name].find())
        if docs:
            store.db[name].insert_many(docs)
    store.ensure_schema()
    print(f"copied {store.count_tracks()} tracks from {db_name}")
    store.close()


def save(widget, name: str) -> None:
    widget.grab().save(str(OUT / name))
    print("saved", name)


def with_tooltip(window: MainWindow) -> QPixmap:
    """The window with the visible tooltip painted where it shows (a tooltip is its own window)."""
    shot = window.grab()
    tip = next(w for w in QApplication.topLevelWidgets()
               if w.inherits("QTipLabel") and w.isVisible())
    painter = QPainter(shot)
    painter.drawPixmap(window.mapFromGlobal(tip.pos()), tip.grab())
    painter.end()
    return shot


def row_titled(window: MainWindow, title: str) -> int:
    model = window.library
    return next((r for r in range(model.rowCount()) if model.track(r).title == title), 0)


def listening_shots(app: QApplication, config: Config) -> None:
    """Radio with queue and sidebar, Liked, Recently played and a reason's tooltip."""
    backend = connect_backend(config, start_worker=True)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(backend, settings, playback={"device": "null"})
    window.resize(1360, 820)
    window.show()
    pump(app, 60, until=lambda: "tracks" in window.status_label.text())
    model = window.library
    for r in (3, 41, 88, 130, 166):  # a few favourites across the soundtracks
        window.set_liked(model.track(r % model.rowCount()).id, True)
    for r in range(0, 40, 7):  # some listening first, for Recently played and the radio's memory
        window.play_row(model.track(r))
        pump(app, 20, until=lambda r=r: window.bridge.current is not None
             and window.bridge.current.track_id == model.track(r).id)
        pump(app, 1.5)
    start = row_titled(window, "Battle Music")
    window.start_radio(model.track(start))
    pump(app, 60, until=lambda: "worker" in window.sidebar.hint.text()
         and any(o == "radio" for o, _ in window.queue.upcoming()))
    window.enqueue(model.track(start + 3).id)
    window.enqueue(model.track(start + 12).id)
    window.library_view.table.selectRow(start)
    window.bridge.seek(64.0)
    pump(app, 2)
    save(window, "player-radio.png")
    save(window, "main-window.png")
    browse_shot(app, window)
    playlists_shot(app, window)
    settings_shot(app, window)
    item = window.sidebar.list.item(0)
    rect = window.sidebar.list.visualItemRect(item)
    spot = window.sidebar.list.viewport().mapToGlobal(rect.center() + QPoint(0, 8))
    QToolTip.showText(spot, item.toolTip(), window.sidebar.list)
    pump(app, 0.5)
    with_tooltip(window).save(str(OUT / "player-reason-tooltip.png"))
    QToolTip.hideText()
    for view, name in (("liked", "player-liked.png"), ("recent", "player-recent.png")):
        window.library_view.show_view(view)
        pump(app, 0.5)
        save(window, name)
    print("listening:", window.sidebar.hint.text(), window.sidebar.warning.text(), window.health.text())
    window.close()
    backend.close()


def browse_shot(app: QApplication, window: MainWindow) -> None:
    """The Browse tab with the Wesnoth soundtrack open: covers, year, tracks in order."""
    window.pages.show_browse()
    browser = window.browser
    browser.show_category("albums")
    album = next((e for e in browser.entries.entries if "Wesnoth" in e.name), None)
    if album is not None:
        browser.open_entry("albums", album.key)
    size = browser.list.iconSize().width()
    index = browser.index
    pump(app, 20, until=lambda: all(browser.covers.is_known(index.rows[e.rows[0]].path, size)
                                    for e in browser.entries.entries)
         and browser.covers.is_known(browser.tracks.tracks[0].path, HEADER_COVER))
    pump(app, 0.5)
    save(window, "browse.png")
    window.pages.show_tracks()


def playlists_shot(app: QApplication, window: MainWindow) -> None:
    """The Playlists tab: a mixed playlist playing, one entry whose file has gone (greyed)."""
    rows = window.library.visible_tracks()
    by_album = {name: [r for r in rows if name in r.album or name.lower() in r.path]
                for name in ("Wesnoth", "Kart", "SuperTux")}
    wesnoth, kart = by_album["Wesnoth"][:9], by_album["Kart"][:12]
    tux = [r for r in by_album["SuperTux"] if r not in kart][:7]
    mix = [wesnoth[2], kart[3], tux[1], wesnoth[5], kart[7], tux[4], wesnoth[0], kart[1], tux[2], wesnoth[7]]
    made = [window.playlists.create([t.id for t in tracks], name, edit=False)
            for name, tracks in (("Evening mix", mix), ("Racing", kart),
                                 ("Wesnoth favourites", wesnoth), ("Calm", tux))]
    store = Playlists(window.backend.store)
    # An entry whose track left the library since: it stays in the playlist, greyed.
    store.collection.update_one({"_id": made[0].id},
                                {"$push": {"tracks": {"$each": ["0" * 32], "$position": 5}}})
    window.pages.show_playlists()
    window.playlists.refresh(made[0].id)
    window.playlists.play(2)
    pump(app, 10, until=lambda: window.bridge.current is not None)
    window.pages.playlists.table.setFocus()
    pump(app, 2)
    save(window, "playlists.png")
    for playlist in made:
        store.delete(playlist.id)
    window.pages.show_tracks()


def settings_shot(app: QApplication, window: MainWindow) -> None:
    """File → Settings… of the running window (the music folder remembered and watched)."""
    music = str(window.backend.config.data_dir / "music")
    add_folder(window.backend.store, music, watch=True)
    dialog = window.desktop.open_settings()
    dialog.resize(640, dialog.sizeHint().height())
    pump(app, 0.5)
    save(dialog, "settings.png")
    dialog.reject()


def welcome_shot(app: QApplication, config: Config) -> None:
    """A window over an empty library: the welcome page."""
    empty = Config(config.data_dir, None, None, db_name="encore_welcome_shots", topic="docs_events")
    backend = connect_backend(empty, start_worker=False)
    backend.store.client.drop_database("encore_welcome_shots")
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(backend, settings, playback={"device": "null"})
    window.resize(1360, 820)
    window.show()
    pump(app, 20, until=lambda: window.pages.showing_welcome())
    pump(app, 0.5)
    save(window, "welcome.png")
    window.close()
    backend.store.client.drop_database("encore_welcome_shots")
    backend.close()


def wizard_shots(app: QApplication, config: Config, root: Path) -> None:
    from core.services import resolve_mongo_uri
    from core.store.mongo import MongoStore

    folder = Path(tempfile.mkdtemp(prefix="encore-wizard-")) / "New music"
    folder.mkdir()
    for path in tracks(root)[:8]:
        shutil.copy(path, folder / path.name)
    (folder / "damaged.flac").write_bytes(b"fLaC" + bytes(400))
    t = np.arange(3 * 44100) / 44100
    sf.write(folder / "too loud.wav", np.clip(2 * np.sin(2 * np.pi * 220 * t), -1, 1), 44100)
    store = MongoStore(resolve_mongo_uri(config), "encore_wizard_shots")
    store.client.drop_database("encore_wizard_shots")
    store.ensure_schema()
    wizard = ImportWizard(store, str(config.library_dir), folder=str(folder), jobs=2)
    wizard.show()
    pump(app, 0.5)
    wizard.grab().save(str(OUT / "wizard-1-folder.png"))
    wizard.next()
    wizard.options_page.copies.setChecked(True)
    pump(app, 0.3)
    wizard.grab().save(str(OUT / "wizard-2-options.png"))
    wizard.next()
    progress = wizard.progress_page
    pump(app, 120, until=lambda: progress.bar.value() >= 3)
    wizard.grab().save(str(OUT / "wizard-3-progress.png"))
    pump(app, 300, until=lambda: wizard.currentPage() is wizard.summary_page)
    pump(app, 0.3)
    wizard.grab().save(str(OUT / "wizard-4-summary.png"))
    wizard.close()
    store.client.drop_database("encore_wizard_shots")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=str(Path.home() / ".cache" / "encore-docs"))
    parser.add_argument("--db", default="encore", help="database name")
    parser.add_argument("--copy-uri", help="MongoDB URI of an existing import of the corpus")
    parser.add_argument("--copy-db", help="its database name (copied into --db when that is empty)")
    parser.add_argument("--skip-wizard", action="store_true", help="only the player's pictures")
    args = parser.parse_args()
    config = Config(Path(args.data_dir), None, None, db_name=args.db, topic="docs_events")
    root = ensure_corpus()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    music = config.data_dir / "music"
    link_corpus(music)
    if args.copy_uri and args.copy_db:
        copy_library(config, args.copy_uri, args.copy_db)
    else:
        import_corpus(config, music)
    app.setStyleSheet(style_sheet())
    listening_shots(app, config)
    welcome_shot(app, config)
    if not args.skip_wizard:
        wizard_shots(app, config, root)
    print("saved", *sorted(p.name for p in OUT.glob("*.png")))


if __name__ == "__main__":
    main()
