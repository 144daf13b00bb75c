"""Faults the player must survive: its worker SIGKILLed, Ctrl-C to its process group, repeated
Kafka errors; and the services dialog never shows a password."""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from core.bus.outbox import EventPublisher, Outbox
from core.config import Config
from player.backend import Backend, spawn_local_worker
from player.dialogs import ServicesDialog, services_text
from player.logs import RepeatFilter
from player.main_window import MainWindow
from tests import test_player_ui as ui
from tests.test_import_faults import private_db  # noqa: F401 (a fixture)
from tests.waiting import wait_for

library = ui.library  # the player tests' imported library


@pytest.fixture
def kafka_bus(kafka, tmp_path):
    bus = EventPublisher(kafka, f"faults_{uuid.uuid4().hex[:6]}", Outbox(tmp_path / "outbox.sqlite3"))
    yield bus
    bus.close()


def test_a_killed_worker_is_restarted_and_the_status_bar_says_so(qtbot, library, mongo_uri, kafka,
                                                                 kafka_bus, tmp_path):
    from PySide6.QtCore import QSettings

    config = Config(tmp_path / "data", kafka, mongo_uri, topic=kafka_bus.topic, db_name=library.db.name)
    config.data_dir.mkdir()
    backend = Backend(config, mongo_uri, library, kafka_bus,
                      spawn_worker=functools.partial(spawn_local_worker, config))
    window = MainWindow(backend, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                        playback=ui.NULL)
    qtbot.addWidget(window)
    window.show()
    supervisor, health = window.supervisor, window.health
    try:
        qtbot.waitUntil(lambda: supervisor.process is not None and supervisor.process.poll() is None,
                        timeout=20000)
        first = supervisor.process
        assert not health.degraded, health.toolTip()
        first.send_signal(signal.SIGKILL)
        qtbot.waitUntil(lambda: health.isVisible() and "degraded" in health.text(), timeout=5000)
        assert "stopped" in health.text() and "restarting" in health.text()
        qtbot.waitUntil(lambda: supervisor.process is not first and supervisor.process is not None,
                        timeout=10000)
        qtbot.waitUntil(lambda: health.text() == "Recommendations are back", timeout=10000)
        assert supervisor.process.poll() is None
    finally:
        window.close()
    assert supervisor.process.wait(10) is not None  # closing the window ends its worker


def player_env(mongo_uri: str, kafka: str, tmp_path) -> dict[str, str]:
    return {**os.environ, "ENCORE_MONGO_URI": mongo_uri, "ENCORE_KAFKA_BOOTSTRAP": kafka,
            "ENCORE_DATA_DIR": str(tmp_path / "data"), "ENCORE_DB": f"encore_sigint_{uuid.uuid4().hex[:6]}",
            "ENCORE_TOPIC": f"sigint_{uuid.uuid4().hex[:6]}", "QT_QPA_PLATFORM": "offscreen",
            "HOME": str(tmp_path)}  # its QSettings go to this test's folder


def launch_player(env: dict[str, str], log_path, *args: str) -> subprocess.Popen:
    """The player in its own process group, once its window is up."""
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "player", *args], env=env, stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: b"player ready" in log_path.read_bytes() or proc.poll() is not None, 60,
             what="the player's window")
    assert proc.poll() is None, log_path.read_text()
    return proc


