"""Browsing by artist, album, genre and folder: grouping, album track order, the pane and covers."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from core.library.catalog import TrackRow
from player.covers import CoverLoader
from player.models.browse import BrowseIndex, album_summary, leading_number, position
from player.widgets.browser import HEADER_COVER, BrowserPane
from tests.audio import sine, write


def row(path: str, title: str = "", artist: str = "A", album: str = "Album", genre: str = "",
        seconds: float = 60.0, track_id: str | None = None) -> TrackRow:
    return TrackRow(track_id or path, path, title or Path(path).stem, artist, album, genre, seconds,
                    None, None, (), 0.0, 0.0)


@pytest.mark.parametrize(("name", "number"), [
    ("/m/03 - Intro.ogg", 3), ("/m/3-intro.ogg", 3), ("/m/12.ogg", 12), ("/m/07_battle.flac", 7),
    ("/m/kart_grand_prix.ogg", None), ("/m/2nd_theme.ogg", None), ("/m/1999.ogg", None)])
def test_leading_number_of_a_file_name(name, number):
    assert leading_number(name) == number


def test_tags_win_over_the_file_name_and_discs_come_first():
    assert position(row("/m/09 x.ogg"), {"tracknumber": 2, "discnumber": "2/2"}) == (2, 2)
    assert position(row("/m/09 x.ogg"), {}) == (1, 9)
    assert position(row("/m/x.ogg"), {"tracknumber": None})[1] > 1000  # unnumbered go last


def test_album_tracks_in_disc_and_track_order():
    rows = [row("/a/d2t1.ogg", "Disc two opener", track_id="d2t1"),
            row("/a/d1t10.ogg", "Ten", track_id="d1t10"),
            row("/a/d1t2.ogg", "Two", track_id="d1t2"),
            row("/a/untagged.ogg", "Bonus", track_id="bonus"),
            row("/a/d1t1.ogg", "One", track_id="d1t1")]
    tags = {"d2t1": {"tracknumber": 1, "discnumber": 2, "year": "2004"},
            "d1t10": {"tracknumber": 10, "discnumber": 1}, "d1t2": {"tracknumber": 2},
            "d1t1": {"tracknumber": 1, "date": "2003-05-01"}}
    index = BrowseIndex(rows, tags)
    [album] = index.entries("albums")
    assert [t.title for t in index.tracks(album)] == ["One", "Two", "Ten", "Bonus", "Disc two opener"]
    details = index.details(album)
    assert details.year == "2003" and details.duration_s == 300.0
    assert album_summary(album, details) == "2003 · 5 tracks · 5 min"


def test_untagged_numbers_from_file_names():
    rows = [row("/s/10_finale.ogg"), row("/s/02_town.ogg"), row("/s/1 intro.ogg")]
    index = BrowseIndex(rows)
    assert [t.path for t in index.tracks(index.entries("albums")[0])] == [
        "/s/1 intro.ogg", "/s/02_town.ogg", "/s/10_finale.ogg"]


def test_albums_grouped_by_name_and_folder():
    rows = [row("/g1/music/a.ogg", album="music"), row("/g2/music/b.ogg", album="music"),
            row("/live/CD1/x.ogg", artist="P", album="Live", track_id="x"),
            row("/live/cd 2/y.ogg", artist="Q", album="Live", track_id="y"),
            row("/live/cd 2/z.ogg", artist="Q", album="Live", track_id="z")]
    index = BrowseIndex(rows, {"y": {"albumartist": "Band"}})  # one track says who: all are
    albums = index.entries("albums")
    assert [(a.name, len(a.rows)) for a in albums] == [("Live", 3), ("music", 1), ("music", 1)]
    assert index.details(albums[0]).artist == "Band"
    various = BrowseIndex([row("/c/1.ogg", artist="P"), row("/c/2.ogg", artist="Q")])
    assert various.details(various.entries("albums")[0]).artist == "Various artists"


def test_artists_genres_and_folders():
    rows = [row("/x/a/1.ogg", artist="Zed", genre="Rock"), row("/x/b/2.ogg", artist="abba"),
            row("/x/b/3.ogg", artist="Zed", genre="rock")]
    index = BrowseIndex(rows)
    assert [(e.name, index.details(e).detail) for e in index.entries("artists")] == [
        ("abba", "1 track"), ("Zed", "2 tracks")]
    assert [e.name for e in index.entries("genres")] == ["No genre", "Rock", "rock"]
    assert [(e.name, index.details(e).detail) for e in index.entries("folders")] == [
        ("a", "/x/a"), ("b", "/x/b")]
    index.add([row("/x/c/4.ogg", artist="abba")])
    assert [len(e.rows) for e in index.entries("artists")] == [2, 2]
    with pytest.raises(ValueError, match="category"):
        index.entries("moods")


def test_pane_opens_an_album_and_plays_it_in_order(qtbot):
    pane = BrowserPane()
    qtbot.addWidget(pane)
    rows = [row("/a/02 b.ogg", "Bee", album="Alpha"), row("/a/01 a.ogg", "Ay", album="Alpha"),
            row("/b/1.ogg", "Solo", album="Beta", artist="B")]
    pane.set_rows(rows)
    assert pane.category == "albums" and pane.entry.name == "Alpha"
    assert pane.header.title.text() == "Alpha" and "2 tracks" in pane.header.summary.text()
    assert [t.title for t in pane.tracks.tracks] == ["Ay", "Bee"]
    assert pane.tracks.index(0, 0).data() == "1"
    with qtbot.waitSignal(pane.playRequested) as played:
        pane.table.activated.emit(pane.tracks.index(1, 1))
    assert [t.title for t in played.args[0]] == ["Ay", "Bee"] and played.args[1] == 1
    assert pane.open_entry("albums", pane.entries.entries[1].key)
    assert pane.header.title.text() == "Beta"
    pane.show_category("artists")
    assert [e.name for e in pane.entries.entries] == ["A", "B"]
    assert pane.table.isColumnHidden(2)  # one artist: no artist column


def test_pane_collects_loader_batches_and_keeps_the_open_entry(qtbot):
    pane = BrowserPane()
    qtbot.addWidget(pane)
    pane.append([row("/a/1.ogg", album="Alpha")])
    pane.append([row("/b/1.ogg", album="Beta")])
    qtbot.waitUntil(lambda: len(pane.entries.entries) == 2, timeout=5000)
    pane.open_entry("albums", pane.entries.entries[1].key)
    pane.append([row("/a/2.ogg", album="Alpha")])
    qtbot.waitUntil(lambda: len(pane.entries.entries[0].rows) == 2, timeout=5000)
    assert pane.entry.name == "Beta"


def test_covers_load_off_the_ui_thread_into_the_album_header(qtbot, tmp_path):
    album = tmp_path / "album"
    album.mkdir()
    track = write(album / "01 one.wav", sine(seconds=0.2), 48000)
    image = QImage(400, 400, QImage.Format.Format_RGB32)
    image.fill(QColor("#c0392b"))
    assert image.save(str(album / "cover.png"))
    covers = CoverLoader(tmp_path / "cache")
    pane = BrowserPane(covers)
    qtbot.addWidget(pane)
    with qtbot.waitSignal(covers.ready, timeout=10_000):
        pane.set_rows([row(str(track), album="Album")])
    qtbot.waitUntil(lambda: covers.is_known(str(track), HEADER_COVER), timeout=10_000)
    thumb = covers.thumbnail(str(track), HEADER_COVER)
    assert thumb is not None and thumb.width() == HEADER_COVER
    qtbot.waitUntil(lambda: pane.header.cover.pixmap().toImage().pixelColor(60, 60).name() == "#c0392b",
                    timeout=10_000)
    assert list((tmp_path / "cache").iterdir())  # the original cached on disk for next time
    missing = write(tmp_path / "bare.wav", sine(seconds=0.2), 48000)
    with qtbot.waitSignal(covers.ready, timeout=10_000):
        assert covers.thumbnail(str(missing), 64) is None
    assert covers.is_known(str(missing), 64) and covers.thumbnail(str(missing), 64) is None
    covers.close()


def test_albums_as_a_cover_grid_or_a_list(qtbot):
    from PySide6.QtWidgets import QListView

    pane = BrowserPane()
    qtbot.addWidget(pane)
    pane.set_rows([row("/a/1.ogg", album="Alpha")])
    assert pane.list.viewMode() == QListView.ViewMode.IconMode
    pane.grid_button.setChecked(False)
    assert pane.list.viewMode() == QListView.ViewMode.ListMode
    pane.grid_button.setChecked(True)
    pane.show_category("genres")
    assert pane.list.viewMode() == QListView.ViewMode.ListMode and pane.grid_button.isHidden()
