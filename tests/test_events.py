"""Event validation (values Python's JSON accepts but an event must not carry), and the
in-process bus that handles events where no broker runs."""

import json

import pytest

from core.bus.memory import InProcessBus
from core.errors import EventError
from core.events import make_event, parse_event
from core.store.session_state import session_state


def _payload(**change) -> bytes:
    event = {"type": "play", "track_id": "t1", "session_id": "s1", "ts": 1.0, "position_s": 0.0,
             "v": 1}
    return json.dumps(event | change).encode()  # json.dumps writes NaN and Infinity


@pytest.mark.parametrize("field", ["ts", "position_s"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 10 ** 400])
def test_non_finite_times_are_refused(field, value):
    with pytest.raises(EventError, match=f"{field} must be a finite"):
        parse_event(_payload(**{field: value}))


@pytest.mark.parametrize("field", ["track_id", "session_id"])
@pytest.mark.parametrize("value", ["t1\n", "t\x001", "t\t1", "t1\r", "\x1b[2Jt1", "t1\x7f"])
def test_ids_with_control_characters_are_refused(field, value):
    with pytest.raises(EventError, match=f"{field} must be a plain identifier"):
        parse_event(_payload(**{field: value}))


def test_a_valid_event_round_trips():
    event = make_event("skip", "t1", "s1", 12.5)
    assert parse_event(event.to_json()) == event
    assert b"NaN" not in event.to_json()


def test_the_listeners_radio_caps_travel_with_an_event_and_stay_out_of_its_identity():
    capped = make_event("play", "t1", "s1", caps=(3, 0))
    assert parse_event(capped.to_json()).caps == (3, 0)
    assert json.loads(capped.to_json())["caps"] == [3, 0]
    plain = parse_event(_payload())
    assert plain.caps is None and b"caps" not in plain.to_json()  # older events read as before
    assert parse_event(_payload(caps=[3, 0], ts=plain.ts)).event_id == plain.event_id


@pytest.mark.parametrize("caps", [[3], [1, 2, 3], [6, 2], [-1, 2], [True, 2], [2.0, 2], "2,2",
                                  {"artist": 2}])
def test_malformed_caps_are_refused(caps):
    with pytest.raises(EventError, match="caps must be two whole numbers"):
        parse_event(_payload(caps=caps))


def test_make_event_refuses_a_non_finite_position():
    with pytest.raises(EventError, match="position_s"):
        make_event("play", "t1", "s1", float("nan"))


def test_in_process_bus_hands_subscribers_no_empty_answer(store):
    """An unlike stores its effect but has no recommendations: subscribers get nothing (a ``None``
    they read killed the bus thread, and every later event was lost)."""
    store.tracks.insert_many([{"_id": t, "path": f"/m/{t}.ogg"} for t in ("t1", "t2")])
    received = []
    bus = InProcessBus(store)
    bus.subscribe(lambda doc: received.append(doc["session_id"]))
    for track in ("t1", "t2"):
        bus.publish(make_event("unlike", track, "s1"))
    assert bus.flush(timeout=30)
    bus.close()
    assert received == []
    assert store.db.likes.count_documents({"liked": False}) == 2  # both events were processed
    assert session_state(store).liked(["t1", "t2"]) == set()
