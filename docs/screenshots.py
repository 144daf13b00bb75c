"""Screenshots of the player with the real soundtrack library, and of each import-wizard page.

Imports the benchmark corpus (Debian game soundtracks, see ``bench/fetch_corpus.sh``) into its
own data folder on first run (incremental afterwards), starts the local stack and a recommender
worker, plays a track into the paced null output and saves PNGs next to this script.

Usage: python docs/screenshots.py [--data-dir DIR] [--db NAME]
(``--data-dir ~/.cache/encore-bench --db bench_tagged`` reuses bench/quality.py's import.)
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
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from bench.corpus import ensure_corpus, tracks
from core.config import Config
from player.backend import connect_backend
from player.main_window import MainWindow
from player.resources import style_sheet
from player.wizard import ImportWizard

OUT = Path(__file__).resolve().parent


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


def main_window_shot(app: QApplication, config: Config) -> None:
    backend = connect_backend(config, start_worker=True)
    window = MainWindow(backend, QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"),
                                           QSettings.Format.IniFormat), playback={"device": "null"})
    window.resize(1360, 820)
    window.show()
    pump(app, 30, until=lambda: window.library.total() >= 150)
    model = window.library
    start = next(r for r in range(model.rowCount()) if model.track(r).title == "Battle Music") \
        if any(model.track(r).title == "Battle Music" for r in range(model.rowCount())) else 0
    for r in (start + 1, start + 5, start + 9):
        window.queue.add([model.track(r % model.rowCount()).play_item()])
    window.play_row(model.track(start))
    window.library_view.table.selectRow(start)
    pump(app, 40, until=lambda: "worker" in window.sidebar.hint.text())
    window.bridge.seek(64.0)
    pump(app, 2)
    window.grab().save(str(OUT / "main-window.png"))
    print("main window:", window.sidebar.hint.text(), window.sidebar.warning.text())
    window.close()
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
    parser.add_argument("--db", default="encore", help="database name (reuse a benchmark's import)")
    args = parser.parse_args()
    config = Config(Path(args.data_dir), None, None, db_name=args.db)
    root = ensure_corpus()
    import_corpus(config, root)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyleSheet(style_sheet())
    main_window_shot(app, config)
    wizard_shots(app, config, root)
    print("saved", *sorted(p.name for p in OUT.glob("*.png")))


if __name__ == "__main__":
    main()
