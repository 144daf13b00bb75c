"""Typed play events and their validation: a consumer never trusts a payload.

Wire format (JSON): ``{"type": "play"|"skip"|"like"|"unlike"|"seed", "track_id", "session_id", "ts",
"position_s", "v": 1}``, and optionally ``"caps": [artist, album]``: the listener's radio variety
caps (at most that many tracks of one artist / album in any ``CAP_SPAN`` consecutive picks, 0 for
none), so that whichever worker answers sequences the radio the way this listener set it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from dataclasses import asdict, dataclass

from core.errors import EventError

SCHEMA_VERSION = 1
#: play, skip: the listener started or left a track early; like, unlike: the heart; seed: "start radio"
#: / "more like this" on a track, which becomes the session's seed.
EVENT_TYPES = frozenset({"play", "skip", "like", "unlike", "seed"})
MAX_EVENT_BYTES = 4096
#: A plain identifier: no operators ('$'), no nesting, no control characters. Checked with
#: ``fullmatch`` because ``$`` also matches before a trailing newline.
PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
#: The radio's variety caps count tracks in any run of this many picks (``RadioOptions.span``).
CAP_SPAN = 5


@dataclass(frozen=True)
class PlayEvent:
    """A play, skip or like of one track in one listening session."""

    type: str
    track_id: str
    session_id: str
    ts: float
    position_s: float = 0.0
    v: int = SCHEMA_VERSION
    #: (per artist, per album); ``None``: the worker's defaults. Not part of the event's identity.
    caps: tuple[int, int] | None = None

    @property
    def event_id(self) -> str:
        """Deterministic id, so a re-delivered event is stored once."""
        raw = f"{self.session_id}|{self.track_id}|{self.type}|{self.ts!r}".encode()
        return hashlib.sha1(raw).hexdigest()

    def to_json(self) -> bytes:
        """Wire form."""
        return json.dumps(self._fields(), separators=(",", ":"), allow_nan=False).encode()

    def as_doc(self) -> dict:
        """Storage form (with ``event_id``)."""
        return self._fields() | {"event_id": self.event_id}

    def _fields(self) -> dict:
        fields = asdict(self)
        if fields["caps"] is None:  # the wire form of an event without caps is unchanged
            del fields["caps"]
        return fields


def make_event(kind: str, track_id: str, session_id: str, position_s: float = 0.0, *,
               caps: tuple[int, int] | None = None) -> PlayEvent:
    """A new event stamped now, with the listener's radio ``caps`` if given (per artist, per
    album; 0: no cap); validated like any received one."""
    try:
        raw = PlayEvent(kind, track_id, session_id, time.time(), position_s, caps=caps).to_json()
    except ValueError as exc:  # NaN or infinite position: JSON without NaN refuses it
        raise EventError(f"position_s must be a finite number, got {position_s!r}") from exc
    return parse_event(raw)


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise EventError(reason)


def _require_time(field: str, value: object) -> None:
    """A finite, non-negative number: Python's JSON reads ``NaN`` and ``Infinity``, and a NaN
    ``ts`` would make every comparison (recent plays, ordering) silently false."""
    _require(isinstance(value, int | float) and not isinstance(value, bool),
             f"{field} must be a non-negative number, got {json.dumps(value)[:80]}")
    number = float(value) if abs(value) < 1e300 else math.inf  # huge ints overflow float()
    _require(math.isfinite(number) and number >= 0,
             f"{field} must be a finite non-negative number, got {str(value)[:80]}")


def _caps(value: object) -> tuple[int, int] | None:
    """Validated ``caps``: absent or null, else two whole numbers from 0 to ``CAP_SPAN``."""
    if value is None:
        return None
    _require(isinstance(value, list) and len(value) == 2
             and all(type(n) is int and 0 <= n <= CAP_SPAN for n in value),
             f"caps must be two whole numbers from 0 to {CAP_SPAN}, got {json.dumps(value)[:80]}")
    return value[0], value[1]


def parse_event(raw: bytes | str | None) -> PlayEvent:
    """Validate a wire payload.

    Parameters
    ----------
    raw : bytes or str
        The message value.

    Returns
    -------
    PlayEvent

    Raises
    ------
    EventError
        With the reason: oversized, not JSON, not an object, missing or wrongly typed fields,
        an unknown type or version, an id that is not a plain identifier (e.g. ``{"$ne": null}``
        or one with a control character), a ``ts`` / ``position_s`` that is negative, NaN or
        infinite, or ``caps`` that are not two whole numbers from 0 to ``CAP_SPAN``.
    """
    _require(raw is not None, "empty message")
    data = raw.encode() if isinstance(raw, str) else raw
    _require(len(data) <= MAX_EVENT_BYTES, f"oversized event ({len(data)} > {MAX_EVENT_BYTES} bytes)")
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"not valid JSON: {exc}") from exc
    _require(isinstance(obj, dict), "event is not a JSON object")
    missing = {"type", "track_id", "session_id", "ts", "v"} - obj.keys()
    _require(not missing, f"missing fields: {', '.join(sorted(missing))}")
    _require(obj["v"] == SCHEMA_VERSION and type(obj["v"]) is int,
             f"unsupported schema version {obj['v']!r}")
    _require(obj["type"] in EVENT_TYPES, f"unknown event type {obj['type']!r}")
    for field in ("track_id", "session_id"):
        value = obj[field]
        _require(isinstance(value, str) and bool(PLAIN_ID.fullmatch(value)),
                 f"{field} must be a plain identifier, got {json.dumps(value)[:80]}")
    for field in ("ts", "position_s"):
        _require_time(field, obj.get(field, 0.0))
    return PlayEvent(obj["type"], obj["track_id"], obj["session_id"], float(obj["ts"]),
                     float(obj.get("position_s", 0.0)), obj["v"], _caps(obj.get("caps")))
