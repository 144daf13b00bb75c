"""Small dialogs: services status and About."""

from __future__ import annotations

import html
from urllib.parse import urlsplit, urlunsplit

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QVBoxLayout, QWidget

from core.config import Config
from core.services import LocalStack

ABOUT = """<h3>Encore</h3>
<p>A music player that learns what to play next from how songs sound.</p>
<p>Recommendations come from audio shingles, MinHash/LSH and K-means clusters, computed by a
recommender worker that listens to your plays over Kafka and keeps everything in MongoDB.</p>
<p>GPL-3.0-or-later. Built with Qt (PySide6), librosa, PortAudio, libsndfile and more; see the README
for every licence.</p>"""


def hide_password(uri: str) -> str:
    """``uri`` with the password of its user info replaced by ``***`` (hosts and options kept)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "(a URI that cannot be parsed)"
    if parts.password is None:
        return uri
    hosts = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{hosts}"))


def services_text(config: Config, bootstrap: str | None, mongo: str) -> str:
    """HTML describing the servers this player uses (never a password)."""
    lines = [f"<b>MongoDB</b>: {html.escape(hide_password(mongo))}",
             f"<b>Kafka</b>: {html.escape(bootstrap or 'in-process event bus')}"]
    local = LocalStack(config).status()
    if local:
        lines.append("<br><b>Local stack</b> (started by Encore):")
        for info in local.values():
            lines.append(f"{info.name}: 127.0.0.1:{info.port}, pid {info.pid}, data {info.data_path}")
    else:
        lines.append("<br>No local stack is running: Encore uses the servers configured by "
                     "ENCORE_MONGO_URI / ENCORE_KAFKA_BOOTSTRAP.")
    return "<br>".join(lines)


class ServicesDialog(QDialog):
    """Library → Services status."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Services")
        label = QLabel(text, wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)
        self.resize(560, 220)


def show_about(parent: QWidget) -> None:
    """Help → About."""
    QMessageBox.about(parent, "About Encore", ABOUT)