def start_player(env: dict[str, str], log_path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """The player, once its window is up and it has started its worker; and its processes."""
    proc = launch_player(env, log_path)
    wait_for(lambda: psutil.Process(proc.pid).children(), 60, what="the worker the window starts")
    return proc, psutil.Process(proc.pid).children(recursive=True)


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_quits_the_player_and_its_worker(mongo_uri, kafka, tmp_path, presses):
    proc, children = start_player(player_env(mongo_uri, kafka, tmp_path), tmp_path / "player.log")
    for _ in range(presses):  # Ctrl-C in a terminal: SIGINT to the whole process group
        os.killpg(proc.pid, signal.SIGINT)
    try:
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = (tmp_path / "player.log").read_text()
    # One press: a clean exit. A second press during the shutdown ends it at once (SIGINT).
    assert code == 0 or (presses == 2 and code == -signal.SIGINT), output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    _gone, alive = psutil.wait_procs(children, timeout=20)
    worker_log = tmp_path / "data" / "worker.log"
    assert not alive, (alive, worker_log.read_text() if worker_log.exists() else "")


def test_a_player_whose_broker_is_gone_says_so_without_filling_the_terminal(mongo_uri, tmp_path):
    log_path = tmp_path / "player.log"
    proc = launch_player(player_env(mongo_uri, "127.0.0.1:9", tmp_path), log_path, "--no-worker")
    try:
        ready = len(log_path.read_text().splitlines())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the publisher and the listener retry all along
            assert proc.poll() is None, log_path.read_text()
            time.sleep(0.5)
        lines = log_path.read_text().splitlines()[ready:]
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    assert any("127.0.0.1:9" in line for line in lines)  # it says what is wrong...
    assert len(lines) <= 10, "\n".join(lines)  # ...once, not per retry (unfiltered: ~110 lines)


def test_repeated_log_lines_are_held_back_and_counted():
    now = [0.0]
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    handler.addFilter(RepeatFilter(60, clock=lambda: now[0]))
    log = logging.getLogger("kafka.test_repeats")
    log.addHandler(handler)
    try:
        for i in range(500):
            log.warning("Connection to %s refused", "127.0.0.1:9")
            log.error(f"Bootstrap failed (backoff {i * 0.37:.2f} secs)")  # kafka-python's f-strings
        log.warning("another problem")
        now[0] = 61.0
        log.warning("Connection to %s refused", "127.0.0.1:9")
    finally:
        log.removeHandler(handler)
    assert [r.getMessage() for r in records] == [
        "Connection to 127.0.0.1:9 refused", "Bootstrap failed (backoff 0.00 secs)", "another problem",
        "Connection to 127.0.0.1:9 refused (499 more like this in the last 60 s)"]


def test_services_dialog_never_shows_a_password(qtbot, tmp_path):
    uri = "mongodb://alice:s3cr%40t@db1:27017,db2:27017/encore?replicaSet=rs0&authSource=admin"
    text = services_text(Config(tmp_path, "k1:9092", uri), "k1:9092", uri)
    from PySide6.QtWidgets import QLabel

    dialog = ServicesDialog(text)
    qtbot.addWidget(dialog)
    shown = dialog.findChild(QLabel).text()
    assert "s3cr" not in shown and "alice:***@db1:27017,db2:27017" in shown
    assert "replicaSet=rs0" in shown


def test_a_database_killed_under_the_library_load_is_shown_not_loading_forever(qtbot, private_db,  # noqa: F811
                                                                              tmp_path):
    from PySide6.QtCore import QSettings, Qt

    from core.bus.memory import InProcessBus
    from core.store.mongo import MongoStore
    from player.loader import LibraryLoader

    store = MongoStore(private_db.uri, "load", timeout_ms=1000)
    store.tracks.insert_many([{"_id": f"{i:016x}", "path": f"/m/{i}.ogg", "title": f"t{i}"}
                              for i in range(6000)])
    loader = LibraryLoader(store)
    # On the loader's own thread, after its first batch: the server dies under the open cursor.
    loader.batch.connect(lambda _rows: private_db.kill() if private_db.proc.poll() is None else None,
                         Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(loader.failed, timeout=30000) as failed:
        loader.start()
    assert "database" in failed.args[0]
    # The window over the dead server opens, says so and stays usable.
    config = Config(tmp_path / "data", None, private_db.uri, db_name="load")
    window = MainWindow(Backend(config, private_db.uri, store, InProcessBus(store)),
                        QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), playback=ui.NULL)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.status_label.text().startswith("Library unavailable"), timeout=30000)
    assert window.isVisible()
