"""Remote control of a real main window from the web page (``encore web``): the window attaches
its remote the way ``player.app`` does, plays a track through Kafka to a real worker, and a click
on the page's "queue" button in headless chromium puts the recommended track in its queue."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QSettings

from core.bus.outbox import EventPublisher, Outbox
from core.config import Config
from player.app import attach_remote
from player.backend import Backend
from player.main_window import MainWindow
from tests import test_web_browser as browser_tests
from tests.test_web_browser import CHROMEDRIVER, CHROMIUM, _rec_titles, _wait, chromium

# The web page's fixtures: ``encore web`` as a server process, and a worker over the library.
web, worker = browser_tests.web, browser_tests.worker

pytestmark = pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                                reason="needs Debian's chromium and chromium-driver")


@pytest.fixture
def window(qtbot, store, kafka, mongo_uri, worker, tmp_path):
    """A shown main window publishing to the worker's topic, with its remote attached."""
    bus = EventPublisher(kafka, worker.topic, Outbox(tmp_path / "outbox.jsonl"))
    backend = Backend(Config(tmp_path / "data", kafka, mongo_uri, db_name=store.db.name),
                      mongo_uri, store, bus)
    window = MainWindow(backend, QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                        playback={"device": "null"}, feed_timeout_s=60)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.library.total() == store.count_tracks(), timeout=10000)
    remote = attach_remote(backend, window)
    assert remote is not None
    yield window
    remote.close()
    window.close()
    bus.close()


def test_a_click_on_the_web_page_queues_the_track_in_the_window(window, web, store, qtbot):
    from selenium.webdriver.common.by import By

    session = window.session.session_id
    seed = window.library.track(0)
    window.play_row(seed)  # its play event reaches the worker, which stores the recommendations
    qtbot.waitUntil(lambda: window.bridge.status.state == "playing", timeout=10000)
    window.bridge.toggle()  # paused: the 8 s track does not end and take the queued track
    driver = chromium()
    try:
        driver.get(f"{web}recommended_songs?session={session}")
        _wait(driver, lambda d: len(_rec_titles(d)) == 5, "the top 5 never appeared")
        stored = store.get_recommendations(session)["recommendations"][:5]
        assert stored[0]["id"] != seed.id
        driver.find_elements(By.CSS_SELECTOR, "button.queue")[1].click()
        _wait(driver, lambda d: "Queued" in d.find_element(By.ID, "status").text, "no confirmation")
        qtbot.waitUntil(lambda: [i.track_id for i in window.queue.items()] == [stored[1]["id"]],
                        timeout=30000)
    finally:
        driver.quit()
