"""The status bar's word on recommendations: degraded (and why), or back."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

BACK_SHOWN_MS = 8000


class HealthLabel(QLabel):
    """Collects problems by source (worker, broker, feed); shows the first one, then "back"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent, objectName="health")
        self.setAccessibleName(self.tr("Recommendations status"))
        self._problems: dict[str, str] = {}
        self._clear = QTimer(self, singleShot=True, interval=BACK_SHOWN_MS, timeout=self._fade)
        self.hide()

    @property
    def degraded(self) -> bool:
        """Whether any source reports a problem."""
        return bool(self._problems)

    def report(self, source: str, problem: str) -> None:
        """``problem`` from ``source`` (empty: that source is fine again)."""
        was = self.degraded
        if problem:
            self._problems[source] = problem
        else:
            self._problems.pop(source, None)
        if self._problems:
            self._clear.stop()
            self.setProperty("state", "degraded")
            first = next(iter(self._problems.values()))
            self.setText(self.tr("Recommendations degraded: {}").format(first))
            self.setToolTip("\n".join(self._problems.values()))
            self.show()
        elif was:
            self.setProperty("state", "ok")
            self.setText(self.tr("Recommendations are back"))
            self.setToolTip("")
            self._clear.start()
        self.style().polish(self)

    def _fade(self) -> None:
        self.setText("")
        self.hide()
