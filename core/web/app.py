"""The Flask application: now playing, the recommended songs, their JSON, and queueing a song
in the running player."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask, abort, jsonify, render_template, request, url_for

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
    if token is not None:
        require_token(app, token)

    def page(session_arg: str | None) -> Page:
        live = running_players(store, presence_max_age_s)
        session = session_arg or data.latest_session(store, live)
        recs = data.recommendations(store, session) if session else None
        plays = data.recent_plays(store, session) if session else []
        return Page(session, session_arg, session in live, recs, plays)

    def render(template: str, endpoint: str):
        view = page(_session_arg())
        fragment_url = url_for(endpoint, session=view.asked, fragment=1)
        name = f"_{template}" if request.args.get("fragment") else template
        return render_template(name, page=view, fragment_url=fragment_url, poll_ms=poll_ms)

    @app.get("/")
    def index():
        return render("now.html", "index")

    @app.get("/recommended_songs")
    def recommended_songs():
        return render("recommended.html", "recommended_songs")

    @app.get("/api/recommended_songs")
    def api_recommended_songs():
        view = page(_session_arg())
        if view.recs is None:
            body = {"session": view.session, "recommendations": []}
            return jsonify(body), (404 if view.asked else 200)
        return jsonify(view.recs | {"player_running": view.player_running})

    @app.post("/api/queue")
    def api_queue():
        return _queue(store, commands, presence_max_age_s)

    @app.errorhandler(StoreError)
    def store_down(exc: StoreError):
        return jsonify({"error": str(exc)}), 503

    return app


def _session_arg() -> str | None:
    value = request.args.get("session") or None
    if value is not None and not _SESSION.match(value):
        abort(400, "session must be a plain identifier")
    return value


def _queue(store: MongoStore, commands: PlayerCommandPublisher | None, max_age_s: float):
    """Publish a queue command; refused unless the session's player is running."""
    # A JSON body only: a cross-site form cannot send one without a CORS preflight we never grant.
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        return jsonify({"error": "send a JSON object {session, track_id}"}), 415
    session, track_id = body.get("session"), body.get("track_id")
    if session not in running_players(store, max_age_s):
        return jsonify({"error": "no player is running"}), 409
    if commands is None:
        return jsonify({"error": "Kafka is unreachable: cannot reach the player"}), 503
    try:
        track = store.get_track(track_id, data.TRACK_FIELDS)
        commands.queue(session, track["_id"])
    except NotFoundError as exc:
        return jsonify({"error": str(exc)}), 404
    except EventError as exc:
        return jsonify({"error": str(exc)}), 400
    except BusError as exc:
        return jsonify({"error": str(exc)}), 503
    return jsonify({"queued": track["_id"], "title": track.get("title"), "session": session})
