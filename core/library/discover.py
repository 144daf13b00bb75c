"""Find the audio files under a folder, and the ones that cannot even be listed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.audio.decode import supported_extensions


@dataclass(frozen=True)
class Skipped:
    """A file left out of an import, and why."""

    path: str
    reason: str


def discover(root: str | os.PathLike, *, exclude: str | os.PathLike | None = None,
             ) -> tuple[list[str], list[Skipped]]:
    """Walk ``root`` recursively for files with a supported audio extension.

    Parameters
    ----------
    root : str or PathLike
        Folder to scan.
    exclude : str or PathLike, optional
        Encore's managed library: its copies are already tracks of the library (as the copies
        of their originals), so they are skipped with that reason instead of imported twice.

    Returns
    -------
    files : list of str
        Absolute paths, sorted.
    skipped : list of Skipped
        Entries with an audio extension that are not regular files (directories named
        ``x.mp3``, dangling links), the managed library and folders that could not be read.

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If ``root`` itself is missing or not a folder.
    """
    root = Path(root).absolute()
    if not root.exists():
        raise FileNotFoundError(f"folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    extensions = supported_extensions()
    files: list[str] = []
    skipped: list[Skipped] = []

    def unreadable(error: OSError) -> None:
        skipped.append(Skipped(str(error.filename), f"cannot read folder: {error.strerror}"))

    managed = Path(exclude).absolute() if exclude else None
    for folder, dirs, names in os.walk(root, onerror=unreadable, followlinks=False):
        if managed is not None and (managed == Path(folder) or managed in Path(folder).parents):
            skipped.append(Skipped(folder, "Encore's managed library: its copies are already "
                                           "in the library"))
            dirs.clear()  # not walked into
            continue
        for name in dirs + names:
            path = Path(folder) / name
            if path.suffix.lower() not in extensions:
                continue
            if name in dirs:
                skipped.append(Skipped(str(path), "a folder, not an audio file"))
            elif path.is_symlink() and not path.exists():
                skipped.append(Skipped(str(path), "dangling symbolic link"))
            else:
                files.append(str(path))
    return sorted(files), skipped
