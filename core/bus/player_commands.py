"""Commands to a running player over Kafka (topic ``player_commands``, keyed by session).

The web page publishes ``queue`` commands; the player of that session follows its key's
partition and adds the track to its queue. ``PlayerRemote`` bundles what a player needs for it
(the listener and the presence heartbeat) without any Qt.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from kafka import KafkaProducer
from kafka.errors import KafkaError

from core.bus.admin import create_missing_topics
from core.bus.listen import RecommendationListener
from core.errors import BusError, EventError
from core.events import PLAIN_ID
from core.presence import Heartbeat
from core.store.mongo import MongoStore

log = logging.getLogger("encore.bus")
PLAYER_COMMANDS = "player_commands"
PARTITIONS = 3
COMMAND_VERSION = 1
MAX_COMMAND_BYTES = 1024
#: Commands older than this when a listener starts are not replayed into a new player.
REPLAY_SLACK_S = 5.0


@dataclass(frozen=True)
class QueueCommand:
    """Add ``track_id`` to the queue of the player running ``session_id``."""

    session_id: str
    track_id: str
    ts: float
    command_id: str
    type: str = "queue"
    v: int = COMMAND_VERSION

    def to_json(self) -> bytes:
        """Wire form."""
        return json.dumps(asdict(self), separators=(",", ":")).encode()


def make_queue_command(session_id: str, track_id: str) -> QueueCommand:
    """A new, validated queue command stamped now."""
    return parse_command(QueueCommand(session_id, track_id, time.time(),
                                      uuid.uuid4().hex).to_json())


def parse_command(raw: bytes | None) -> QueueCommand:
    """Validate a wire payload.

    Raises
    ------
    EventError
        With the reason: oversized, not a JSON object, unknown type or version, or ids that are
        not plain identifiers.
    """
    if raw is None or len(raw) > MAX_COMMAND_BYTES:
        raise EventError("empty or oversized command")
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"command is not valid JSON: {exc}") from exc
    if not isinstance(obj, dict) or obj.get("type") != "queue" or obj.get("v") != COMMAND_VERSION:
        raise EventError("not a version-1 queue command")
    for field in ("session_id", "track_id", "command_id"):
        if not isinstance(obj.get(field), str) or not PLAIN_ID.fullmatch(obj[field]):
            raise EventError(f"{field} must be a plain identifier")
    if not isinstance(obj.get("ts"), int | float) or isinstance(obj["ts"], bool):
        raise EventError("ts must be a number")
    return QueueCommand(obj["session_id"], obj["track_id"], float(obj["ts"]), obj["command_id"])


class PlayerCommandPublisher:
    """Publishes commands, each acknowledged by the broker before ``queue`` returns.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers.
    """

    def __init__(self, bootstrap: str):
        self.bootstrap = bootstrap
        self._producer: KafkaProducer | None = None

    def queue(self, session_id: str, track_id: str) -> QueueCommand:
        """Ask the player of ``session_id`` to queue ``track_id``.

        Raises
        ------
        EventError
            If an id is not a plain identifier.
        BusError
            If the broker cannot be reached.
        """
        command = make_queue_command(session_id, track_id)
        try:
            if self._producer is None:
                create_missing_topics(self.bootstrap, {PLAYER_COMMANDS: PARTITIONS})
                self._producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                               request_timeout_ms=5000, max_block_ms=5000)
            self._producer.send(PLAYER_COMMANDS, key=session_id.encode(),
                                value=command.to_json()).get(timeout=10)
        except KafkaError as exc:
            raise BusError(f"cannot send the command to Kafka at {self.bootstrap}: {exc}") from exc
        return command

    def close(self) -> None:
        """Release the producer."""
        if self._producer is not None:
            self._producer.close(timeout=2)
            self._producer = None


class PlayerCommandListener(RecommendationListener):
    """Calls ``on_command(command)`` for each ``QueueCommand`` sent to ``session_id``.

    Commands stamped before the listener started (less a few seconds of clock slack) are not
    replayed; a command delivered twice is handed over once.

    Parameters
    ----------
    bootstrap : str
        Kafka bootstrap servers.
    session_id : str
        The player's session.
    on_command : callable
        Called on the listener's thread.
    on_error : callable
        ``on_error(message)`` when the broker cannot be reached (retried with backoff).
    """

    topic = PLAYER_COMMANDS

    def __init__(self, bootstrap: str, session_id: str,
                 on_command: Callable[[QueueCommand], None], on_error: Callable[[str], None]):
        self.since = time.time() - REPLAY_SLACK_S
        self._seen: set[str] = set()
        super().__init__(bootstrap, session_id, on_command, on_error)

    def _deliver(self, value: bytes) -> None:
        try:
            command = parse_command(value)
        except EventError as exc:
            log.warning("ignoring a player command: %s", exc)
            return
        if command.ts < self.since or command.command_id in self._seen:
            return
        self._seen.add(command.command_id)
        self.on_doc(command)


class PlayerRemote:
    """Lets the web page drive a running player: a presence heartbeat plus the command listener.

    Parameters
    ----------
    store : MongoStore
        Where the heartbeat goes.
    bootstrap : str
        Kafka bootstrap servers.
    session_id : str
        The player's listening session.
    on_queue : callable
        ``on_queue(track_id)``, called on the listener's thread: hand it to the UI thread.
    on_error : callable, optional
        ``on_error(message)`` when Kafka is unreachable (default: log it).
    """

    def __init__(self, store: MongoStore, bootstrap: str, session_id: str,
                 on_queue: Callable[[str], None],
                 on_error: Callable[[str], None] | None = None):
        self.heartbeat = Heartbeat(store, session_id)
        self.listener = PlayerCommandListener(bootstrap, session_id,
                                              lambda command: on_queue(command.track_id),
                                              on_error or log.warning)

    def close(self) -> None:
        """Stop listening and beating (the page then says no player is running)."""
        self.listener.close()
        self.heartbeat.close()
