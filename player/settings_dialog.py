"""Settings: output device (with a test tone), ReplayGain, radio variety, library folders, theme
and notifications. The dialog edits a copy of ``Settings``; *OK* hands it back with ``applied``.
Library folders change in the database at once (they are shared with ``encore rescan``)."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.errors import EncoreError, PlaybackError
from core.events import CAP_SPAN
from core.library import folders
from player.settings import REPLAYGAIN_MODES, THEMES, Settings

TONE_HZ, TONE_S = 440.0, 1.0
SPIN_WIDTH = 130
log = logging.getLogger("encore.player.settings")


def output_devices() -> list[str]:
    """Names of PortAudio's output devices (empty when PortAudio is missing or finds none)."""
    try:
        import sounddevice as sd

        return [d["name"] for d in sd.query_devices() if d["max_output_channels"] > 0]
    except (OSError, ImportError) as exc:
        log.info("no output devices: %s", exc)
        return []


def play_test_tone(device: str | None) -> None:
    """Play 1 s of a 440 Hz sine (−12 dBFS, faded in and out) on ``device`` without blocking.

    Raises
    ------
    PlaybackError
        When PortAudio is missing or the device cannot be opened (the dialog shows the message).
    """
    try:
        import sounddevice as sd
    except (OSError, ImportError) as exc:
        raise PlaybackError(f"PortAudio is not available: {exc}") from exc
    try:
        rate = int(sd.query_devices(device, "output")["default_samplerate"])
        t = np.arange(int(rate * TONE_S)) / rate
        fade = np.minimum(1.0, np.minimum(t, TONE_S - t) / 0.02)  # no clicks at either end
        tone = (0.25 * np.sin(2 * np.pi * TONE_HZ * t) * fade).astype(np.float32)
        sd.play(np.column_stack([tone, tone]), rate, device=device)
    except (sd.PortAudioError, ValueError) as exc:
        raise PlaybackError(f"audio device {device or 'default'}: {exc}") from exc


