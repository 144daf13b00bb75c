"""What the main window remembers between runs (geometry, splitter, tab, volume, shuffle, repeat,
radio and queue), in the ``QSettings`` it is given (``player.settings.window_state``)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray

from core.playback.playorder import REPEAT_MODES

DEFAULT_SIZE = (1280, 800)


def flag(value) -> bool:
    """A boolean from QSettings (INI files give back the strings "true" and "false")."""
    return value if isinstance(value, bool) else str(value).lower() == "true"


def restore_state(window) -> None:
    """Geometry, layout and playback switches of ``window`` (a ``MainWindow``) as last saved."""
    s = window.settings
    geometry = s.value("window/geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        window.resize(*DEFAULT_SIZE)
    splitter = s.value("window/splitter")
    if isinstance(splitter, QByteArray):
        window.splitter.restoreState(splitter)
    window.pages.tabs.setCurrentIndex(int(s.value("window/tab", 0)))
    volume = int(s.value("playback/volume", 80))
    window.transport.volume.setValue(volume)
    window.bridge.set_volume(volume / 100)
    window.transport.shuffle_button.setChecked(flag(s.value("playback/shuffle", False)))
    repeat = str(s.value("playback/repeat", "off"))
    window.transport.set_repeat(repeat if repeat in REPEAT_MODES else "off")
    window.queue.set_repeat(window.transport.repeat)
    window.transport.radio_button.setChecked(flag(s.value("playback/radio", True)))
    window.radio.set_enabled(window.transport.radio_button.isChecked())  # toggled only on a change


def restore_queue(window) -> None:
    """The queue as last saved (tracks no longer in the library are left out)."""
    ids = window.settings.value("playback/queue", []) or []
    rows = [window.library.find(i) for i in ([ids] if isinstance(ids, str) else ids)]
    window.add_to_queue([r for r in rows if r is not None])


def save_state(window) -> None:
    """Window, tab, volume, switches and queue."""
    s = window.settings
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/splitter", window.splitter.saveState())
    s.setValue("window/tab", window.pages.tabs.currentIndex())
    s.setValue("playback/volume", window.transport.volume.value())
    s.setValue("playback/shuffle", window.queue.shuffle)
    s.setValue("playback/repeat", window.queue.repeat)
    s.setValue("playback/radio", window.radio.enabled)
    s.setValue("playback/queue", [item.track_id for item in window.queue.items()])
    s.sync()
