"""The one exception tree of the engine: every failure a user can meet is an ``EncoreError``."""


class EncoreError(Exception):
    """Base class of every error Encore raises on purpose."""


class DecodeError(EncoreError):
    """A file could not be read as audio (corrupt, empty, not audio, unreadable path)."""


class StoreError(EncoreError):
    """The database could not be reached or refused an operation."""


class DocumentError(StoreError):
    """The database refused one document (a value it cannot hold, too large, a duplicate path):
    that document's file is skipped, the rest of the work goes on."""


class ImportLockedError(EncoreError):
    """Another import is running on the same library (one at a time per library)."""


class BusError(EncoreError):
    """The event bus (Kafka) could not be reached or refused an operation."""


class EventError(EncoreError):
    """An event payload is malformed; ``reason`` says why, for the dead-letter topic."""


class ServiceError(EncoreError):
    """A local service (broker or database) could not be started or did not answer."""


class PlaybackError(EncoreError):
    """The audio device failed or a track could not be played."""


class NotFoundError(EncoreError):
    """A track id or path is not in the library."""
