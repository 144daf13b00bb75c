"""The web page's HTTP side: JSON, escaping, queueing rules and the token (real MongoDB, Kafka)."""

import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from core.bus.player_commands import PlayerCommandListener, PlayerCommandPublisher
from core.presence import beat, forget
from core.services import free_port
from core.web.app import create_app

EVIL = "<script>alert('x')</script>"


def _title(track_id):
    return EVIL if track_id == "t07" else f"Song {track_id}"


def _recs(store, session, ids, computed_at):
    recs = [{"id": i, "path": f"/m/{i}.ogg", "title": _title(i), "artist": "A", "album": "B",
             "score": 0.5, "jaccard": 0.2, "same_cluster": True, "why": "50% match"} for i in ids]
    store.save_recommendations(session, {"seed": ids[0], "ts": computed_at,
                                         "computed_at": computed_at, "recommendations": recs})


@pytest.fixture
def library(store):
    ids = [f"t{i:02d}" for i in range(8)]
    store.tracks.insert_many([{"_id": i, "path": f"/m/{i}.ogg", "source_path": f"/m/{i}.ogg",
                               "title": _title(i), "artist": "A"}
                              for i in ids])
    _recs(store, "older", ids[:5], 100.0)
    _recs(store, "newer", ids[3:8], 200.0)
    _recs(store, "long", ids, 50.0)  # workers store more than the page shows
    store.record_play({"event_id": "e1", "session_id": "newer", "track_id": "t00",
                       "type": "play", "ts": 199.0})
    return store


@pytest.fixture
def client(library):
    return create_app(library, None).test_client()


def test_json_is_the_latest_sessions_top5_or_the_asked_one(client):
    body = client.get("/api/recommended_songs").get_json()
    assert body["session"] == "newer"
    assert [r["id"] for r in body["recommendations"]] == ["t03", "t04", "t05", "t06", "t07"]
    assert set(body["recommendations"][0]) == {"id", "path", "title", "artist", "album", "score",
                                               "why"}
    older = client.get("/api/recommended_songs?session=older").get_json()
    assert [r["id"] for r in older["recommendations"]] == ["t00", "t01", "t02", "t03", "t04"]
    long = client.get("/api/recommended_songs?session=long").get_json()
    assert [r["id"] for r in long["recommendations"]] == ["t00", "t01", "t02", "t03", "t04"]
    missing = client.get("/api/recommended_songs?session=nobody")
    assert missing.status_code == 404 and missing.get_json()["recommendations"] == []
    assert client.get('/api/recommended_songs?session={"$ne":1}').status_code == 400


def test_a_running_player_is_the_latest_session(library, client):
    beat(library, "fresh")
    try:
        body = client.get("/api/recommended_songs").get_json()
        assert body == {"session": "fresh", "recommendations": []}
    finally:
        forget(library, "fresh")


def test_pages_escape_what_they_show_and_say_when_no_player_runs(client):
    page = client.get("/recommended_songs").get_data(as_text=True)
    assert EVIL not in page and "&lt;script&gt;" in page
    assert "No player is running" in page and 'disabled' in page
    now = client.get("/").get_data(as_text=True)
    assert "Song t00" in now and "/recommended_songs" in now
    fragment = client.get("/recommended_songs?fragment=1").get_data(as_text=True)
    assert "<html" not in fragment and "Song t03" in fragment


def test_queue_needs_a_running_player_and_a_json_body(client):
    refused = client.post("/api/queue", json={"session": "newer", "track_id": "t03"})
    assert refused.status_code == 409 and refused.get_json()["error"] == "no player is running"
    form = client.post("/api/queue", data={"session": "newer", "track_id": "t03"})
    assert form.status_code == 415
    odd = client.post("/api/queue", json={"session": {"$ne": None}, "track_id": "t03"})
    assert odd.status_code == 409


def test_queue_reaches_the_players_listener(kafka, library):
    received = []
    listener = PlayerCommandListener(kafka, "newer", received.append, lambda message: None)
    publisher = PlayerCommandPublisher(kafka)
    beat(library, "newer")
    try:
        client = create_app(library, publisher).test_client()
        unknown = client.post("/api/queue", json={"session": "newer", "track_id": "nope"})
        assert unknown.status_code == 404
        ok = client.post("/api/queue", json={"session": "newer", "track_id": "t04"})
        assert ok.status_code == 200, ok.get_json()
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [(c.session_id, c.track_id) for c in received] == [("newer", "t04")]
    finally:
        forget(library, "newer")
        listener.close()
        publisher.close()


def test_token_in_query_becomes_a_cookie_and_bearer_works(library):
    client = create_app(library, None, token="s3cret").test_client()
    assert client.get("/api/recommended_songs").status_code == 401
    assert client.get("/api/recommended_songs?token=wrong").status_code == 401
    first = client.get("/recommended_songs?token=s3cret&session=older")
    assert first.status_code == 302 and first.headers["Location"] == "/recommended_songs?session=older"
    assert client.get("/recommended_songs?session=older").status_code == 200  # the cookie
    other = create_app(library, None, token="s3cret").test_client()
    assert other.get("/api/recommended_songs",
                     headers={"Authorization": "Bearer s3cret"}).status_code == 200


def _serve(env, *args):
    proc = subprocess.Popen([sys.executable, "-m", "player.launch", "web", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # printed once listening
    match = re.search(r"(http://\S+)", line)
    assert match, line + proc.stderr.read()
    return proc, match.group(1)


def _status(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_cli_requires_the_printed_token_off_loopback(env_for_cli, kafka):
    env = {**env_for_cli, "ENCORE_KAFKA_BOOTSTRAP": kafka}
    port = free_port()
    proc, url = _serve(env, "--host", "127.0.0.2", "--port", str(port))
    try:
        token = url.split("?token=")[1]
        base = f"http://127.0.0.2:{port}/api/recommended_songs"
        assert _status(base)[0] == 401
        assert _status(base, {"Authorization": f"Bearer {token}"}) == (
            200, {"session": None, "recommendations": []})
    finally:
        proc.terminate()
        assert proc.wait(20) == 0
    port = free_port()
    proc, url = _serve(env, "--port", str(port))
    try:
        assert "token" not in url and url.startswith("http://127.0.0.1:")
        assert _status(f"{url}api/recommended_songs")[0] == 200
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_top5_is_listed_best_score_first(store):
    scores = {"a": 0.45, "b": 0.43, "c": 0.40, "d": 0.29, "e": 0.42, "f": 0.99}  # f is 6th: not shown
    recs = [{"id": i, "path": f"/m/{i}.ogg", "title": i, "score": s, "why": "x"} for i, s in scores.items()]
    store.save_recommendations("s", {"seed": "a", "ts": 1.0, "computed_at": 1.0, "recommendations": recs})
    body = create_app(store, None).test_client().get("/api/recommended_songs?session=s").get_json()
    assert [r["id"] for r in body["recommendations"]] == ["a", "b", "e", "c", "d"]
