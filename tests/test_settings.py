"""Settings in $ENCORE_DATA_DIR (round trip, damaged files) and the settings dialog."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDialogButtonBox,
    QListWidget,
)

from core.library import folders
from player.settings import Settings, load_settings, save_settings, settings_path, window_state
from player.settings_dialog import TONE_HZ, SettingsDialog
from tests.audio import played_frames


def test_round_trip_in_the_data_dir(stack_config):
    path = settings_path(stack_config)
    assert path.parent == stack_config.data_dir
    wanted = Settings(output_device="USB DAC", replaygain="album", preamp_db=-3.5, theme="light",
                      notifications=True, radio_max_per_artist=0)
    save_settings(wanted, path)
    assert load_settings(path) == wanted
    assert [p.name for p in path.parent.glob(".settings-*")] == []  # no temporary left


def test_window_state_lives_in_the_data_dir(stack_config):
    state = window_state(stack_config)
    state.setValue("playback/volume", 42)
    state.sync()
    assert (stack_config.data_dir / "window.ini").exists()
    assert int(window_state(stack_config).value("playback/volume")) == 42


def test_missing_file_gives_the_defaults(tmp_path):
    assert load_settings(tmp_path / "none.json") == Settings()


def test_damaged_file_is_kept_aside(tmp_path, caplog):
    path = tmp_path / "settings.json"
    path.write_text('{"theme": "light",')  # cut short
    assert load_settings(path) == Settings()
    assert (tmp_path / "settings.json.bad").read_text() == '{"theme": "light",'
    assert "unreadable" in caplog.text


def test_bad_values_fall_back_one_by_one(tmp_path, caplog):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"radio_max_per_artist": "two", "replaygain": "max", "preamp_db": 2,
                                "theme": "light", "output_device": 3, "notifications": "yes",
                                "radio_max_per_album": True, "future_option": 1}))
    loaded = load_settings(path)
    assert loaded == Settings(preamp_db=2.0, theme="light")
    for name in ("radio_max_per_artist", "replaygain", "output_device", "notifications",
                 "radio_max_per_album"):
        assert name in caplog.text


def test_dialog_edits_a_copy_and_applies_it(qtbot):
    start = Settings(output_device="Gone DAC")
    dialog = SettingsDialog(start)
    qtbot.addWidget(dialog)
    dialog.replaygain.setCurrentIndex(dialog.replaygain.findData("off"))
    dialog.preamp.setValue(4.5)
    dialog.per_artist.setValue(0)
    dialog.per_album.setValue(1)
    dialog.theme.setCurrentIndex(dialog.theme.findData("system"))
    dialog.notifications.setChecked(True)
    with qtbot.waitSignal(dialog.applied) as applied:
        dialog.accept()
    assert applied.args[0] == Settings(replaygain="off", preamp_db=4.5, radio_max_per_artist=0,
                                       radio_max_per_album=1, theme="system", notifications=True,
                                       output_device="Gone DAC")
    assert start == Settings(output_device="Gone DAC")
    assert dialog.per_artist.text() == "no limit" or dialog.per_artist.value() == 0


def test_every_control_has_an_accessible_name(qtbot):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    box = dialog.findChild(QDialogButtonBox)
    controls = [w for kind in (QComboBox, QAbstractSpinBox, QAbstractButton, QListWidget)
                for w in dialog.findChildren(kind) if not box.isAncestorOf(w)]
    assert len(controls) >= 10
    assert [w for w in controls if not w.accessibleName()] == []


def test_unknown_device_is_kept_not_dropped(qtbot):
    dialog = SettingsDialog(Settings(output_device="Gone DAC"))
    qtbot.addWidget(dialog)
    assert dialog.device.currentData() == "Gone DAC"
    assert "not connected" in dialog.device.currentText()
    assert dialog.values().output_device == "Gone DAC"


def test_test_tone_plays_440_hz_on_the_device(qtbot, capture):
    import sounddevice as sd

    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    assert dialog.test_tone(), dialog.tone_status.text()
    sd.wait()
    frames = played_frames(capture)
    rate = int(sd.query_devices(None, "output")["default_samplerate"])
    assert len(frames) >= 0.9 * rate
    spectrum = np.abs(np.fft.rfft(frames[:rate, 0]))
    assert np.fft.rfftfreq(rate, 1 / rate)[spectrum.argmax()] == pytest.approx(TONE_HZ, abs=2)


def test_a_device_that_cannot_open_is_reported(qtbot):
    dialog = SettingsDialog(Settings(output_device="No such device 42"))
    qtbot.addWidget(dialog)
    assert not dialog.test_tone()
    assert "Cannot play" in dialog.tone_status.text()


def test_library_folders_add_watch_and_remove(qtbot, store, tmp_path):
    music = tmp_path / "Music"
    music.mkdir()
    dialog = SettingsDialog(Settings(), store)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.foldersChanged):
        assert dialog.add_folder(str(music))
    item = dialog.folders.item(0)
    assert item.text() == str(music) and item.checkState() == Qt.CheckState.Checked
    item.setCheckState(Qt.CheckState.Unchecked)
    assert folders.list_folders(store)[0].watch is False
    assert not dialog.add_folder(str(tmp_path / "missing"))
    assert "not found" in dialog.folder_status.text() and dialog.folders.count() == 1
    dialog.folders.setCurrentRow(0)
    assert dialog.remove_selected_folder()
    assert folders.list_folders(store) == [] and dialog.folders.count() == 0


def test_without_a_store_the_folders_are_disabled(qtbot):
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    assert not dialog.folders.parentWidget().isEnabled()
