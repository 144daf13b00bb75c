"""The player's settings: one JSON file in ``$ENCORE_DATA_DIR`` (not ``~/.config``); the window's
geometry, volume and queue go to an INI file beside it (``window_state``), where the main window's
``QSettings`` calls keep working unchanged.

A file that is not valid JSON is kept aside as ``settings.json.bad`` and the defaults are used; a
value of the wrong type falls back to its default alone. Nothing a listener set is dropped silently:
both cases are logged.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from PySide6.QtCore import QSettings

from core.config import Config
from core.events import CAP_SPAN

REPLAYGAIN_MODES = ("track", "album", "off")
THEMES = ("dark", "light", "system")
log = logging.getLogger("encore.player.settings")


@dataclass
class Settings:
    """Everything the player remembers.

    Attributes
    ----------
    output_device : str or None
        PortAudio device name (``None``: the system's default).
    replaygain : str
        One of ``REPLAYGAIN_MODES``.
    preamp_db : float
        Added to the ReplayGain gain (−15..+15 dB).
    radio_max_per_artist, radio_max_per_album : int
        Variety caps of the radio in every five picks (0: no cap).
    theme : str
        One of ``THEMES``.
    notifications : bool
        A desktop notification when the track changes.
    """

    output_device: str | None = None
    replaygain: str = "track"
    preamp_db: float = 0.0
    radio_max_per_artist: int = 2
    radio_max_per_album: int = 2
    theme: str = "dark"
    notifications: bool = False

    def validated(self) -> Settings:
        """A copy with every out-of-range value replaced by its default (and logged)."""
        default, values = Settings(), asdict(self)
        checks = {"replaygain": lambda v: v in REPLAYGAIN_MODES, "theme": lambda v: v in THEMES,
                  "preamp_db": lambda v: -15 <= v <= 15,
                  # events refuse caps beyond the span they count in
                  "radio_max_per_artist": lambda v: 0 <= v <= CAP_SPAN,
                  "radio_max_per_album": lambda v: 0 <= v <= CAP_SPAN}
        for name, ok in checks.items():
            if not ok(values[name]):
                log.warning("setting %s=%r is out of range: using %r", name, values[name],
                            getattr(default, name))
                values[name] = getattr(default, name)
        return Settings(**values)


def settings_path(config: Config) -> Path:
    """``<data dir>/settings.json``."""
    return config.data_dir / "settings.json"


def window_state(config: Config) -> QSettings:
    """Window geometry, volume, shuffle, repeat, radio and queue: ``<data dir>/window.ini``."""
    return QSettings(str(config.data_dir / "window.ini"), QSettings.Format.IniFormat)


def _typed(name: str, value, default):
    """``value`` if it has the type of ``default`` (ints accepted for floats), else ``default``."""
    expected = type(default)
    if name == "output_device" and (value is None or isinstance(value, str)):
        return value
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    log.warning("setting %s=%r is not a %s: using %r", name, value, expected.__name__, default)
    return default


def load_settings(path: str | os.PathLike) -> Settings:
    """The settings stored at ``path`` (defaults where it is missing or unreadable).

    Parameters
    ----------
    path : str or PathLike
        ``settings_path(config)``.

    Returns
    -------
    Settings
        Unknown keys are ignored; bad values take their default.
    """
    path = Path(path)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _set_aside(path, exc)
    if not isinstance(stored, dict):
        return _set_aside(path, ValueError("not a JSON object"))
    default = Settings()
    values = {f.name: _typed(f.name, stored[f.name], getattr(default, f.name))
              for f in fields(Settings) if f.name in stored}
    return Settings(**values).validated()


def _set_aside(path: Path, exc: Exception) -> Settings:
    bad = path.with_name(path.name + ".bad")
    try:
        os.replace(path, bad)
    except OSError:
        bad = path
    log.warning("settings file %s is unreadable (%s): kept as %s, using the defaults", path, exc, bad)
    return Settings()


def save_settings(settings: Settings, path: str | os.PathLike) -> None:
    """Write ``settings`` to ``path`` atomically (a crash leaves the old file or the new one).

    Raises
    ------
    OSError
        If the folder cannot be written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(settings.validated()), out, indent=2, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
