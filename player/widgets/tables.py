"""The look and keyboard behaviour every track table shares (library, browse, playlist)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

ROW_HEIGHT = 28


def track_table(object_name: str, model: QAbstractItemModel | None = None) -> QTableView:
    """A table of whole-row selection, alternating rows and fixed row heights.

    Parameters
    ----------
    object_name : str
        Its style-sheet name.
    model : QAbstractItemModel, optional
        Set before the caller sizes columns (sizes need the model's columns).
    """
    table = QTableView(objectName=object_name)
    if model is not None:
        table.setModel(model)
    table.setTabKeyNavigation(False)  # Tab moves between panes; arrows move between cells
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    # Fixed row heights: the view never measures 50,000 rows.
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    table.horizontalHeader().setHighlightSections(False)
    return table
