"""A pymongo command listener base for tests that count commands as they start."""

from __future__ import annotations

from pymongo import monitoring


class StartedCommands(monitoring.CommandListener):
    """Implement ``started``; a command's success or failure is not counted."""

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass
