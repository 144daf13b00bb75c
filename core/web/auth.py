"""The access token required when the page listens beyond loopback.

The token is printed when the server starts; a browser presents it once as ``?token=`` and then
holds it in a cookie; scripts send ``Authorization: Bearer TOKEN``.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request

COOKIE = "encore_token"


def _presented() -> list[str]:
    header = request.headers.get("Authorization", "")
    bearer = header[7:] if header.startswith("Bearer ") else ""
    return [value for value in (request.cookies.get(COOKIE), bearer) if value]


def _without_token() -> str:
    """The requested URL minus its ``token`` parameter (so it does not linger in history)."""
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
    return request.path + ("?" + urlencode(rest) if rest else "")


def require_token(app: Flask, token: str) -> None:
    """Refuse every request of ``app`` that does not carry ``token``.

    Parameters
    ----------
    app : Flask
    token : str
        The secret printed at start.
    """

    def matches(value: str) -> bool:
        return hmac.compare_digest(value.encode(), token.encode())

    @app.before_request
    def check() -> Response | None:
        given = request.args.get("token")
        if given is not None and matches(given):
            response = redirect(_without_token())
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
            return response
        if any(matches(value) for value in _presented()):
            return None
        return Response("This Encore page needs the token printed when `encore web` started: "
                        "open the address it printed (…/?token=…).\n", 401,
                        mimetype="text/plain")
