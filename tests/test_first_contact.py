"""What a new user meets first: a lasting "no sound device" state that a working device clears,
``encore --help`` naming the player's own options, and the library in album order before any
column is chosen."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt

from core.library.catalog import RowTags, TrackRow
from player.models.library import LibraryModel
from player.settings import Settings, save_settings
from tests import test_player_desktop as desktop_tests

# The desktop tests' fixtures: one tagged album with a cover, and a shown window over it.
album_folder, album_store, open_window = (desktop_tests.album_folder, desktop_tests.album_store,
                                        desktop_tests.open_window)
ROOT = Path(__file__).resolve().parents[1]
MISSING = "Encore test device that does not exist"


def test_without_a_working_device_the_window_says_it_plays_silently_until_one_works(
        open_window, album_store, tmp_path, qtbot, capture):
    save_settings(Settings(output_device=MISSING), tmp_path / "data" / "settings.json")
    window = open_window(album_store, playback=None)  # the settings choose the (missing) device
    warning = window.transport.device_warning
    qtbot.waitUntil(warning.isVisible, timeout=5000)
    assert warning.text() == "No sound device — playing silently"
    assert "Settings" in warning.toolTip() and MISSING in warning.toolTip()
    window.play_row(window.library.track(0))
    qtbot.waitUntil(lambda: window.bridge.status.position_s > 0.3, timeout=10000)
    assert warning.isVisible()  # it plays, silently, and still says so
    window.bridge.engine.stop()
    qtbot.waitUntil(lambda: window.bridge.status.state == "stopped", timeout=5000)
    assert warning.isVisible()  # the state lasts while it is true
    desktop = window.desktop
    desktop.apply(replace(desktop.preferences, output_device=None))  # the default: a capture file
    assert not warning.isVisible()
    window.play_row(window.library.track(0))
    qtbot.waitUntil(lambda: capture.exists() and capture.stat().st_size > 0, timeout=10000)
    assert not warning.isVisible()


def test_a_listed_device_that_refuses_to_open_is_shown_as_silent_until_it_opens(
        open_window, album_store, tmp_path, qtbot, held_device):
    """A device another program holds is listed (the settings find it) but will not open: the
    engine plays into its null output, and the window must say so, not sound nothing silently."""
    name, release = held_device
    save_settings(Settings(output_device=name), tmp_path / "data" / "settings.json")
    window = open_window(album_store, playback=None)  # the settings choose the held device
    warning = window.transport.device_warning
    assert not warning.isVisible()  # it is listed: nothing to say before it is opened
    window.play_row(window.library.track(0))
    qtbot.waitUntil(warning.isVisible, timeout=10000)
    assert window.bridge.engine.silent_reason in warning.toolTip()
    window.bridge.engine.stop()
    qtbot.waitUntil(lambda: not window.bridge.engine.output_open, timeout=5000)  # idle: closed
    release()
    window.play_row(window.library.track(0))  # the other program let go: it opens now
    qtbot.waitUntil(lambda: not warning.isVisible(), timeout=10000)
    assert window.bridge.engine.silent_reason == ""


def test_help_names_the_players_options_and_the_subcommands_in_plain_text():
    encore = Path(sys.executable).with_name("encore")  # the installed console script
    out = subprocess.run([str(encore), "--help"], capture_output=True, text=True, timeout=60,
                         cwd=ROOT, check=True).stdout
    for word in ("--no-worker", "--smoke-test FILE", "import", "rescan", "worker"):
        assert word in out, word
    assert "`" not in out and "**" not in out  # no raw markup
    # Help works without a screen: it must not load Qt.
    probe = "import sys; from player.launch import main; main(['--help']); print('PySide6' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, check=True).stdout.split()[-1]
    assert loaded == "False"


def _row(n: int, artist: str, album: str, disc: int | None, track: int | None, *,
         albumartist: str | None = None) -> TrackRow:
    tags = RowTags(tracknumber=track, discnumber=disc, albumartist=albumartist)
    return TrackRow(f"t{n}", f"/m/{n}.flac", f"Song {n}", artist, album, "", 60.0, None, None, (),
                    0.0, 1.0, tags)


def test_the_library_lists_artist_album_disc_and_track_before_a_column_is_chosen(qapp):
    rows = [_row(0, "Zed", "Alpha", 1, 2), _row(1, "", "Loose", None, None),
            _row(2, "Abba", "Gold", 2, 1), _row(3, "abba", "Arrival", 1, 10),
            _row(4, "Abba", "Gold", 1, 3), _row(5, "Abba", "Arrival", 1, 9),
            _row(6, "Various", "Hits", 1, 1, albumartist="Compilers"), _row(7, "Zed", "Alpha", 1, 1)]
    model = LibraryModel()
    model.append(rows[:4])  # in two batches, as the loader delivers them
    model.append(rows[4:])
    expected = ["t5", "t3", "t4", "t2", "t6", "t7", "t0", "t1"]
    assert [r.id for r in model.visible_tracks()] == expected
    model.sort(1, Qt.SortOrder.AscendingOrder)  # by title, then back to no column
    model.sort(-1)
    assert [r.id for r in model.visible_tracks()] == expected
