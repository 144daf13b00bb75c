"""MPRIS 2 on the session D-Bus, so media keys, the desktop's sound menu and ``playerctl`` work.

Encore appears as ``org.mpris.MediaPlayer2.encore`` at ``/org/mpris/MediaPlayer2`` with the root
(``org.mpris.MediaPlayer2``) and ``org.mpris.MediaPlayer2.Player`` interfaces. The service knows
nothing about the window: it calls a small ``Controls`` object for what clients ask, and the
window pushes its state with ``MprisService.update``. Properties are exported by
``QDBusAbstractAdaptor`` subclasses because Qt then marshals ``qint64`` properties (Position) as
D-Bus ``x``, which a ``QDBusVirtualObject`` built from Python ints cannot; Qt does not emit
``PropertiesChanged`` for adaptors, so the service sends it itself.

With no session bus (a console, a container) ``start_mpris`` logs once and returns ``None``.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import ClassInfo, Property, QObject, Signal, Slot
from PySide6.QtDBus import QDBusAbstractAdaptor, QDBusConnection, QDBusMessage, QDBusObjectPath

SERVICE = "org.mpris.MediaPlayer2.encore"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT_INTERFACE = "org.mpris.MediaPlayer2"
PLAYER_INTERFACE = "org.mpris.MediaPlayer2.Player"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"
#: The ``mpris:trackid`` of "no track" (the spec's reserved path).
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
STATUSES = ("Playing", "Paused", "Stopped")
MIME_TYPES = ["audio/flac", "audio/mpeg", "audio/ogg", "audio/opus", "audio/vorbis", "audio/wav",
              "audio/x-flac", "audio/x-wav", "audio/mp4", "audio/aac"]
#: A position this far from where playback should be by now is a seek (``Seeked`` is sent).
SEEK_TOLERANCE_S = 1.5
US = 1_000_000
#: The playback engine's states as MPRIS says them (buffering is the start of playing).
STATUS_OF = {"playing": "Playing", "buffering": "Playing", "paused": "Paused", "stopped": "Stopped"}
log = logging.getLogger("encore.player.mpris")


class Controls(Protocol):
    """What an MPRIS client can ask of the player (the window implements it, or an adapter)."""

    def play_pause(self) -> None: ...
    def stop(self) -> None: ...
    def next(self) -> None: ...
    def previous(self) -> None: ...
    def seek_to(self, seconds: float) -> None: ...
    def volume(self) -> float: ...
    def set_volume(self, volume: float) -> None: ...
    def raise_window(self) -> None: ...
    def quit(self) -> None: ...


@dataclass(frozen=True)
class NowPlaying:
    """The track MPRIS clients see (``art_path``: a cover image file, e.g. the cover cache's)."""

    track_id: str
    title: str
    artist: str = ""
    album: str = ""
    duration_s: float = 0.0
    art_path: str | None = None


def track_object_path(track_id: str) -> str:
    """A D-Bus object path for ``mpris:trackid`` (ids may hold characters a path cannot)."""
    return "/org/encore/track/" + (re.sub(r"[^A-Za-z0-9_]", "_", track_id) or "_")


def metadata(track: NowPlaying | None) -> dict:
    """The ``Metadata`` property (``a{sv}``) of ``track``.

    Notes
    -----
    Qt marshals a Python int below 2**31 as ``i``, so ``mpris:length`` is ``i`` for tracks shorter
    than 35 minutes and ``x`` above; GLib and playerctl clients read both.
    """
    if track is None:
        return {"mpris:trackid": QDBusObjectPath(NO_TRACK)}
    meta = {"mpris:trackid": QDBusObjectPath(track_object_path(track.track_id)),
            "mpris:length": round(track.duration_s * US), "xesam:title": track.title}
    if track.artist:
        meta["xesam:artist"] = [track.artist]
    if track.album:
        meta["xesam:album"] = track.album
    if track.art_path:
        meta["mpris:artUrl"] = Path(track.art_path).absolute().as_uri()
    return meta


@ClassInfo({"D-Bus Interface": ROOT_INTERFACE})
class RootAdaptor(QDBusAbstractAdaptor):
    """``org.mpris.MediaPlayer2``: identity, raise and quit."""

    def __init__(self, service: MprisService):
        super().__init__(service)
        self._service = service

    @Slot()
    def Raise(self) -> None:
        self._service.controls.raise_window()

    @Slot()
    def Quit(self) -> None:
        self._service.controls.quit()

    def _true(self) -> bool:
        return True

    def _false(self) -> bool:
        return False

    def _identity(self) -> str:
        return "Encore"

    def _desktop_entry(self) -> str:
        return "encore"

    def _schemes(self) -> list[str]:
        return ["file"]

    def _mime_types(self) -> list[str]:
        return MIME_TYPES

    CanQuit = Property(bool, _true)
    CanRaise = Property(bool, _true)
    HasTrackList = Property(bool, _false)
    Identity = Property(str, _identity)
    DesktopEntry = Property(str, _desktop_entry)
    SupportedUriSchemes = Property("QStringList", _schemes)
    SupportedMimeTypes = Property("QStringList", _mime_types)


@ClassInfo({"D-Bus Interface": PLAYER_INTERFACE})
class PlayerAdaptor(QDBusAbstractAdaptor):
    """``org.mpris.MediaPlayer2.Player``: transport, position, volume and the playing track."""

    Seeked = Signal("qint64", name="Seeked")

    def __init__(self, service: MprisService):
        super().__init__(service)
        self._service = service

    @Slot()
    def PlayPause(self) -> None:
        self._service.controls.play_pause()

    @Slot()
    def Play(self) -> None:
        if self._service.status != "Playing":
            self._service.controls.play_pause()

    @Slot()
    def Pause(self) -> None:
        if self._service.status == "Playing":
            self._service.controls.play_pause()

    @Slot()
    def Stop(self) -> None:
        self._service.controls.stop()

    @Slot()
    def Next(self) -> None:
        self._service.controls.next()

    @Slot()
    def Previous(self) -> None:
        self._service.controls.previous()

    @Slot("qint64")
    def Seek(self, offset_us: int) -> None:
        self._service.seek_to(self._service.position_s() + offset_us / US)

    @Slot(QDBusObjectPath, "qint64")
    def SetPosition(self, track: QDBusObjectPath, position_us: int) -> None:
        # The spec: ignore a stale request (for another track) and positions outside the track.
        now = self._service.track
        if now is None or track.path() != track_object_path(now.track_id):
            return
        if 0 <= position_us <= now.duration_s * US:
            self._service.seek_to(position_us / US)

    def _status(self) -> str:
        return self._service.status

    def _metadata(self) -> dict:
        return metadata(self._service.track)

    def _position(self) -> int:
        return round(self._service.position_s() * US)

    def _volume(self) -> float:
        return float(self._service.controls.volume())

    def _set_volume(self, volume: float) -> None:
        self._service.controls.set_volume(min(1.0, max(0.0, volume)))
        self._service.changed(PLAYER_INTERFACE, {"Volume": self._volume()})

    def _has_track(self) -> bool:
        return self._service.track is not None

    def _true(self) -> bool:
        return True

    def _rate(self) -> float:
        return 1.0

    PlaybackStatus = Property(str, _status)
    Metadata = Property("QVariantMap", _metadata)
    Position = Property("qint64", _position)
    Volume = Property(float, _volume, _set_volume)
    Rate = Property(float, _rate)
    MinimumRate = Property(float, _rate)
    MaximumRate = Property(float, _rate)
    CanPlay = Property(bool, _has_track)
    CanPause = Property(bool, _has_track)
    CanSeek = Property(bool, _has_track)
    CanGoNext = Property(bool, _true)
    CanGoPrevious = Property(bool, _true)
    CanControl = Property(bool, _true)


class MprisService(QObject):
    """The object at ``/org/mpris/MediaPlayer2``; the window keeps it up to date with ``update``.

    Parameters
    ----------
    controls : Controls
        Receives what clients ask (play/pause, next, seek...).
    connection : QDBusConnection
        A connected bus (``start_mpris`` picks the session bus).
    """

    def __init__(self, controls: Controls, connection: QDBusConnection, parent: QObject | None = None):
        super().__init__(parent)
        self.controls, self.connection = controls, connection
        self.status, self.track = "Stopped", None
        self._position_s, self._at = 0.0, time.monotonic()
        self.root = RootAdaptor(self)
        self.player = PlayerAdaptor(self)

    def position_s(self) -> float:
        """Where playback is now: the last reported position plus the time played since."""
        if self.status != "Playing":
            return self._position_s
        return self._position_s + time.monotonic() - self._at

    def update(self, status: str, track: NowPlaying | None, position_s: float = 0.0) -> None:
        """The player's state changed (or its position was reported): tell the clients.

        Parameters
        ----------
        status : str
            ``"Playing"``, ``"Paused"`` or ``"Stopped"``.
        track : NowPlaying or None
            The current track (``None`` when stopped with nothing loaded).
        position_s : float
            The playback position in seconds.

        Raises
        ------
        ValueError
            For an unknown ``status``.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        expected = self.position_s()
        changes = {}
        if status != self.status:
            changes["PlaybackStatus"] = status
        if track != self.track:
            changes["Metadata"] = metadata(track)
            changes.update(dict.fromkeys(("CanPlay", "CanPause", "CanSeek"), track is not None))
        jumped = track == self.track and abs(position_s - expected) > SEEK_TOLERANCE_S
        self.status, self.track = status, track
        self._position_s, self._at = position_s, time.monotonic()
        if changes:
            self.changed(PLAYER_INTERFACE, changes)
        if jumped:
            self.player.Seeked.emit(round(position_s * US))

    def seek_to(self, seconds: float) -> None:
        """A client's Seek or SetPosition: move playback, and say so with ``Seeked``."""
        seconds = max(0.0, seconds)
        if self.track is not None and self.track.duration_s and seconds >= self.track.duration_s:
            self.controls.next()  # the spec: seeking past the end acts like Next
            return
        self.controls.seek_to(seconds)
        self._position_s, self._at = seconds, time.monotonic()
        self.player.Seeked.emit(round(seconds * US))

    def changed(self, interface: str, properties: dict) -> None:
        """Send ``PropertiesChanged`` for ``properties`` of ``interface``."""
        signal = QDBusMessage.createSignal(OBJECT_PATH, PROPERTIES_INTERFACE, "PropertiesChanged")
        signal.setArguments([interface, properties, []])
        self.connection.send(signal)


def start_mpris(controls: Controls, parent: QObject | None = None, *,
                connection: QDBusConnection | None = None) -> MprisService | None:
    """Publish Encore on the session bus.

    Parameters
    ----------
    controls : Controls
    parent : QObject, optional
        Owner of the service (the window), so it lives as long as the player.
    connection : QDBusConnection, optional
        Default: the session bus.

    Returns
    -------
    MprisService or None
        ``None`` (logged once) when there is no session bus or the object cannot be registered:
        the player runs on without MPRIS.
    """
    bus = connection if connection is not None else QDBusConnection.sessionBus()
    if not bus.isConnected():
        log.info("no D-Bus session bus (%s): media keys and the sound menu will not control Encore",
                 bus.lastError().message() or "DBUS_SESSION_BUS_ADDRESS unset")
        return None
    service = MprisService(controls, bus, parent)
    options = QDBusConnection.RegisterOption.ExportAdaptors
    if not bus.registerObject(OBJECT_PATH, service, options):
        log.warning("MPRIS unavailable: %s", bus.lastError().message() or "object path taken")
        return None
    # A second Encore takes an instance name, as the spec asks, instead of failing.
    if not bus.registerService(SERVICE) and not bus.registerService(f"{SERVICE}.instance{os.getpid()}"):
        log.warning("MPRIS unavailable: %s", bus.lastError().message())
        bus.unregisterObject(OBJECT_PATH)
        return None
    return service


def follow(service: MprisService, bridge, art_path: Callable[[object], str | None] = lambda item: None
           ) -> None:
    """Keep ``service`` up to date from a ``PlaybackBridge``'s signals.

    Parameters
    ----------
    service : MprisService
    bridge : PlaybackBridge
        Its ``status`` is read on each ``stateChanged``, ``trackStarted`` and ``positionChanged``.
    art_path : callable
        ``PlayItem`` → a cover image file (e.g. ``core.audio.covers.cached_cover``), asked once
        per track.
    """
    known: dict[str, NowPlaying] = {}

    def push(*_args) -> None:
        status, item = bridge.status, bridge.status.item
        track = None
        if item is not None:
            track = known.get(item.track_id)
            if track is None:
                known.clear()  # one entry: the track playing
                track = known[item.track_id] = NowPlaying(item.track_id, item.title, item.artist,
                                                          item.album, item.duration_s, art_path(item))
        service.update(STATUS_OF.get(status.state, "Stopped"), track, status.position_s)

    for signal in (bridge.stateChanged, bridge.trackStarted, bridge.positionChanged):
        signal.connect(push)
    push()


class WindowControls:
    """``Controls`` over the main window: what a click on its own buttons would do."""

    def __init__(self, window):
        self.window = window

    def play_pause(self) -> None:
        self.window.bridge.toggle()

    def stop(self) -> None:
        self.window.bridge.engine.stop()

    def next(self) -> None:
        self.window.next_track()  # leaving a track early is a skip, as with the button

    def previous(self) -> None:
        self.window.previous_track()

    def seek_to(self, seconds: float) -> None:
        self.window.bridge.seek(seconds)

    def volume(self) -> float:
        return self.window.transport.volume.value() / 100

    def set_volume(self, volume: float) -> None:
        # Through the slider, so the window shows it and the engine follows.
        self.window.transport.volume.setValue(round(volume * 100))

    def raise_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def quit(self) -> None:
        self.window.close()