class SettingsDialog(QDialog):
    """The settings window.

    Parameters
    ----------
    settings : Settings
        Current settings (not modified; ``applied`` carries the new ones).
    store : MongoStore, optional
        For the library folders (without it that section is disabled).

    Signals
    -------
    applied(Settings)
        *OK* was pressed.
    foldersChanged()
        A library folder was added, removed, or its watching turned on or off.
    """

    applied = Signal(object)
    foldersChanged = Signal()

    def __init__(self, settings: Settings, store=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Encore settings"))
        self.setAccessibleName(self.tr("Settings"))
        self.store, self._initial = store, settings
        layout = QVBoxLayout(self)
        layout.addWidget(self._playback_box(settings))
        layout.addWidget(self._radio_box(settings))
        layout.addWidget(self._folders_box())
        layout.addWidget(self._look_box(settings))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.refresh_folders()

    # -- sections ------------------------------------------------------------------------------
    def _named(self, widget: QWidget, name: str, tip: str = "") -> QWidget:
        widget.setAccessibleName(name)
        if tip:
            widget.setToolTip(tip)
        return widget

    def _playback_box(self, s: Settings) -> QGroupBox:
        box = QGroupBox(self.tr("Playback"))
        form = QFormLayout(box)
        self.device = self._named(QComboBox(), self.tr("Output device"))
        self.device.addItem(self.tr("System default"), None)
        for name in output_devices():
            self.device.addItem(name, name)
        if s.output_device and self.device.findData(s.output_device) < 0:
            self.device.addItem(self.tr("{0} (not connected)").format(s.output_device), s.output_device)
        self.device.setCurrentIndex(max(0, self.device.findData(s.output_device)))
        self.tone_button = self._named(QPushButton(self.tr("Test tone")), self.tr("Play a test tone"),
                                       self.tr("Plays one second of 440 Hz on the chosen device"))
        self.tone_button.clicked.connect(self.test_tone)
        self.tone_status = QLabel(objectName="settingsHint", wordWrap=True, visible=False)
        row = QHBoxLayout()
        row.addWidget(self.device, 1)
        row.addWidget(self.tone_button)
        form.addRow(self.tr("Output device"), row)
        form.addRow("", self.tone_status)
        self.replaygain = self._named(QComboBox(), self.tr("ReplayGain mode"),
                                      self.tr("Evens out loudness between tracks or albums"))
        for mode, text in zip(REPLAYGAIN_MODES, (self.tr("Track"), self.tr("Album"), self.tr("Off")),
                              strict=True):
            self.replaygain.addItem(text, mode)
        self.replaygain.setCurrentIndex(REPLAYGAIN_MODES.index(s.replaygain))
        self.preamp = self._named(QDoubleSpinBox(minimum=-15, maximum=15, singleStep=0.5, decimals=1,
                                                 suffix=" dB", value=s.preamp_db,
                                                 maximumWidth=SPIN_WIDTH),
                                  self.tr("ReplayGain preamp"),
                                  self.tr("Added to every gain; the true peak still limits it"))
        form.addRow(self.tr("ReplayGain"), self.replaygain)
        form.addRow(self.tr("Preamp"), self.preamp)
        return box

    def _radio_box(self, s: Settings) -> QGroupBox:
        box = QGroupBox(self.tr("Radio variety (in every five picks)"))
        form = QFormLayout(box)
        self.per_artist = self._cap(s.radio_max_per_artist, self.tr("Most tracks by one artist"))
        self.per_album = self._cap(s.radio_max_per_album, self.tr("Most tracks from one album"))
        form.addRow(self.tr("Per artist"), self.per_artist)
        form.addRow(self.tr("Per album"), self.per_album)
        return box

    def _cap(self, value: int, name: str) -> QSpinBox:
        spin = QSpinBox(minimum=0, maximum=CAP_SPAN, value=value,
                        specialValueText=self.tr("no limit"), maximumWidth=SPIN_WIDTH)
        return self._named(spin, name, self.tr("The radio plays at most 2 by default: fewer "
                                               "mixes more, more stays closer to what you "
                                               "started it from"))

    def _folders_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Library folders (checked: followed while Encore runs)"))
        column = QVBoxLayout(box)
        self.folders = self._named(QListWidget(objectName="libraryFolders", maximumHeight=140),
                                   self.tr("Library folders"))
        self.folders.itemChanged.connect(self._watch_changed)
        self.add_button = self._named(QPushButton(self.tr("Add folder…")), self.tr("Add a library folder"))
        self.remove_button = self._named(QPushButton(self.tr("Remove")),
                                         self.tr("Forget the selected folder"),
                                         self.tr("Its tracks stay in the library"))
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self.remove_selected_folder)
        self.folder_status = QLabel(objectName="settingsHint", wordWrap=True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        column.addWidget(self.folders)
        column.addLayout(buttons)
        column.addWidget(self.folder_status)
        box.setEnabled(self.store is not None)
        return box

    def _look_box(self, s: Settings) -> QGroupBox:
        box = QGroupBox(self.tr("Appearance"))
        form = QFormLayout(box)
        self.theme = self._named(QComboBox(), self.tr("Theme"))
        for theme, text in zip(THEMES, (self.tr("Dark"), self.tr("Light"), self.tr("Follow the system")),
                               strict=True):
            self.theme.addItem(text, theme)
        self.theme.setCurrentIndex(THEMES.index(s.theme))
        self.notifications = self._named(QCheckBox(self.tr("Notify when the track changes"),
                                                   checked=s.notifications),
                                         self.tr("Notifications on track change"))
        form.addRow(self.tr("Theme"), self.theme)
        form.addRow("", self.notifications)
        return box

    # -- values --------------------------------------------------------------------------------
    def values(self) -> Settings:
        """The settings as the dialog shows them."""
        return replace(self._initial, output_device=self.device.currentData(),
                       replaygain=self.replaygain.currentData(), preamp_db=self.preamp.value(),
                       radio_max_per_artist=self.per_artist.value(),
                       radio_max_per_album=self.per_album.value(), theme=self.theme.currentData(),
                       notifications=self.notifications.isChecked())

    def accept(self) -> None:
        self.applied.emit(self.values())
        super().accept()

    def test_tone(self) -> bool:
        """Play the test tone on the chosen device; say what happened."""
        try:
            play_test_tone(self.device.currentData())
        except PlaybackError as exc:
            self._tone_said(self.tr("Cannot play on this device: {0}").format(exc))
            return False
        self._tone_said(self.tr("Playing a 440 Hz tone for one second…"))
        return True

    def _tone_said(self, text: str) -> None:
        self.tone_status.setText(text)
        self.tone_status.setVisible(True)

    # -- library folders -----------------------------------------------------------------------
    def refresh_folders(self) -> None:
        """List the remembered folders (checked: watched)."""
        if self.store is None:
            return
        try:
            remembered = folders.list_folders(self.store)
        except EncoreError as exc:
            self.folder_status.setText(str(exc))
            return
        self.folders.blockSignals(True)
        self.folders.clear()
        for folder in remembered:
            item = QListWidgetItem(folder.path)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if folder.watch else Qt.CheckState.Unchecked)
            self.folders.addItem(item)
        self.folders.blockSignals(False)
        self.remove_button.setEnabled(bool(remembered))

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Add a library folder"))
        if path:
            self.add_folder(path)

    def add_folder(self, path: str) -> bool:
        """Remember ``path`` (watched); the next rescan or watcher imports it."""
        return self._change(lambda: folders.add_folder(self.store, path, watch=True))

    def remove_selected_folder(self) -> bool:
        """Forget the selected folder (its tracks stay)."""
        item = self.folders.currentItem()
        return item is not None and self._change(lambda: folders.remove_folder(self.store, item.text()))

    def _watch_changed(self, item: QListWidgetItem) -> None:
        watch = item.checkState() == Qt.CheckState.Checked
        self._change(lambda: folders.set_watch(self.store, item.text(), watch))

    def _change(self, action) -> bool:
        try:
            action()
        except (EncoreError, OSError) as exc:
            self.folder_status.setText(str(exc))
            self.refresh_folders()
            return False
        self.folder_status.setText("")
        self.refresh_folders()
        self.foldersChanged.emit()
        return True
