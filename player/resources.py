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


#: Style sheet file of each theme.
THEME_FILES = {"dark": "style.qss", "light": "style-light.qss"}


def style_sheet(theme: str = "dark") -> str:
    """The application style sheet of ``theme`` (``"dark"`` or ``"light"``).

    Raises
    ------
    ValueError
        For another theme.
    """
    if theme not in THEME_FILES:
        raise ValueError(f"theme must be one of {', '.join(THEME_FILES)}, not {theme!r}")
    # Image URLs in the sheet name icons as @icons/NAME.svg (where they are depends on the bundle).
    icons = (resource_dir() / "icons").as_posix()
    return (resource_dir() / THEME_FILES[theme]).read_text().replace("@icons/", icons + "/")
