"""Configuration from the environment: where data lives and which servers to use."""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "encore"
# user:password@ after the scheme (MongoDB URIs percent-encode ':', '/' and '@' in credentials)
_CREDENTIALS = re.compile(r"(?<=://)([^/@:]*):[^/@]*@")
_SECRET_OPTION = re.compile(r"((?:password|secret|token)[^=&]*=)[^&]*", re.IGNORECASE)


@dataclass(frozen=True)
class Config:
    """Resolved settings.

    Attributes
    ----------
    data_dir : Path
        Root of Encore's own files (managed library, local servers' data, outbox).
    kafka_bootstrap : str or None
        ``host:port`` list of a Kafka cluster; ``None`` means "start the local broker".
    mongo_uri : str or None
        A MongoDB URI; ``None`` means "start the local database".
    topic : str
        Topic that carries play events.
    """

    data_dir: Path
    kafka_bootstrap: str | None
    mongo_uri: str | None
    topic: str = "music_topic"
    db_name: str = "encore"

    @property
    def library_dir(self) -> Path:
        """Folder of the managed (transcoded) copies."""
        return self.data_dir / "library"

    @property
    def services_dir(self) -> Path:
        """Folder of the local stack's state (ports file, database files, logs)."""
        return self.data_dir / "services"


def redact_uri(uri: str) -> str:
    """``uri`` for display: its password, and options named like one, replaced by ``***``.

    Examples
    --------
    >>> redact_uri("mongodb://alice:s3cret@db1,db2/?replicaSet=rs0")
    'mongodb://alice:***@db1,db2/?replicaSet=rs0'
    """
    return _SECRET_OPTION.sub(r"\1***", _CREDENTIALS.sub(r"\1:***@", uri))


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by this user only (0700), if it is missing.

    An existing folder keeps its mode: it may be one the user chose to share.

    Returns
    -------
    Path
        ``path``.
    """
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is filtered by the umask; this is not
    return path


def load_config() -> Config:
    """Read ``ENCORE_DATA_DIR``, ``ENCORE_KAFKA_BOOTSTRAP``, ``ENCORE_MONGO_URI``, ``ENCORE_TOPIC``.

    The data folder is created private to the user here, before any part of Encore writes into
    it (the outbox, the managed library and the local servers each create their own files).

    Returns
    -------
    Config
    """
    data = Path(os.environ.get("ENCORE_DATA_DIR") or platformdirs.user_data_dir(APP_NAME)).expanduser()
    # Best effort: whoever writes there first reports a folder that cannot be created.
    with contextlib.suppress(OSError):
        private_dir(data)
    return Config(
        data_dir=data,
        kafka_bootstrap=os.environ.get("ENCORE_KAFKA_BOOTSTRAP") or None,
        mongo_uri=os.environ.get("ENCORE_MONGO_URI") or None,
        topic=os.environ.get("ENCORE_TOPIC") or "music_topic",
        db_name=os.environ.get("ENCORE_DB") or "encore",
    )
