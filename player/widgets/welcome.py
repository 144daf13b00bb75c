"""The first-run page (shown instead of an empty library) and drop import of files and folders.

``DropTarget`` is an event filter: installed on the welcome page, and on the main window, it
accepts drags of local files or folders and emits their paths; what to do with them (the import
wizard, or an import of those paths) is the window's decision.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from player.resources import icon

DROP_STYLE = ("#dropArea { border: 2px dashed palette(mid); border-radius: 14px; }"
              "#dropArea[hover=\"true\"] { border-color: palette(highlight); }"
              "#dropText { border: none; }")


def local_paths(mime: QMimeData) -> list[str]:
    """The existing local files and folders a drag carries, in order, without duplicates."""
    if not mime.hasUrls():
        return []
    paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
    return list(dict.fromkeys(os.path.abspath(p) for p in paths if p and os.path.exists(p)))


class DropTarget(QObject):
    """Accepts drops of local files and folders on the widgets it is installed on.

    Signals
    -------
    pathsDropped(list)
        Absolute paths of the dropped files and folders.
    hovering(bool)
        A drag that would be accepted entered (``True``) or left (``False``).
    """

    pathsDropped = Signal(list)
    hovering = Signal(bool)

    def watch(self, widget: QWidget) -> None:
        """Accept drops on ``widget``."""
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if not local_paths(event.mimeData()):
                return False
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            if kind == QEvent.Type.DragEnter:
                self.hovering.emit(True)
            return True
        if kind == QEvent.Type.DragLeave:
            self.hovering.emit(False)
            return False
        if kind == QEvent.Type.Drop:
            paths = local_paths(event.mimeData())
            self.hovering.emit(False)
            if not paths:
                return False
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.pathsDropped.emit(paths)
            return True
        return super().eventFilter(watched, event)


class WelcomePage(QWidget):
    """"Welcome to Encore": *Import a folder…* and a drop area.

    Signals
    -------
    importRequested()
        *Import a folder…* was clicked.
    pathsDropped(list)
        Files or folders were dropped on the page.
    """

    importRequested = Signal()
    pathsDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, objectName="welcome")
        self.setAccessibleName(self.tr("Welcome"))
        logo = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        logo.setPixmap(icon("encore").pixmap(96, 96))
        logo.setAccessibleName(self.tr("Encore logo"))
        title = QLabel(self.tr("Welcome to Encore"), objectName="welcomeTitle",
                       alignment=Qt.AlignmentFlag.AlignCenter)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(self.tr("Encore learns what to play next from how your music sounds.\n"
                               "Add your music to begin: Encore listens to every track once."),
                       objectName="welcomeText", alignment=Qt.AlignmentFlag.AlignCenter)
        self.import_button = QPushButton(self.tr("Import a folder…"), default=True, autoDefault=True)
        self.import_button.setAccessibleName(self.tr("Import a folder"))
        self.import_button.setMinimumSize(220, 42)
        self.import_button.clicked.connect(self.importRequested)
        self.drop_area = self._drop_area()
        self.target = DropTarget(self)
        self.target.watch(self)
        self.target.pathsDropped.connect(self.pathsDropped)
        self.target.hovering.connect(self._hover)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        for widget in (logo, title, intro):
            layout.addWidget(widget)
        layout.addSpacing(18)
        layout.addWidget(self.import_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(18)
        layout.addWidget(self.drop_area, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)

    def _drop_area(self) -> QFrame:
        area = QFrame(objectName="dropArea")
        area.setAccessibleName(self.tr("Drop area for music files and folders"))
        area.setMinimumSize(560, 130)
        area.setProperty("hover", False)
        # Palette colours, so the area follows a dark or a light theme.
        area.setStyleSheet(DROP_STYLE)
        text = QLabel(self.tr("…or drop folders and music files here"), objectName="dropText",
                      alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        font = text.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        text.setFont(font)
        formats = QLabel(self.tr("FLAC, MP3, Ogg Vorbis, Opus, WAV and M4A.\n"
                                 "Your files are never changed."), objectName="welcomeText",
                         alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        column = QVBoxLayout(area)
        column.addStretch(1)
        column.addWidget(text)
        column.addWidget(formats)
        column.addStretch(1)
        return area

    def _hover(self, on: bool) -> None:
        # The style sheet highlights the area while a drag is over the page.
        self.drop_area.setProperty("hover", on)
        self.drop_area.style().unpolish(self.drop_area)
        self.drop_area.style().polish(self.drop_area)
