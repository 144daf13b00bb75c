"""Session state in a real MongoDB: every event once, counters, likes (latest wins), seeds, and
the worker's answer document."""

import pytest

from core.errors import NotFoundError
from core.events import PlayEvent
from core.library.pipeline import run_import
from core.similarity.recommend import Recommender
from core.similarity.session import plan_session, recommend_for_event
from core.store.session_state import SessionState, session_state


def _event(kind: str, track: str, ts: float, session: str = "s1", position: float = 0.0):
    return PlayEvent(kind, track, session, ts, position)


def test_counters_count_each_event_once(store):
    state = session_state(store)
    events = [_event("play", "t1", 10), _event("skip", "t1", 12, position=3.0),
              _event("play", "t1", 20), _event("play", "t2", 15)]
    for event in events + events:  # every event delivered twice
        state.record(event)
    assert store.plays.count_documents({}) == 4
    counts = state.counters(["t1", "t2", "t3"])
    assert counts["t1"] == {"plays": 2, "skips": 1, "last_played": 20, "last_skipped": 12}
    assert counts["t2"]["plays"] == 1 and "t3" not in counts
    assert state.view("s1").listened() == ["t1", "t2"]  # newest first, each once
    assert [d["_id"] for d in state.recently_played()] == ["t1", "t2"]
    assert set(state.counters()) == {"t1", "t2"}


def test_the_latest_like_or_unlike_wins_whatever_the_arrival_order(store):
    state = SessionState(store)
    state.record(_event("like", "t1", 5))
    state.record(_event("unlike", "t1", 3))  # older, arrives late: ignored
    assert state.liked(["t1"]) == {"t1"}
    state.record(_event("unlike", "t1", 7))
    state.record(_event("like", "t2", 1))
    assert state.liked(["t1", "t2"]) == {"t2"}
    state.record(_event("like", "t3", 2))
    assert state.liked_tracks() == ["t3", "t2"]
    assert store.db.likes.count_documents({}) == 3  # one document per track


def test_recent_tracks_are_the_plays_and_skips_newest_first(store):
    state = session_state(store)
    for event in (_event("play", "t1", 1), _event("like", "t2", 2), _event("skip", "t3", 3),
                  _event("seed", "t4", 4), _event("unlike", "t5", 5)):
        state.record(event)
    assert store.recent_track_ids("s1") == ["t3", "t1"]


def test_the_latest_recommendations_of_all_sessions_come_from_an_index(store):
    for i in range(20):
        store.save_recommendations(f"s{i}", {"computed_at": float(i)})
    cursor = store.recommendations.find({}, {"session_id": 1}).sort("computed_at", -1).limit(1)
    plan = str(cursor.explain()["queryPlanner"]["winningPlan"])
    assert "'IXSCAN'" in plan and "'SORT'" not in plan and "'COLLSCAN'" not in plan
    assert next(store.recommendations.find({}, {"session_id": 1}).sort(
        "computed_at", -1).limit(1))["session_id"] == "s19"


def test_seeds_add_up_until_the_session_plays_then_start_over(store):
    state = SessionState(store)
    state.record(_event("seed", "a", 1))
    state.record(_event("seed", "b", 2))
    view = state.view("s1")
    assert view.seeds == ["a", "b"] and view.seed_ts == 2
    state.record(_event("play", "c", 3))
    state.record(_event("seed", "d", 4))
    view = state.view("s1")
    assert view.seeds == ["d"] and view.heard() == ["d", "c", "b", "a"]
    assert [e["type"] for e in view.events] == ["seed", "play", "seed", "seed"]


def test_worker_answer_is_stored_once_per_event(generated_library, store):
    run_import(str(generated_library), store, jobs=2)
    recommender = Recommender(store)
    tracks = [d["_id"] for d in store.iter_tracks({}, {"_id": 1})]
    play = _event("play", tracks[0], 100.0, "w1")
    doc = recommend_for_event(store, recommender, play)
    again = recommend_for_event(store, recommender, play)  # re-delivered
    assert store.plays.count_documents({"event_id": play.event_id}) == 1
    assert session_state(store).counters([tracks[0]])[tracks[0]]["plays"] == 1
    assert [r["id"] for r in again["radio"]] == [r["id"] for r in doc["radio"]]

    assert set(doc) == {"session_id", "seed", "event_id", "ts", "computed_at", "computed_by",
                        "recommendations", "radio"}
    assert doc["seed"] == tracks[0] and doc["event_id"] == play.event_id
    assert 5 <= len(doc["recommendations"]) <= 15 and 1 <= len(doc["radio"]) <= 10
    ids = [r["id"] for r in doc["recommendations"]]
    assert len(set(ids)) == len(ids) and tracks[0] not in ids + [r["id"] for r in doc["radio"]]
    stored = store.get_recommendations("w1")
    assert [r["id"] for r in stored["radio"]] == [r["id"] for r in doc["radio"]]

    queued = doc["radio"][0]["id"]  # the player's direct fallback: same plan, minus the queue
    direct = plan_session(store, recommender, "w1", exclude=(queued,))
    assert queued not in [r["id"] for r in direct["radio"] + direct["recommendations"]]
    assert direct["radio"] and len(direct["recommendations"]) >= 5

    assert recommend_for_event(store, recommender, _event("unlike", tracks[1], 101.0, "w1")) is None
    liked = recommend_for_event(store, recommender, _event("like", tracks[1], 102.0, "w1"))
    assert liked["seed"] == tracks[1] and session_state(store).liked([tracks[1]]) == {tracks[1]}

    with pytest.raises(NotFoundError):
        recommend_for_event(store, recommender, _event("play", "no-such-track", 103.0, "w1"))
    assert store.plays.count_documents({"track_id": "no-such-track"}) == 0
