"""Why a file was left out of the library, in words a listener understands.

Import and rescan keep the technical reason (``Skipped.reason``: the decoder's message, the
path, the exception) for logs, ``--json`` and tooltips; ``plain_reason`` is what a person reads
first ("file is damaged (cut short)" rather than "flac decoder lost sync.").
"""

from __future__ import annotations

import re

#: Technical reason patterns and their plain words, first match wins (order matters: a decoder
#: that lost sync also says "not a readable audio file").
PLAIN_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), plain) for pattern, plain in (
        (r"lost sync|end of file|truncat|premature end|cut short", "file is damaged (cut short)"),
        (r"not finite|corrupt", "file is damaged"),
        (r"^empty file", "file is empty"),
        (r"no audio frames|decoded to zero samples", "file contains no sound"),
        (r"a folder, not an audio file|not a regular file|not a readable audio file",
         "not an audio file"),
        (r"dangling symbolic link", "link to a file that no longer exists"),
        (r"^file not found", "file no longer exists"),
        (r"^cannot open .*permission denied", "no permission to read the file"),
        (r"^cannot open ", "file cannot be opened"),
        (r"^cannot read folder", "folder cannot be read"),
        (r"^folder not found", "folder no longer exists (its tracks are kept)"),
        (r"managed library", "Encore's own copies (already in the library)"),
        (r"analysis process died", "analysing it failed twice (the system stopped it, e.g. "
                                   "out of memory)"),
        (r"encoded copy does not decode", "the enhanced copy could not be made"),
        (r"^[A-Za-z]*(Error|Exception)\b", "could not be analysed (an error in Encore)"),
    ))


def plain_reason(reason: str) -> str:
    """The plain-words version of a skip reason.

    Parameters
    ----------
    reason : str
        ``Skipped.reason`` as import, rescan or discovery give it.

    Returns
    -------
    str
        A short phrase such as ``"not an audio file"`` or ``"file is damaged (cut short)"``;
        a reason no pattern knows is returned unchanged (better technical than wrong).
    """
    for pattern, plain in PLAIN_REASONS:
        if pattern.search(reason):
            return plain
    return reason
