"""The transport bar: now playing (with cover art), buttons, seek slider, times, volume."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from core.playback.source import PlayItem
from player.models.library import format_time
from player.resources import icon

COVER = 64


class TransportBar(QWidget):
    """Controls; emits requests, shows what the bridge reports.

    Signals
    -------
    seekRequested(float)
        Seconds, when the user releases the slider.
    volumeChanged(float)
        0..1.
    """

    playPauseClicked = Signal()
    previousClicked = Signal()
    nextClicked = Signal()
    seekRequested = Signal(float)
    volumeChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("transport")
        self.cover = QLabel(objectName="cover", alignment=Qt.AlignmentFlag.AlignCenter)
        self.cover.setFixedSize(COVER, COVER)
        self.title = QLabel("Nothing playing", objectName="nowTitle")
        self.details = QLabel("", objectName="nowDetails")
        self.prev_button = self._button("previous", "Previous", self.previousClicked)
        self.play_button = self._button("play", "Play (Space)", self.playPauseClicked, big=True)
        self.next_button = self._button("next", "Next", self.nextClicked)
        self.elapsed = QLabel("0:00", objectName="time")
        self.remaining = QLabel("-0:00", objectName="time")
        self.seek = QSlider(Qt.Orientation.Horizontal, objectName="seek")
        self.seek.setRange(0, 0)
        self.seek.sliderReleased.connect(lambda: self.seekRequested.emit(self.seek.value() / 10))
        self.volume = QSlider(Qt.Orientation.Horizontal, objectName="volume")
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(110)
        self.volume.valueChanged.connect(lambda v: self.volumeChanged.emit(v / 100))
        self._layout()
        self.show_item(None)

    def _button(self, name: str, tip: str, signal: Signal, *, big: bool = False) -> QToolButton:
        button = QToolButton(self, toolTip=tip, autoRaise=True)
        button.setIcon(icon(name))
        button.setIconSize(QSize(36, 36) if big else QSize(22, 22))
        button.clicked.connect(signal.emit)
        return button

    def _layout(self) -> None:
        text = QVBoxLayout()
        text.addStretch()
        text.addWidget(self.title)
        text.addWidget(self.details)
        text.addStretch()
        seek_row = QHBoxLayout()
        seek_row.addWidget(self.elapsed)
        seek_row.addWidget(self.seek, 1)
        seek_row.addWidget(self.remaining)
        buttons = QHBoxLayout()
        buttons.addStretch()
        for button in (self.prev_button, self.play_button, self.next_button):
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
        row.addWidget(volume_icon)
        row.addWidget(self.volume)

    def show_item(self, item: PlayItem | None, cover: bytes | None = None) -> None:
        """Now playing (``None``: nothing)."""
        self.title.setText(item.title if item else "Nothing playing")
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
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")
