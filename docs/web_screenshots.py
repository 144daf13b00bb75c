"""Screenshots of the web page (desktop and phone widths) with the real soundtrack library.

Imports Wesnoth's soundtrack from the benchmark corpus (see ``bench/fetch_corpus.sh``) into its
own data folder (incremental on later runs), starts the local stack, a recommender worker and a
stand-in for a running player (heartbeat and command listener), plays two tracks through Kafka,
serves the page and saves ``docs/web.png`` and ``docs/web-phone.png`` from headless chromium.

Usage: python docs/web_screenshots.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kafka import KafkaProducer
from werkzeug.serving import make_server

from bench.corpus import ensure_corpus
from core.bus.player_commands import PlayerCommandPublisher, PlayerRemote
from core.config import Config
from core.events import make_event
from core.library.pipeline import run_import
from core.services import resolve_kafka_bootstrap, resolve_mongo_uri
from core.store.mongo import MongoStore
from core.web.app import create_app
from core.worker import RecommenderWorker
from tests.test_web_browser import chromium

OUT = Path(__file__).resolve().parent
#: name: (width, height, mobile); a headless window is at least 500 px wide, so the phone's
#: viewport is emulated (at twice its pixel density, as phones render).
SIZES = {"web.png": (1280, 860, False), "web-phone.png": (390, 844, True)}


def _play(bootstrap: str, topic: str, session: str, track_ids: list[str]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for track_id in track_ids:
        producer.send(topic, key=session.encode(),
                      value=make_event("play", track_id, session).to_json()).get(timeout=30)
        time.sleep(1.0)  # distinct timestamps, in order
    producer.close()


def _wait(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the recommender worker did not answer")
        time.sleep(0.2)


def _shoot(url: str) -> None:
    for name, (width, height, mobile) in SIZES.items():
        driver = chromium(width, height)
        try:
            if mobile:
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                    "width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
            driver.get(url)
            _wait(lambda d=driver: len(d.find_elements("css selector", "li.rec")) == 5)
            driver.save_screenshot(str(OUT / name))
            print(f"saved {OUT / name}")
        finally:
            driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path.home() / ".cache" / "encore-web-shots"))
    args = parser.parse_args()
    config = Config(data_dir=Path(args.data_dir), kafka_bootstrap=None, mongo_uri=None)
    store = MongoStore(resolve_mongo_uri(config), config.db_name)
    report = run_import(str(ensure_corpus() / "wesnoth-1.16-music"), store)
    print(f"imported {len(report.imported)}, unchanged {report.unchanged}")
    bootstrap = resolve_kafka_bootstrap(config)
    worker = RecommenderWorker(bootstrap, store, topic=config.topic, group="web-shots")
    threading.Thread(target=worker.run, daemon=True).start()
    session = uuid.uuid4().hex
    player = PlayerRemote(store, bootstrap, session, lambda track_id: None)
    tracks = sorted(d["_id"] for d in store.iter_tracks({}, {"_id": 1}))
    seeds = [tracks[3], tracks[11]]
    _play(bootstrap, config.topic, session, seeds)
    _wait(lambda: (store.get_recommendations(session) or {}).get("seed") == seeds[-1])
    server = make_server("127.0.0.1", 0, create_app(store, PlayerCommandPublisher(bootstrap)),
                         threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _shoot(f"http://127.0.0.1:{server.server_port}/recommended_songs")
    finally:
        server.shutdown()
        player.close()
        worker.stop_event.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
