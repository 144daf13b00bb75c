"""The welcome page: its button, and drops of files and folders (real Qt drag events)."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from player.widgets.welcome import DropTarget, WelcomePage, local_paths
from tests.audio import sine, write


def mime(*urls: QUrl) -> QMimeData:
    data = QMimeData()
    data.setUrls(list(urls))
    return data


def drop(widget: QWidget, data: QMimeData) -> tuple[bool, bool]:
    """Drag ``data`` over ``widget`` and drop it: (enter accepted, drop accepted)."""
    pos = QPoint(widget.width() // 2, widget.height() // 2)
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    enter = QDragEnterEvent(pos, actions, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    dropped = QDropEvent(pos.toPointF(), actions, data, Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, dropped)
    return enter.isAccepted(), dropped.isAccepted()


def test_import_button(qtbot):
    page = WelcomePage()
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.importRequested):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    assert page.import_button.accessibleName() and page.drop_area.accessibleName()


def test_dropping_files_and_folders_emits_their_paths(qtbot, tmp_path):
    folder = tmp_path / "Album é"
    folder.mkdir()
    track = write(tmp_path / "single.wav", sine(seconds=0.1), 48000)
    page = WelcomePage()
    qtbot.addWidget(page)
    page.resize(600, 500)
    page.show()
    data = mime(QUrl.fromLocalFile(str(folder)), QUrl.fromLocalFile(str(track)),
                QUrl.fromLocalFile(str(folder)), QUrl("https://example.com/song.mp3"),
                QUrl.fromLocalFile(str(tmp_path / "gone.flac")))
    with qtbot.waitSignal(page.pathsDropped) as dropped:
        assert drop(page, data) == (True, True)
    assert dropped.args[0] == [str(folder), str(track)]


def test_drops_without_local_files_are_refused(qtbot):
    page = WelcomePage()
    qtbot.addWidget(page)
    page.show()
    with qtbot.assertNotEmitted(page.pathsDropped):
        assert drop(page, mime(QUrl("https://example.com/a.mp3"))) == (False, False)
        text = QMimeData()
        text.setText("/home/me/Music")
        assert drop(page, text) == (False, False)


def test_drop_area_highlights_while_hovering(qtbot, tmp_path):
    page = WelcomePage()
    qtbot.addWidget(page)
    page.show()
    data = mime(QUrl.fromLocalFile(str(tmp_path)))
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(page, enter)
    assert page.drop_area.property("hover") is True
    QApplication.sendEvent(page, QDragLeaveEvent())
    assert page.drop_area.property("hover") is False


def test_drop_target_on_any_widget(qtbot, tmp_path):
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(300, 200)
    window.show()
    target = DropTarget(window)
    target.watch(window)
    assert window.acceptDrops()
    with qtbot.waitSignal(target.pathsDropped) as dropped:
        drop(window, mime(QUrl.fromLocalFile(str(tmp_path))))
    assert dropped.args[0] == [str(tmp_path)]
    assert local_paths(QMimeData()) == []
