"""The Flask application: now playing, the recommended songs, their JSON, and queueing a song
in the running player."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask, abort, current_app, jsonify, render_template, request, url_for

from core.bus.player_commands import PlayerCommandPublisher
from core.errors import BusError, EventError, NotFoundError, StoreError
from core.presence import MAX_AGE_S, running_players
from core.store.mongo import MongoStore
from core.web import data
from core.web.auth import require_token

POLL_MS = 2000
_SESSION = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


@dataclass
class Page:
    """Everything one page (or its live fragment) shows."""

    session: str | None
    asked: str | None
    player_running: bool
    recs: dict | None
    plays: list[dict]

    @property
    def now_playing(self) -> dict | None:
        """The newest play of the session (skips are not what is playing)."""
        return next((p for p in self.plays if p["type"] == "play"), None)


@dataclass(frozen=True)
class Context:
    """What the views read from and publish to (``app.extensions["encore"]``)."""

    store: MongoStore
    commands: PlayerCommandPublisher | None
    presence_max_age_s: float
    poll_ms: int


def create_app(store: MongoStore, commands: PlayerCommandPublisher | None, *,
               token: str | None = None, presence_max_age_s: float = MAX_AGE_S,
               poll_ms: int = POLL_MS) -> Flask:
    """Build the web application.

    Parameters
    ----------
    store : MongoStore
        Read only: tracks, plays, recommendations and player heartbeats.
    commands : PlayerCommandPublisher or None
        Where queue commands go; ``None`` when Kafka is unreachable (queueing is refused).
    token : str, optional
        Required on every request when given (the server listens beyond loopback).
    presence_max_age_s : float
        A player whose last heartbeat is older counts as not running.
    poll_ms : int
        How often the page refreshes its live part.

    Returns
    -------
    Flask
    """
    app = Flask(__name__)
    app.extensions["encore"] = Context(store, commands, presence_max_age_s, poll_ms)
    if token is not None:
        require_token(app, token)
    app.add_url_rule("/", "index", lambda: _render("now.html", "index"))
    app.add_url_rule("/recommended_songs", "recommended_songs",
                     lambda: _render("recommended.html", "recommended_songs"))
    app.add_url_rule("/api/recommended_songs", "api_recommended_songs", api_recommended_songs)
    app.add_url_rule("/api/queue", "api_queue", api_queue, methods=["POST"])
    app.register_error_handler(StoreError, lambda exc: (jsonify({"error": str(exc)}), 503))
    return app


def _context() -> Context:
    return current_app.extensions["encore"]


def _page(session_arg: str | None) -> Page:
    ctx = _context()
    live = running_players(ctx.store, ctx.presence_max_age_s)
    session = session_arg or data.latest_session(ctx.store, live)
    recs = data.recommendations(ctx.store, session) if session else None
    plays = data.recent_plays(ctx.store, session) if session else []
    return Page(session, session_arg, session in live, recs, plays)


def _render(template: str, endpoint: str) -> str:
    """A whole page, or with ``?fragment=1`` only its live part (what the page polls)."""
    view = _page(_session_arg())
    fragment_url = url_for(endpoint, session=view.asked, fragment=1)
    name = f"_{template}" if request.args.get("fragment") else template
    return render_template(name, page=view, fragment_url=fragment_url, poll_ms=_context().poll_ms)


def api_recommended_songs():
    """``/api/recommended_songs[?session=ID]``: the top k as JSON (404 for an unknown session)."""
    view = _page(_session_arg())
    if view.recs is None:
        body = {"session": view.session, "recommendations": []}
        return jsonify(body), (404 if view.asked else 200)
    return jsonify(view.recs | {"player_running": view.player_running})


def _session_arg() -> str | None:
    value = request.args.get("session") or None
    if value is not None and not _SESSION.match(value):
        abort(400, "session must be a plain identifier")
    return value


def api_queue():
    """``POST /api/queue {session, track_id}``: refused unless the session's player is running."""
    ctx = _context()
    # A JSON body only: a cross-site form cannot send one without a CORS preflight we never grant.
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        return jsonify({"error": "send a JSON object {session, track_id}"}), 415
    session, track_id = body.get("session"), body.get("track_id")
    if not isinstance(session, str) or session not in running_players(ctx.store,
                                                                        ctx.presence_max_age_s):
        return jsonify({"error": "no player is running"}), 409
    if ctx.commands is None:
        return jsonify({"error": "Kafka is unreachable: cannot reach the player"}), 503
    try:
        track = ctx.store.get_track(track_id, data.TRACK_FIELDS)
        ctx.commands.queue(session, track["_id"])
    except NotFoundError as exc:
        return jsonify({"error": str(exc)}), 404
    except EventError as exc:
        return jsonify({"error": str(exc)}), 400
    except BusError as exc:
        return jsonify({"error": str(exc)}), 503
    return jsonify({"queued": track["_id"], "title": track.get("title"), "session": session})
