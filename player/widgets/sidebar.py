"""The recommendations sidebar: five tracks like the one playing (or the one the listener asked
about), each with a heart, one score and a plain-language reason; details in a tooltip."""

from __future__ import annotations

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from core.playback.source import PlayItem
from player.resources import icon
from player.widgets.reason_tip import tooltip

REC_ROLE = Qt.ItemDataRole.UserRole + 1
LIKED_ROLE = Qt.ItemDataRole.UserRole + 2
PILL_W, HEART_W = 46, 20
ORIGINS = {"worker": QT_TRANSLATE_NOOP("RecommendationSidebar", "by the recommender worker"),
           "local": QT_TRANSLATE_NOOP("RecommendationSidebar", "by this player (no broker)")}


def shown_score(rec: dict) -> int:
    """A recommendation's score as its pill shows it, in percent."""
    return round(100 * (rec.get("score") or 0))


def accessible_text(rec: dict) -> str:
    """What a screen reader says for an entry: title, artist, score and reason."""
    text = QCoreApplication.translate("RecommendationSidebar", "{title}, by {artist}, {score}% match: {why}")
    return text.format(title=rec.get("title") or rec["id"],
                       artist=rec.get("artist") or QCoreApplication.translate("RecommendationSidebar",
                                                                              "unknown artist"),
                       score=shown_score(rec), why=rec.get("why", ""))


def heart_rect(rect: QRect) -> QRect:
    """Where an entry's heart is drawn (and clicked), left of its score."""
    box = rect.adjusted(10, 6, -10, -6)
    return QRect(box.right() - PILL_W - HEART_W - 6, box.top(), HEART_W, 18)



