"""A screenshot of the browse pane alone (albums with covers, ``albums.png``); the window's own
pictures, with the Browse tab, settings and welcome page, come from ``screenshots.py``.

The browse pane shows the real soundtrack corpus (``bench/fetch_corpus.sh``) with the tags an
import stores (``core.audio.tags.read_tags``) and real durations. The soundtracks carry no cover
art, so each soundtrack folder gets a generated cover: the script links the files into a scratch
folder next to a ``cover.png`` (the corpus itself is not touched) and the covers load through
``player.covers`` like any folder image.

Usage: python docs/component_screenshots.py
"""

from __future__ import annotations

import colorsys
import os
import sys
import tempfile
import zlib
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mutagen
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QApplication, QWidget

from bench.corpus import ensure_corpus, tracks
from core.audio.decode import probe
from core.audio.tags import read_tags
from core.library.catalog import TrackRow
from player.covers import CoverLoader
from player.resources import style_sheet
from player.widgets.browser import HEADER_COVER, BrowserPane

OUT = Path(__file__).resolve().parent
GAMES = {"hedgewars-data": "Hedgewars", "supertux-data": "SuperTux",
         "supertuxkart-data": "SuperTuxKart", "wesnoth-1.16-music": "Wesnoth",
         "widelands-data": "Widelands"}


def draw_cover(name: str, path: Path, size: int = 600) -> None:
    """A generated cover: a two-hue gradient, soft rings and the soundtrack's name."""
    hue = (zlib.crc32(name.encode()) % 360) / 360
    image = QImage(size, size, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    gradient = QLinearGradient(0, 0, size, size)
    gradient.setColorAt(0, QColor.fromRgbF(*colorsys.hsv_to_rgb(hue, 0.75, 0.85)))
    gradient.setColorAt(1, QColor.fromRgbF(*colorsys.hsv_to_rgb((hue + 0.18) % 1, 0.85, 0.35)))
    painter.fillRect(0, 0, size, size, gradient)
    for i in range(7):
        painter.setPen(QPen(QColor(255, 255, 255, 60 - 7 * i), size * 0.012))
        radius = size * (0.12 + 0.09 * i)
        painter.drawEllipse(QPointF(size * 0.72, size * 0.3), radius, radius)
    painter.setPen(QColor("#ffffff"))
    font = QFont("DejaVu Sans", 1)
    font.setBold(True)
    pixels = int(size * 0.13)
    while True:  # the largest size at which the name fits the width
        font.setPixelSize(pixels)
        painter.setFont(font)
        if painter.fontMetrics().horizontalAdvance(name) <= size * 0.86 or pixels < 20:
            break
        pixels -= 2
    box = QRectF(size * 0.07, size * 0.55, size * 0.86, size * 0.3)
    painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, name)
    font.setPixelSize(int(size * 0.045))
    font.setBold(False)
    painter.setFont(font)
    painter.drawText(QRectF(size * 0.07, size * 0.86, size * 0.86, size * 0.08),
                     Qt.AlignmentFlag.AlignLeft, "ORIGINAL SOUNDTRACK")
    painter.end()
    image.save(str(path))


def link_corpus(dest: Path) -> list[tuple[Path, Path]]:
    """Link the corpus's files into ``dest/<soundtrack>/`` next to a generated ``cover.png`` (the
    corpus is not touched); ``(source, link)`` pairs. Existing links are kept."""
    pairs = []
    for source in tracks(ensure_corpus()):
        folder = dest / source.parent.name
        if not (folder / "cover.png").exists():
            folder.mkdir(parents=True, exist_ok=True)
            draw_cover(GAMES.get(folder.name, folder.name), folder / "cover.png")
        link = folder / source.name
        if not link.is_symlink():
            link.symlink_to(source)
        pairs.append((source, link))
    return pairs


def corpus_rows(scratch: Path) -> tuple[list[TrackRow], dict[str, dict]]:
    """Rows and stored tags of the corpus, linked into ``scratch`` next to generated covers."""
    rows, tags = [], {}
    for source, link in link_corpus(scratch):
        meta = read_tags(source)
        track_id = f"{link.parent.name}/{source.name}"
        rows.append(TrackRow(track_id, str(link), meta.title, meta.artist or "", meta.album or "",
                             meta.genre or "", probe(source).duration_s, None, None, (), 0.0, 0.0))
        tags[track_id] = meta.as_dict() | disc_and_date(source)
    return rows, tags


def disc_and_date(path: Path) -> dict:
    """``discnumber`` and ``date`` tags, which ``read_tags`` does not store yet (see the report of
    issue 10: the browse pane orders by disc and shows the year once the import keeps them)."""
    audio = mutagen.File(path, easy=True)
    tags = audio.tags if audio is not None and audio.tags is not None else {}
    return {key: tags[key][0] for key in ("discnumber", "date") if key in tags}


def settle(app: QApplication, done=lambda: True, seconds: float = 10.0) -> None:
    """Run the event loop until ``done()`` (covers loading) or the time is up."""
    import time

    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    for _ in range(5):
        app.processEvents()


def save(widget: QWidget, name: str) -> None:
    widget.grab().save(str(OUT / name))
    print(f"wrote {OUT / name}")


def albums_shot(app: QApplication, scratch: Path) -> None:
    rows, tags = corpus_rows(scratch / "music")
    covers = CoverLoader(scratch / "covers")
    pane = BrowserPane(covers)
    pane.setObjectName("browser")
    pane.resize(1280, 780)
    pane.show()
    pane.set_rows(rows, tags)
    wesnoth = next(e for e in pane.entries.entries if e.name.startswith("The Battle for Wesnoth"))
    pane.open_entry("albums", wesnoth.key)
    first_tracks = {rows_[0] for rows_ in (e.rows for e in pane.entries.entries)}
    size = pane.list.iconSize().width()
    settle(app, lambda: all(covers.is_known(rows[i].path, size) for i in first_tracks)
           and covers.is_known(pane.tracks.tracks[0].path, HEADER_COVER))
    save(pane, "albums.png")
    covers.close()


def main() -> int:
    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(style_sheet())
    with tempfile.TemporaryDirectory(prefix="encore-shots-") as scratch:
        albums_shot(app, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
