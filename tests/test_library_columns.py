"""The library table from real imported files: the tags it shows, the column chooser and its
settings, quality icons only for what a listener hears, guessed names in italics, skip reasons in
plain words; and the sidebar ordered by the scores it shows."""

from __future__ import annotations

from dataclasses import replace

import mutagen
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from core.library.catalog import flagged_tracks, iter_rows, row_from_doc
from core.library.pipeline import KILLED_REASON, run_import
from core.library.skip_reasons import plain_reason
from player.models.library import (
    ALBUM,
    ARTIST,
    COLUMNS,
    DEFAULT_COLUMNS,
    DISC,
    GENRE,
    NUMBER,
    QUALITY,
    TITLE,
    YEAR,
    LibraryModel,
)
from player.widgets.library_view import COLUMNS_KEY, LibraryView
from player.widgets.sidebar import RecommendationSidebar
from tests.audio import music_like, noise, sine, write

SR = 44100


def _tag(path, **values) -> None:
    audio = mutagen.File(path, easy=True)
    audio.update(values)
    audio.save()


def _lowpassed_noise(cutoff_hz: float) -> np.ndarray:
    """White noise with nothing above ``cutoff_hz``: what a lossless file made from an MP3 holds."""
    y = noise(seconds=4.0, sr=SR, rms_dbfs=-20.0)
    spectrum = np.fft.rfft(y, axis=0)
    spectrum[np.fft.rfftfreq(len(y), 1 / SR) > cutoff_hz] = 0
    return np.fft.irfft(spectrum, n=len(y), axis=0).astype(np.float32)


def _inter_sample_peaks() -> np.ndarray:
    """A quarter-rate sine sampled 45° off its crests: samples at 0.98, true peak near +2.9 dBTP."""
    n = np.arange(4 * SR)
    tone = 0.98 / np.sin(np.pi / 4) * np.sin(np.pi / 2 * n + np.pi / 4)
    return np.repeat(tone[:, None], 2, axis=1).astype(np.float32)


