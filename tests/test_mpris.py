"""MPRIS 2: real clients (gdbus, dbus-monitor) on a private session bus drive the service."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from PySide6.QtDBus import QDBusConnection

from player.mpris import SERVICE, NowPlaying, follow, start_mpris
from tests.audio import sine, write

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None or shutil.which("gdbus") is None,
                                reason="needs dbus-daemon and gdbus (Debian: dbus, libglib2.0-bin)")
PATH = "/org/mpris/MediaPlayer2"
ROOT = Path(__file__).resolve().parents[1]
TRACK = NowPlaying("t1", "Battle Music", "Wesnoth", "Soundtrack", 200.0, "/tmp/cover.png")


class Recorder:
    """The player side: records what clients ask."""

    def __init__(self):
        self.calls: list[tuple] = []
        self._volume = 0.5

    def play_pause(self): self.calls.append(("play_pause",))
    def stop(self): self.calls.append(("stop",))
    def next(self): self.calls.append(("next",))
    def previous(self): self.calls.append(("previous",))
    def seek_to(self, seconds): self.calls.append(("seek_to", round(seconds, 1)))
    def volume(self): return self._volume
    def raise_window(self): self.calls.append(("raise",))
    def quit(self): self.calls.append(("quit",))

    def set_volume(self, volume):
        self._volume = volume
        self.calls.append(("set_volume", volume))


@pytest.fixture
def bus_address():
    """A private session bus (a real dbus-daemon), stopped afterwards."""
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = daemon.stdout.readline().strip()
    yield address
    daemon.kill()
    daemon.wait()


@pytest.fixture
def mpris(qtbot, bus_address):
    """The service on the private bus, with its recorder."""
    name = f"mpris-{uuid.uuid4().hex[:8]}"
    connection = QDBusConnection.connectToBus(bus_address, name)
    assert connection.isConnected()
    controls = Recorder()
    service = start_mpris(controls, connection=connection)
    assert service is not None
    yield service, controls, bus_address
    connection.unregisterObject(PATH)
    connection.unregisterService(SERVICE)
    QDBusConnection.disconnectFromBus(name)


def gdbus(qtbot, address: str, *args: str) -> str:
    """``gdbus call`` while Qt's event loop runs (the service answers from it)."""
    proc = subprocess.Popen(["gdbus", "call", "--address", address, "--dest", SERVICE,
                             "--object-path", PATH, "--method", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=20_000)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return out.strip()


def get(qtbot, address: str, interface: str, name: str) -> str:
    return gdbus(qtbot, address, "org.freedesktop.DBus.Properties.Get", interface, name)


def test_client_reads_identity_and_status_and_controls_the_player(qtbot, mpris):
    service, controls, address = mpris
    assert get(qtbot, address, "org.mpris.MediaPlayer2", "Identity") == "(<'Encore'>,)"
    assert "Stopped" in get(qtbot, address, "org.mpris.MediaPlayer2.Player", "PlaybackStatus")
    service.update("Playing", TRACK, 10.0)
    assert "Playing" in get(qtbot, address, "org.mpris.MediaPlayer2.Player", "PlaybackStatus")
    gdbus(qtbot, address, "org.mpris.MediaPlayer2.Player.PlayPause")
    gdbus(qtbot, address, "org.mpris.MediaPlayer2.Player.Next")
    assert controls.calls == [("play_pause",), ("next",)]


def test_metadata_position_and_capabilities(qtbot, mpris):
    service, _, address = mpris
    service.update("Paused", TRACK, 42.0)
    props = gdbus(qtbot, address, "org.freedesktop.DBus.Properties.GetAll",
                  "org.mpris.MediaPlayer2.Player")
    for expected in ("'xesam:title': <'Battle Music'>", "'xesam:artist': <['Wesnoth']>",
                     "'xesam:album': <'Soundtrack'>", "'mpris:length': <200000000>",
                     "'mpris:artUrl': <'file:///tmp/cover.png'>",
                     "'mpris:trackid': <objectpath '/org/encore/track/t1'>",
                     "'Position': <int64 42000000>", "'CanSeek': <true>", "'Volume': <0.5>"):
        assert expected in props
    root = gdbus(qtbot, address, "org.freedesktop.DBus.Properties.GetAll", "org.mpris.MediaPlayer2")
    assert "'HasTrackList': <false>" in root and "'CanRaise': <true>" in root


def test_play_pause_stop_seek_and_volume(qtbot, mpris):
    service, controls, address = mpris
    service.update("Paused", TRACK, 30.0)
    player = "org.mpris.MediaPlayer2.Player"
    gdbus(qtbot, address, f"{player}.Pause")  # already paused: nothing to do
    gdbus(qtbot, address, f"{player}.Play")
    gdbus(qtbot, address, f"{player}.Seek", "5000000")
    gdbus(qtbot, address, f"{player}.SetPosition", "/org/encore/track/other", "1000000")  # stale
    gdbus(qtbot, address, f"{player}.SetPosition", "/org/encore/track/t1", "90000000")
    gdbus(qtbot, address, f"{player}.Previous")
    gdbus(qtbot, address, f"{player}.Stop")
    gdbus(qtbot, address, "org.freedesktop.DBus.Properties.Set", player, "Volume", "<0.25>")
    gdbus(qtbot, address, "org.mpris.MediaPlayer2.Raise")
    assert controls.calls == [("play_pause",), ("seek_to", 35.0), ("seek_to", 90.0), ("previous",),
                              ("stop",), ("set_volume", 0.25), ("raise",)]


def test_changes_are_signalled(qtbot, mpris):
    service, _, address = mpris
    with monitor(qtbot, address) as lines:
        service.update("Playing", TRACK, 0.0)
        service.update("Playing", TRACK, 120.0)  # a jump: someone seeked
        qtbot.waitUntil(lambda: "Seeked" in "".join(lines), timeout=20_000)
    text = "".join(lines)
    assert "PropertiesChanged" in text and "Playing" in text and "Battle Music" in text
    assert "int64 120000000" in text


@contextlib.contextmanager
def monitor(qtbot, address: str):
    """The bus's signals as ``dbus-monitor`` prints them (a list that fills in the background)."""
    proc = subprocess.Popen(["dbus-monitor", "--address", address, "type='signal'"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    try:
        # dbus-monitor listens once the bus has given it its name.
        qtbot.waitUntil(lambda: "NameAcquired" in "".join(lines), timeout=20_000)
        yield lines
    finally:
        proc.kill()
        proc.wait()


def test_no_session_bus_means_no_mpris_and_no_error(caplog):
    connection = QDBusConnection.connectToBus("unix:path=/nonexistent/bus", "mpris-none")
    try:
        with caplog.at_level(logging.INFO, logger="encore.player.mpris"):
            assert start_mpris(Recorder(), connection=connection) is None
    finally:
        QDBusConnection.disconnectFromBus("mpris-none")
    assert "no D-Bus session bus" in caplog.text


def test_follows_the_playback_engine(qtbot, mpris, tmp_path):
    from core.playback.playqueue import PlayQueue
    from core.playback.source import PlayItem
    from player.bridge import PlaybackBridge

    service, _, address = mpris
    path = write(tmp_path / "tone.wav", sine(seconds=20.0), 48000)
    bridge = PlaybackBridge(PlayQueue(), device="null")  # paced in real time
    try:
        follow(service, bridge, lambda item: str(tmp_path / "cover.png"))
        bridge.play(PlayItem("tone-1", str(path), "Tone", "Generator", "Tests", 20.0))
        qtbot.waitUntil(lambda: service.status == "Playing" and service.position_s() > 0.2,
                        timeout=20_000)
        props = gdbus(qtbot, address, "org.freedesktop.DBus.Properties.GetAll",
                      "org.mpris.MediaPlayer2.Player")
        assert "'xesam:title': <'Tone'>" in props and "'PlaybackStatus': <'Playing'>" in props
        assert f"'mpris:artUrl': <'file://{tmp_path}/cover.png'>" in props
        bridge.toggle()
        qtbot.waitUntil(lambda: service.status == "Paused", timeout=20_000)
    finally:
        bridge.close()


SESSION_SCRIPT = """
import subprocess, sys, threading
from PySide6.QtCore import QCoreApplication
from player.mpris import start_mpris
from tests.test_mpris import Recorder
app = QCoreApplication([])
controls = Recorder()
service = start_mpris(controls)  # the session bus of dbus-run-session
service.update("Paused", None)
def client():
    def call(*args):
        return subprocess.run(["gdbus", "call", "--session", "--dest", "org.mpris.MediaPlayer2.encore",
                               "--object-path", "/org/mpris/MediaPlayer2", "--method", *args],
                              capture_output=True, text=True, timeout=20).stdout.strip()
    print(call("org.freedesktop.DBus.Properties.Get", "org.mpris.MediaPlayer2.Player",
               "PlaybackStatus"))
    call("org.mpris.MediaPlayer2.Player.PlayPause")
    app.quit()
threading.Thread(target=client).start()
app.exec()
print(controls.calls)
"""


def test_on_the_session_bus_of_dbus_run_session(tmp_path):
    if shutil.which("dbus-run-session") is None:
        pytest.skip("needs dbus-run-session")
    out = subprocess.run(["dbus-run-session", "--", sys.executable, "-c", SESSION_SCRIPT],
                         capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-2:] == ["(<'Paused'>,)", "[('play_pause',)]"]


def test_without_a_session_bus_the_player_starts_without_mpris():
    script = ("import logging; logging.basicConfig(level=logging.INFO)\n"
              "from PySide6.QtCore import QCoreApplication\n"
              "from player.mpris import start_mpris\n"
              "app = QCoreApplication([])\n"
              "print(start_mpris(object()))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "None"
    assert out.stderr.count("no D-Bus session bus") == 1
