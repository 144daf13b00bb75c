"""The transport bar: now playing (with cover art and heart), buttons, shuffle, repeat and radio
switches, seek slider, times, volume."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from core.playback.playorder import REPEAT_MODES
from core.playback.source import PlayItem
from player.models.library import format_time
from player.resources import icon

COVER = 64
REPEAT_TIPS = {"off": QT_TRANSLATE_NOOP("TransportBar", "Repeat: off"),
               "all": QT_TRANSLATE_NOOP("TransportBar", "Repeat: the whole list"),
               "one": QT_TRANSLATE_NOOP("TransportBar", "Repeat: this track")}
#: The transport bar is dark in both themes; the warning uses the sidebar warning's colours.
WARNING_STYLE = "color: #fbbf24; background: #2a2417; border-radius: 6px; padding: 2px 8px;"


class TransportBar(QWidget):
    """Controls; emits requests, shows what the bridge reports.

    Signals
    -------
    seekRequested(float)
        Seconds, when the user releases the slider.
    volumeChanged(float)
        0..1.
    shuffleToggled(bool), radioToggled(bool), likeToggled(bool)
        The switches and the heart, as the listener set them.
    repeatChanged(str)
        One of ``REPEAT_MODES`` (the button cycles through them).
    moreLikeClicked()
        *More like this* for the playing track.
    """

    playPauseClicked = Signal()
    previousClicked = Signal()
    nextClicked = Signal()
    seekRequested = Signal(float)
    volumeChanged = Signal(float)
    shuffleToggled = Signal(bool)
    repeatChanged = Signal(str)
    radioToggled = Signal(bool)
    likeToggled = Signal(bool)
    moreLikeClicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("transport")
        self.cover = QLabel(objectName="cover", alignment=Qt.AlignmentFlag.AlignCenter)
        self.cover.setFixedSize(COVER, COVER)
        self.cover.setAccessibleName(self.tr("Cover of the playing track"))
        self.title = QLabel(self.tr("Nothing playing"), objectName="nowTitle")
        self.details = QLabel("", objectName="nowDetails")
        self.device_warning = QLabel(self.tr("No sound device — playing silently"),
                                     objectName="deviceWarning", styleSheet=WARNING_STYLE)
        self.device_warning.hide()
        self.prev_button = self._button("previous", self.tr("Previous"), self.previousClicked.emit)
        self.play_button = self._button("play", self.tr("Play (Space)"), self.playPauseClicked.emit,
                                        big=True)
        self.next_button = self._button("next", self.tr("Next"), self.nextClicked.emit)
        self.shuffle_button = self._switch("shuffle", self.tr("Shuffle the list"), self.shuffleToggled)
        self.repeat_button = self._button("repeat", self.tr(REPEAT_TIPS["off"]), self.cycle_repeat)
        self.repeat_button.setCheckable(True)
        self.repeat = "off"
        self.radio_button = self._switch("radio", self.tr("Radio: when nothing you chose is left, "
                                                          "keep playing tracks like these"),
                                         self.radioToggled)
        self.radio_button.setText(self.tr("Radio"))
        self.radio_button.setAccessibleName(self.tr("Radio"))
        self.radio_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.like_button = self._switch("heart", self.tr("Like"), self.likeToggled)
        self.more_button = self._button("spark", self.tr("More like this"), self.moreLikeClicked.emit)
        self.elapsed = QLabel("0:00", objectName="time")
        self.elapsed.setAccessibleName(self.tr("Elapsed"))
        self.remaining = QLabel("-0:00", objectName="time")
        self.remaining.setAccessibleName(self.tr("Remaining"))
        self.seek = QSlider(Qt.Orientation.Horizontal, objectName="seek")
        self.seek.setAccessibleName(self.tr("Position in the track"))
        self.seek.setRange(0, 0)
        self.seek.sliderReleased.connect(lambda: self.seekRequested.emit(self.seek.value() / 10))
        self.volume = QSlider(Qt.Orientation.Horizontal, objectName="volume")
        self.volume.setAccessibleName(self.tr("Volume"))
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(110)
        self.volume.valueChanged.connect(lambda v: self.volumeChanged.emit(v / 100))
        self._layout()
        self.show_item(None)

    @staticmethod
    def _name(button: QToolButton, tip: str) -> None:
        """Tooltip and accessible name (the tip without its shortcut: the button has no text)."""
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])

    def _button(self, name: str, tip: str, slot: Callable[[], None], *, big: bool = False) -> QToolButton:
        button = QToolButton(self, autoRaise=True)
        self._name(button, tip)
        button.setIcon(icon(name))
        button.setIconSize(QSize(36, 36) if big else QSize(22, 22))
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _switch(self, name: str, tip: str, signal: SignalInstance) -> QToolButton:
        button = QToolButton(self, autoRaise=True, checkable=True)
        self._name(button, tip)
        button.setIcon(icon(name))
        button.setIconSize(QSize(20, 20))
        button.toggled.connect(signal.emit)
        return button

    def cycle_repeat(self) -> None:
        """Off → all → one → off."""
        self.set_repeat(REPEAT_MODES[(REPEAT_MODES.index(self.repeat) + 1) % len(REPEAT_MODES)])
        self.repeatChanged.emit(self.repeat)

    def set_repeat(self, mode: str) -> None:
        """Show a repeat mode (without emitting)."""
        self.repeat = mode
        self.repeat_button.setChecked(mode != "off")
        self.repeat_button.setIcon(icon("repeat-one" if mode == "one" else "repeat"))
        self._name(self.repeat_button, self.tr(REPEAT_TIPS[mode]))

    def show_liked(self, liked: bool) -> None:
        """The heart of the playing track (without emitting)."""
        self.like_button.blockSignals(True)
        self.like_button.setChecked(liked)
        self.like_button.blockSignals(False)
        self.like_button.setIcon(icon("heart-filled" if liked else "heart"))
        self._name(self.like_button, self.tr("Unlike") if liked else self.tr("Like"))

    def _layout(self) -> None:
        text = QVBoxLayout()
        text.addStretch()
        title_row = QHBoxLayout()
        title_row.addWidget(self.title, 1)
        title_row.addWidget(self.like_button)
        title_row.addWidget(self.more_button)
        text.addLayout(title_row)
        text.addWidget(self.details)
        text.addWidget(self.device_warning, 0, Qt.AlignmentFlag.AlignLeft)
        text.addStretch()
        seek_row = QHBoxLayout()
        seek_row.addWidget(self.elapsed)
        seek_row.addWidget(self.seek, 1)
        seek_row.addWidget(self.remaining)
        buttons = QHBoxLayout()
        buttons.addStretch()
        for button in (self.shuffle_button, self.prev_button, self.play_button, self.next_button,
                       self.repeat_button):
            buttons.addWidget(button)
        buttons.addStretch()
        middle = QVBoxLayout()
        middle.addLayout(buttons)
        middle.addLayout(seek_row)
        volume_icon = QLabel()
        volume_icon.setPixmap(icon("volume").pixmap(18, 18))
        row = QHBoxLayout(self)
        row.addWidget(self.cover)
        row.addLayout(text, 2)
        row.addLayout(middle, 3)
        row.addWidget(self.radio_button)
        row.addSpacing(8)
        row.addWidget(volume_icon)
        row.addWidget(self.volume)

    def show_item(self, item: PlayItem | None, cover: bytes | None = None) -> None:
        """Now playing (``None``: nothing)."""
        self.title.setText(item.title if item else self.tr("Nothing playing"))
        self.like_button.setEnabled(item is not None)
        self.more_button.setEnabled(item is not None)
        parts = [item.artist, item.album] if item else []
        self.details.setText(" — ".join(p for p in parts if p))
        pixmap = QPixmap()
        if not (cover and pixmap.loadFromData(cover)):
            pixmap = icon("cover").pixmap(COVER, COVER)
        self.cover.setPixmap(pixmap.scaled(COVER, COVER, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation))
        if item is None:
            self.show_position(0.0, 0.0)

    def show_position(self, position_s: float, duration_s: float) -> None:
        """Slider and times (left alone while the user drags)."""
        if self.seek.isSliderDown():
            return
        self.seek.setRange(0, int(duration_s * 10))
        self.seek.setValue(int(position_s * 10))
        self.elapsed.setText(format_time(position_s))
        self.remaining.setText("-" + format_time(max(0.0, duration_s - position_s)))

    def show_state(self, state: str) -> None:
        """Play or pause icon."""
        playing = state in ("playing", "buffering")
        self.play_button.setIcon(icon("pause" if playing else "play"))
        self._name(self.play_button, self.tr("Pause (Space)") if playing else self.tr("Play (Space)"))

    def show_device_problem(self, problem: str) -> None:
        """Warn, for as long as it lasts, that no sound device works and playback is silent
        (``problem``: why, for the tooltip; empty: a device works again)."""
        self.device_warning.setVisible(bool(problem))
        self.device_warning.setToolTip(self.tr(
            "Encore cannot open a sound device, so tracks play silently.\n"
            "Choose an output device in File → Settings… → Output device.\n\nDetails: {}")
            .format(problem))
