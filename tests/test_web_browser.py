"""The web page in a real browser (Debian's chromium, headless) over TCP, fed by a real worker:
a play event through Kafka shows the top 5, a click queues the song in a running player."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import uuid

import pytest
from kafka import KafkaProducer

from core.bus.player_commands import PlayerRemote
from core.events import make_event
from core.library.pipeline import run_import
from core.services import free_port
from core.worker import RecommenderWorker

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WAIT_S = 60


def chromium(width: int = 1280, height: int = 900):
    """A headless Debian chromium under Selenium, with a fresh profile and no network chatter."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={tempfile.mkdtemp()}",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _wait(driver, predicate, message):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S, poll_frequency=0.2).until(predicate, message)


@pytest.fixture
def web(store, mongo_uri, kafka, tmp_path):
    """``encore web`` as a real server process on a free loopback port: its base URL."""
    env = {**os.environ, "ENCORE_MONGO_URI": mongo_uri,
           "ENCORE_DB": store.db.name, "ENCORE_KAFKA_BOOTSTRAP": kafka,
           "ENCORE_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "player.launch", "web", "--port",
                             str(free_port())], env=env, stdout=subprocess.PIPE,
                            stderr=(tmp_path / "web.log").open("w"), text=True)
    line = proc.stdout.readline()
    assert "http://127.0.0.1:" in line, (tmp_path / "web.log").read_text()
    yield line.split()[-1]
    proc.terminate()
    proc.wait(20)


@pytest.fixture
def worker(kafka, store, generated_library):
    """A recommender worker (a real consumer group member) over an imported library."""
    run_import(str(generated_library), store, jobs=2)
    topic = f"events_{uuid.uuid4().hex[:6]}"
    member = RecommenderWorker(kafka, store, topic=topic, group=f"g-{topic}")
    thread = threading.Thread(target=member.run, daemon=True)
    thread.start()
    yield member
    member.stop_event.set()
    thread.join(20)


def _rec_titles(driver):
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "li.rec .title")]


def test_play_event_shows_top5_and_a_click_queues_in_the_player(kafka, store, worker, web):
    from selenium.webdriver.common.by import By

    session = f"web{uuid.uuid4().hex[:8]}"
    queued: list[str] = []
    player = PlayerRemote(store, kafka, session, queued.append)  # a running player's side
    driver = chromium()
    try:
        driver.get(f"{web}recommended_songs")
        _wait(driver, lambda d: "No recommendations yet" in d.page_source, "empty page first")
        seed = next(store.iter_tracks({}, {"_id": 1, "title": 1}))
        producer = KafkaProducer(bootstrap_servers=kafka)
        producer.send(worker.topic, key=session.encode(),
                      value=make_event("play", seed["_id"], session).to_json()).get(timeout=30)
        producer.close()
        # the open page updates itself: no reload
        _wait(driver, lambda d: len(_rec_titles(d)) == 5, "the top 5 never appeared")
        stored = store.get_recommendations(session)["recommendations"][:5]
        assert _rec_titles(driver) == [r["title"] or r["path"] for r in stored]

        driver.find_elements(By.CSS_SELECTOR, "button.queue")[2].click()
        _wait(driver, lambda d: "Queued" in d.find_element(By.ID, "status").text, "no confirmation")
        _wait(driver, lambda d: queued, "the player's listener got no command")
        assert queued == [stored[2]["id"]]

        driver.get(web)  # "/" shows what is playing, with a link to the recommendations
        assert (seed.get("title") or "") in driver.find_element(By.CSS_SELECTOR, ".now").text
        assert driver.find_element(By.ID, "to-recommended").get_attribute("href").endswith(
            "/recommended_songs")
    finally:
        player.close()
    try:  # the player is gone: the page says so and queues nothing
        driver.get(f"{web}recommended_songs")
        _wait(driver, lambda d: "No player is running" in d.page_source, "no notice")
        buttons = driver.find_elements(By.CSS_SELECTOR, "button.queue")
        assert len(buttons) == 5 and not any(b.is_enabled() for b in buttons)
    finally:
        driver.quit()
