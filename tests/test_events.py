"""Event validation: values Python's JSON accepts but an event must not carry."""

import json

import pytest

from core.errors import EventError
from core.events import make_event, parse_event


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


def test_make_event_refuses_a_non_finite_position():
    with pytest.raises(EventError, match="position_s"):
        make_event("play", "t1", "s1", float("nan"))
