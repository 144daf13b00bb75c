"""The worker's per-event shortcuts: a warm recommender answers from memory what did not change
and forgets it when an import or rescan changes the library (a stale cache would answer with, or
for, tracks that are gone); a play is answered before it is stored, from the same session view,
and stored whatever happens to the answer."""

import shutil
from pathlib import Path

import pytest

from core.errors import BusError, NotFoundError
from core.events import PlayEvent
from core.library.pipeline import run_import
from core.library.rescan import rescan
from core.similarity.recommend import Recommender
from core.similarity.session import recommend_for_event
from core.store.session_state import session_state


@pytest.fixture
def copied_library(generated_library, tmp_path, store):
    """The generated library copied (so a file can be deleted) and imported into ``store``."""
    folder = tmp_path / "music"
    shutil.copytree(generated_library, folder)
    run_import(str(folder), store, jobs=2)
    return folder


def _ids(doc: dict) -> list[str]:
    return [r["id"] for r in doc["recommendations"] + doc["radio"]]


def test_a_track_removed_by_a_rescan_is_neither_answered_for_nor_recommended(copied_library, store):
    recommender = Recommender(store)
    seed = next(store.iter_tracks({}, {"_id": 1}))["_id"]
    first = recommend_for_event(store, recommender, PlayEvent("play", seed, "s1", 1.0))
    gone = first["recommendations"][0]["id"]
    assert recommender.cached(gone) is not None  # a candidate of the answer: held in memory

    Path(store.get_track(gone, {"path": 1})["path"]).unlink()
    rescan(store, [str(copied_library)], jobs=1)

    with pytest.raises(NotFoundError):  # a stale cache would still know the track
        recommend_for_event(store, recommender, PlayEvent("play", gone, "s2", 2.0))
    assert store.plays.count_documents({"track_id": gone}) == 0
    again = recommend_for_event(store, recommender, PlayEvent("play", seed, "s3", 3.0))
    assert gone not in _ids(again) and again["recommendations"]


def test_answers_of_a_warm_recommender_equal_a_fresh_ones(copied_library, store):
    warm = Recommender(store)
    tracks = [d["_id"] for d in store.iter_tracks({}, {"_id": 1})]
    for ts, track in enumerate(tracks[:4]):  # fills the caches along one session
        recommend_for_event(store, warm, PlayEvent("play", track, "warm", float(ts)))
    for ts, track in enumerate(tracks[4:8], start=4):
        cached = recommend_for_event(store, warm, PlayEvent("play", track, "warm", float(ts)))
        fresh = recommend_for_event(store, Recommender(store),
                                    PlayEvent("play", track, "warm", float(ts)))  # re-delivery
        assert _ids(cached) == _ids(fresh)
        assert [r["score"] for r in cached["recommendations"]] == [
            r["score"] for r in fresh["recommendations"]]


def test_a_view_with_a_pending_play_is_the_view_once_it_is_stored(store):
    state = session_state(store)
    for ts, kind, track in [(1.0, "seed", "a"), (2.0, "play", "b"), (4.0, "skip", "c")]:
        state.record(PlayEvent(kind, track, "s1", ts, 5.0))
    late = PlayEvent("play", "d", "s1", 3.0, 7.0)  # arrives after a newer event
    tie = PlayEvent("skip", "e", "s1", 4.0, 1.0)
    for pending in (late, tie):
        before = state.view("s1", pending=pending)
        state.record(pending)
        assert before == state.view("s1") == state.view("s1", pending=pending)  # re-delivered
    assert state.view("s1", limit=2, pending=PlayEvent("play", "f", "s1", 0.5)) == state.view(
        "s1", limit=2)  # older than the whole window: not in it


def test_a_play_whose_answer_cannot_be_handed_on_is_stored_all_the_same(copied_library, store):
    track = next(store.iter_tracks({}, {"_id": 1}))["_id"]
    play = PlayEvent("play", track, "s1", 1.0)

    def fail(answer):
        raise BusError("broker gone")

    with pytest.raises(BusError):
        recommend_for_event(store, Recommender(store), play, on_answer=fail)
    assert store.plays.count_documents({"event_id": play.event_id}) == 1
    assert session_state(store).counters([track])[track]["plays"] == 1
