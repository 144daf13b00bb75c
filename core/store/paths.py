"""File paths at the database boundary: any path a filesystem allows, stored and read back losslessly.

Linux file names are bytes; Python hands undecodable bytes to us as lone surrogates
(``surrogateescape``), which BSON cannot encode. A path field that is not valid UTF-8 is stored as a
readable ``display`` string (undecodable bytes shown as ``\\xNN``) plus its exact bytes in
``<field>_raw``; every read puts the real path back, so the player opens the right file.
"""

from __future__ import annotations

import os

from bson.binary import Binary

#: Track fields that hold file paths.
PATH_FIELDS = ("path", "source_path", "original_path")


def display(text: str) -> str:
    """``text`` as printable UTF-8: undecodable bytes become ``\\xNN``, other lone surrogates ``\\uXXXX``.

    Parameters
    ----------
    text : str
        A path or a name, possibly holding ``surrogateescape`` characters.

    Returns
    -------
    str
        The same text when it is already valid UTF-8.
    """
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no byte produced
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def is_utf8(text: str) -> bool:
    """Whether ``text`` encodes to UTF-8 as it is (so BSON can store it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def encode_paths(doc: dict) -> dict:
    """A copy of a track document whose path fields BSON can store (see the module docstring)."""
    out = dict(doc)
    for field in PATH_FIELDS:
        value = doc.get(field)
        if isinstance(value, str) and not is_utf8(value):
            out[field] = display(value)
            out[f"{field}_raw"] = Binary(os.fsencode(value))
    return out


def decode_paths(doc: dict) -> dict:
    """Put the real paths back into a document read from the store (in place; returns it)."""
    for field in PATH_FIELDS:
        raw = doc.pop(f"{field}_raw", None)
        if raw is not None:
            doc[field] = os.fsdecode(bytes(raw))
    return doc


def with_raw_fields(projection: dict | None) -> dict | None:
    """A projection that also reads the ``_raw`` twin of every path field it includes."""
    if not projection:
        return projection
    extra = {f"{field}_raw": 1 for field in PATH_FIELDS if projection.get(field)}
    return {**projection, **extra}


def path_query(field: str, path: str) -> dict:
    """The filter that finds ``path`` in ``field`` however it was stored."""
    if is_utf8(path):
        return {field: path}
    return {f"{field}_raw": Binary(os.fsencode(path))}
