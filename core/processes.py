# SPDX-License-Identifier: GPL-2.0-or-later
# Unlike the rest of Encore (GPL-3.0-or-later): this file is frozen into the encore-db program
# together with GPL-2.0-only SecantusDB, so it must be GPL-2.0 compatible.
"""Process-level OS settings for Encore's helper processes (Linux, glibc; no-ops elsewhere)."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys

_PR_SET_PDEATHSIG = 1
# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent dies (run in the child)."""
    libc = _libc()
    if libc is not None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def keep_freed_memory() -> bool:
    """Make malloc reuse freed memory instead of returning it to the kernel.

    Analysis allocates and frees arrays of hundreds of megabytes per track. By default glibc maps
    each with ``mmap`` and unmaps it on free, so every track faults in (and the kernel zeroes) all
    of that memory again. On virtual machines those faults stall the other vCPUs: a real-time
    thread woke up to 29 ms late during analysis, against 2 ms when the memory is kept
    (``bench/wakeup.py``). The cost is that a process holds on to its peak footprint until it
    exits, so only the analysis workers (which end with their import) and the local database
    server (which keeps its working set anyway) do this, not the player.

    Returns
    -------
    bool
        Whether the allocator accepted the settings (False off glibc).
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    # Every allocation from the heap, and never trim it: freed blocks are reused as they are.
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
