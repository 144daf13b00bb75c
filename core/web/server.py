"""``encore web``: serve the page on loopback, or anywhere with a token."""

from __future__ import annotations

import logging
import secrets
import signal
import sys

from werkzeug.serving import make_server

from core.bus.player_commands import PlayerCommandPublisher
from core.config import Config
from core.errors import ServiceError
from core.web.app import create_app

log = logging.getLogger("encore.web")
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def needs_token(host: str) -> bool:
    """Anything but the default loopback addresses is reachable by others: require a token."""
    return host not in LOOPBACK


def _publisher(config: Config) -> PlayerCommandPublisher | None:
    from core.services import resolve_kafka_bootstrap

    try:
        return PlayerCommandPublisher(resolve_kafka_bootstrap(config))
    except ServiceError as exc:
        log.warning("%s: the page cannot queue songs in a player", exc)
        return None


def _stop(*_) -> None:
    raise SystemExit(0)  # leaves serve_forever on the main thread; the finally closes the socket


def run_web(config: Config, host: str, port: int) -> int:
    """Serve until SIGINT/SIGTERM.

    Parameters
    ----------
    config : Config
        Which database and broker.
    host, port : str, int
        Where to listen.

    Returns
    -------
    int
        Exit status.
    """
    from core.cli.common import open_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    store = open_store(config)
    commands = _publisher(config)
    token = secrets.token_urlsafe(24) if needs_token(host) else None
    server = make_server(host, port, create_app(store, commands, token=token), threaded=True)
    address = f"[{host}]" if ":" in host else host
    url = f"http://{address}:{server.server_port}/"
    print(f"Encore web page: {url}" + (f"?token={token}" if token else ""), flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        if commands is not None:
            commands.close()
        store.close()
    sys.stdout.flush()
    return 0
