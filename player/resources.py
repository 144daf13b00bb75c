"""Icons and the style sheet, from ``resources/`` next to the package (or inside a frozen app)."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon


def resource_dir() -> Path:
    """``resources/`` of the source tree, or of a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) / "resources" if bundle else Path(__file__).resolve().parents[1] / "resources"


@cache
def icon(name: str) -> QIcon:
    """An icon from ``resources/icons/NAME.svg``."""
    return QIcon(str(resource_dir() / "icons" / f"{name}.svg"))


def style_sheet() -> str:
    """The application style sheet."""
    return (resource_dir() / "style.qss").read_text()