class RecommendationDelegate(QStyledItemDelegate):
    """Title, artist, a score pill and the reason, in three lines."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(option.rect.width(), 64)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        rec = index.data(REC_ROLE)
        box = option.rect.adjusted(10, 6, -10, -6)
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, QColor("#3b2f63"))
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(option.rect, QColor("#221f30"))
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor("#e9e7f2"))
        metrics = painter.fontMetrics()
        head = box.width() - PILL_W - HEART_W - 12
        title = metrics.elidedText(rec.get("title") or rec["id"], Qt.TextElideMode.ElideRight, head)
        painter.drawText(QRect(box.left(), box.top(), head, 18), Qt.AlignmentFlag.AlignLeft, title)
        heart = "heart-filled" if index.data(LIKED_ROLE) else "heart"
        icon(heart).paint(painter, heart_rect(option.rect))
        pill = QRect(box.right() - PILL_W, box.top(), PILL_W, 18)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#134e4a"))
        painter.drawRoundedRect(pill, 9, 9)
        painter.setPen(QColor("#5eead4"))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, f"{shown_score(rec)}%")
        painter.setFont(option.font)
        painter.setPen(QColor("#a8a3bd"))
        by = " — ".join(p for p in (rec.get("artist"), rec.get("album")) if p)
        painter.drawText(QRect(box.left(), box.top() + 19, box.width(), 17), Qt.AlignmentFlag.AlignLeft,
                         metrics.elidedText(by or QCoreApplication.translate("RecommendationSidebar",
                                                                             "Unknown artist"),
                                            Qt.TextElideMode.ElideRight,
                                            box.width()))
        small = QFont(option.font)
        small.setPointSizeF(option.font.pointSizeF() * 0.85)
        painter.setFont(small)
        painter.setPen(QColor("#7c7794"))
        small_metrics = painter.fontMetrics()
        painter.drawText(QRect(box.left(), box.top() + 36, box.width(), 16), Qt.AlignmentFlag.AlignLeft,
                         small_metrics.elidedText(rec.get("why", ""), Qt.TextElideMode.ElideRight,
                                                  box.width()))
        painter.restore()


class RecommendationSidebar(QWidget):
    """Shows the feed; a click (or Enter) queues a track, a double-click plays it next, a click
    on the heart likes it.

    Signals
    -------
    queueRequested(dict)
    playNextRequested(dict)
    likeRequested(dict, bool)
    """

    queueRequested = Signal(object)
    playNextRequested = Signal(object)
    likeRequested = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.title = QLabel(self.tr("Up next for you"), objectName="sidebarTitle")
        self.hint = QLabel(self.tr("Play a track to get recommendations."), objectName="sidebarHint",
                           wordWrap=True)
        self.warning = QLabel("", objectName="sidebarWarning", wordWrap=True)
        self.warning.hide()
        self.list = QListWidget(objectName="recommendations")
        self.list.setAccessibleName(self.tr("Recommendations"))
        self.list.setAccessibleDescription(self.tr("Enter queues a track; double-click plays it next"))
        self.list.setItemDelegate(RecommendationDelegate(self.list))
        self.list.setMouseTracking(True)
        self.list.installEventFilter(self)
        self.list.viewport().installEventFilter(self)
        #: Ids of liked tracks (the window shares its listening history's set).
        self.liked: set[str] = set()
        # A single click waits out the double-click interval so a double-click does not also queue.
        self._click = QTimer(self, singleShot=True, interval=QApplication.doubleClickInterval())
        self._click.timeout.connect(self._queue_current)
        self.list.itemClicked.connect(lambda _item: self._click.start())
        self.list.itemDoubleClicked.connect(self._play_next)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        for widget in (self.title, self.hint, self.warning):
            layout.addWidget(widget)
        layout.addWidget(self.list, 1)

    def show_waiting(self, item: PlayItem) -> None:
        """A new track plays (or was asked about): recommendations are on their way."""
        self.list.clear()
        self.title.setText(self.tr("More like “{}”").format(item.title))
        self.hint.setText(self.tr("Finding tracks that sound like “{}”…").format(item.title))

    def show_problem(self, message: str) -> None:
        """Warn (empty message: hide the warning)."""
        self.warning.setText(message)
        self.warning.setVisible(bool(message))

    def show_recommendations(self, recs: list[dict], source: str) -> None:
        """Fill the list, highest shown score first.

        The recommender chooses the tracks with artist and album caps, which can place a track
        below one it outscores; the list is read by its percentages, so it is ordered by them
        (ties keep the recommender's order).
        """
        self.list.clear()
        for rec in sorted(recs, key=lambda r: -shown_score(r)):
            item = QListWidgetItem()
            item.setData(REC_ROLE, rec)
            item.setData(LIKED_ROLE, rec["id"] in self.liked)
            item.setToolTip(tooltip(rec))
            item.setData(Qt.ItemDataRole.AccessibleTextRole, accessible_text(rec))
            self.list.addItem(item)
        origin = self.tr(ORIGINS.get(source, QT_TRANSLATE_NOOP("RecommendationSidebar",
                                                               "from the library")))
        self.hint.setText(self.tr("{} tracks, chosen {}. Click to queue, double-click to play next.")
                          .format(len(recs), origin) if recs else self.tr("No similar tracks found."))

    def recommendations(self) -> list[dict]:
        """What the list shows."""
        return [self.list.item(i).data(REC_ROLE) for i in range(self.list.count())]

    def refresh_hearts(self) -> None:
        """Redraw the hearts after a like elsewhere."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setData(LIKED_ROLE, item.data(REC_ROLE)["id"] in self.liked)

    def heart_clicked(self, pos: QPoint) -> bool:
        """A click at ``pos`` (viewport coordinates) on a heart: like or unlike that entry."""
        item = self.list.itemAt(pos)
        if item is None or not heart_rect(self.list.visualItemRect(item)).contains(pos):
            return False
        rec = item.data(REC_ROLE)
        self.likeRequested.emit(rec, rec["id"] not in self.liked)
        return True

    def eventFilter(self, watched, event) -> bool:
        presses = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick)
        if (watched is self.list.viewport() and event.type() in presses
                and self.heart_clicked(event.position().toPoint())):
            return True  # a heart click neither selects nor queues
        if (watched is self.list and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self._queue_current()
            return True
        return super().eventFilter(watched, event)

    def _queue_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.queueRequested.emit(item.data(REC_ROLE))

    def _play_next(self, item: QListWidgetItem) -> None:
        self._click.stop()
        self.playNextRequested.emit(item.data(REC_ROLE))