@pytest.fixture
def imported(store, tmp_path):
    """A small real library in MongoDB: ``(rows by file name, import report)``."""
    root = tmp_path / "music"
    for name, disc, track in (("b.flac", "2/2", "1"), ("a.flac", "1/2", "5/9")):
        path = write(root / "Album" / name, music_like(0, seed=track.__len__()), SR)
        _tag(path, title=f"Song {name[0]}", artist="Composer", album="Racing", albumartist="Various",
             discnumber=disc, tracknumber=track, date="2004-05-06", genre="Soundtrack")
    write(root / "Snow Level" / "03_kart_grand-prix.ogg", music_like(1, seed=3), SR)
    write(root / "Loud" / "clipped.flac", np.clip(sine(seconds=4.0, sr=SR, peak_dbfs=6.0), -1, 1), SR)
    write(root / "Loud" / "fake lossless.flac", _lowpassed_noise(11000), SR)
    write(root / "Loud" / "overs.wav", _inter_sample_peaks(), SR, subtype="PCM_16")
    bad = root / "Bad"
    bad.mkdir()
    (bad / "text.mp3").write_text("this is not audio, just text renamed to .mp3\n" * 20)
    (bad / "empty.wav").write_bytes(b"")
    full = write(tmp_path / "full.flac", sine(seconds=3.0, sr=SR), SR).read_bytes()
    (bad / "truncated.flac").write_bytes(full[: len(full) // 3])
    report = run_import(str(root), store, jobs=1)
    rows = {row.path.rsplit("/", 1)[-1]: row for batch in iter_rows(store) for row in batch}
    return rows, report


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _model(rows) -> LibraryModel:
    model = LibraryModel()
    model.append(sorted(rows.values(), key=lambda r: r.path))
    return model


def _cell(model: LibraryModel, path_end: str, column: int, role=Qt.ItemDataRole.DisplayRole):
    row = next(r for r in range(model.rowCount()) if model.track(r).path.endswith(path_end))
    return model.data(model.index(row, column), role)


def test_rows_carry_the_stored_tags(imported):
    rows, _ = imported
    tagged, untagged = rows["a.flac"], rows["03_kart_grand-prix.ogg"]
    assert (tagged.tags.tracknumber, tagged.tags.discnumber, tagged.tags.albumartist,
            tagged.tags.date, tagged.tags.year, tagged.tags.guessed) == (5, 1, "Various", "2004-05-06",
                                                                         2004, ())
    assert tagged.tags.get("discnumber") == 1 and tagged.tags.get("year") is None  # a mapping too
    assert (untagged.title, untagged.album, untagged.tags.tracknumber) == ("kart grand prix",
                                                                          "Snow Level", 3)
    assert set(untagged.tags.guessed) == {"title", "album", "tracknumber"}


def test_columns_show_tags_and_sort_by_disc_then_track(qtbot, imported):
    rows, _ = imported
    model = _model(rows)
    assert [_cell(model, "a.flac", c) for c in (NUMBER, YEAR, DISC)] == ["5", "2004", "1"]
    model.sort(NUMBER, Qt.SortOrder.AscendingOrder)
    album = [model.track(r).path.rsplit("/", 1)[-1] for r in range(model.rowCount())
             if model.track(r).album == "Racing"]
    assert album == ["a.flac", "b.flac"]  # disc 1 track 5 before disc 2 track 1
    model.set_filter("soundtrack")  # the genre is searched too
    assert {model.track(r).album for r in range(model.rowCount())} == {"Racing"}


def test_default_columns_and_the_chooser_are_remembered(qtbot, imported, settings, tmp_path):
    view = LibraryView(_model(imported[0]), settings)
    qtbot.addWidget(view)
    assert view.shown_columns() == sorted(DEFAULT_COLUMNS)
    menu = view.column_menu()
    actions = {a.text(): a for a in menu.actions()}
    assert list(actions) == list(COLUMNS)
    assert [a.isChecked() for a in actions.values()] == [c in DEFAULT_COLUMNS for c in range(len(COLUMNS))]
    assert not actions["Title"].isEnabled()
    actions["Year"].trigger()
    actions["Plays"].trigger()
    assert not view.table.isColumnHidden(YEAR) and "Plays" not in settings.value(COLUMNS_KEY)
    settings.sync()
    again = LibraryView(_model(imported[0]),
                        QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert [COLUMNS[c] for c in again.shown_columns()] == ["#", "Title", "Artist", "Album", "Year",
                                                           "Duration", "Liked"]


def test_the_header_context_menu_is_the_column_chooser(qtbot, imported, settings):
    view = LibraryView(_model(imported[0]), settings)
    qtbot.addWidget(view)
    view.show()
    seen = []

    def pick_genre() -> None:  # the menu runs its own event loop: act on it from a timer
        menu = QApplication.activePopupWidget()
        seen.extend(a.text() for a in menu.actions())
        next(a for a in menu.actions() if a.text() == "Genre").trigger()
        menu.close()

    QTimer.singleShot(100, pick_genre)
    view.table.horizontalHeader().customContextMenuRequested.emit(QPoint(20, 10))
    assert seen == list(COLUMNS)
    assert "Genre" in settings.value(COLUMNS_KEY) and not view.table.isColumnHidden(GENRE)


def test_a_single_remembered_column_reads_back_from_an_ini_file(qtbot, imported, settings):
    settings.setValue(COLUMNS_KEY, ["Title"])  # INI files return a one-item list as a string
    view = LibraryView(_model(imported[0]), settings)
    qtbot.addWidget(view)
    assert view.shown_columns() == [TITLE]


def test_quality_icon_only_for_what_a_listener_hears(qtbot, imported):
    rows, _ = imported
    model = _model(rows)
    icon, tip = Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole
    assert "clipping" in rows["clipped.flac"].issues
    assert _cell(model, "clipped.flac", QUALITY, icon) is not None
    assert _cell(model, "clipped.flac", QUALITY, tip).startswith("Clipping:")
    assert "lossy_transcode_suspected" in rows["fake lossless.flac"].issues
    assert _cell(model, "fake lossless.flac", QUALITY, tip).startswith("Suspected fake lossless:")
    # inter-sample peaks over 0 dBTP are measured but are no problem a listener hears
    assert rows["overs.wav"].issues == ("true_peak_over_0dbtp",)
    assert _cell(model, "overs.wav", QUALITY, icon) is None
    assert _cell(model, "overs.wav", QUALITY, tip) == ""
    cut = LibraryModel()
    cut.append([replace(rows["a.flac"], issues=("clipping", "truncated"))])
    assert cut.data(cut.index(0, QUALITY), tip).splitlines()[0].startswith("Damaged file:")


def test_the_import_summary_flags_only_what_a_listener_hears(imported, store):
    rows, _ = imported
    flagged = {path.rsplit("/", 1)[-1]: issues
               for path, issues in flagged_tracks(store, [r.id for r in rows.values()])}
    assert flagged == {"clipped.flac": ["clipping"], "fake lossless.flac": ["lossy_transcode_suspected"]}


def test_guessed_names_are_italic_with_a_tooltip(qtbot, imported):
    rows, _ = imported
    model = _model(rows)
    font, tip = Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ToolTipRole
    guessed = "03_kart_grand-prix.ogg"
    assert all(_cell(model, guessed, c, font).italic() for c in (TITLE, ALBUM, NUMBER))
    assert _cell(model, guessed, TITLE, tip).startswith("Guessed from the file name")
    assert _cell(model, guessed, ALBUM, tip).startswith("Guessed from the folder name")
    assert _cell(model, guessed, ARTIST, font) is None
    assert _cell(model, "a.flac", TITLE, font) is None


def test_skip_reasons_in_plain_words(imported):
    _, report = imported
    plain = {s.path.rsplit("/", 1)[-1]: plain_reason(s.reason) for s in report.skipped}
    assert plain == {"text.mp3": "not an audio file", "empty.wav": "file is empty",
                     "truncated.flac": "file is damaged (cut short)"}
    assert plain_reason("a folder, not an audio file") == "not an audio file"
    assert plain_reason("dangling symbolic link") == "link to a file that no longer exists"
    assert plain_reason(KILLED_REASON).startswith("analysing it failed twice")
    assert plain_reason("TypeError: 'NoneType' is not iterable") == (
        "could not be analysed (an error in Encore)")
    assert plain_reason("a reason nobody wrote a pattern for") == "a reason nobody wrote a pattern for"


def test_sidebar_lists_recommendations_by_their_shown_score(qtbot):
    sidebar = RecommendationSidebar()
    qtbot.addWidget(sidebar)
    # the recommender's artist cap put the 34% track after lower ones
    scores = [0.371, 0.334, 0.322, 0.281, 0.344, 0.3335]
    sidebar.show_recommendations([{"id": f"t{i}", "title": f"T{i}", "score": s}
                                  for i, s in enumerate(scores)], "worker")
    assert [r["id"] for r in sidebar.recommendations()] == ["t0", "t4", "t1", "t5", "t2", "t3"]


def test_album_replaygain_uses_the_albums_gain_when_it_is_known():
    doc = {"_id": "t", "path": "/m/a.ogg", "replaygain": {"track_gain_db": -6.0, "track_peak": 0.5,
                                                          "album_gain_db": -2.0, "album_peak": 0.5}}
    row = row_from_doc(doc)
    assert row.play_item(album=True).gain == pytest.approx(10 ** (-2.0 / 20))
    assert row.play_item().gain == pytest.approx(10 ** (-6.0 / 20))
    no_album = row_from_doc(doc | {"replaygain": {"track_gain_db": -6.0, "track_peak": 0.5}})
    assert no_album.play_item(album=True).gain == pytest.approx(10 ** (-6.0 / 20))
