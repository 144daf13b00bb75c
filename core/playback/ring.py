"""A single-producer, single-consumer ring of audio frames shared by the decoder and the output.

The producer (the decoder thread) only moves ``write_pos`` and ``skip_to``; the consumer (the
audio callback) only moves ``read_pos``. Positions are absolute frame counts, never wrapped, so
each side reads the other's counter without a lock: a stale value only means "a little less
data" or "a little less space", never a torn read. The callback therefore never waits.
"""

from __future__ import annotations

import numpy as np


class FrameRing:
    """Preallocated float32 frames.

    Parameters
    ----------
    capacity : int
        Frames the ring holds.
    channels : int
        Channels per frame.
    """

    def __init__(self, capacity: int, channels: int):
        self.capacity = capacity
        self.channels = channels
        self.data = np.zeros((capacity, channels), dtype=np.float32)
        self.write_pos = 0
        self.read_pos = 0
        #: Frames before this are stale (written before a seek or a new track) and are dropped
        #: by the consumer on its next read.
        self.skip_to = 0

    def space(self) -> int:
        """Frames the producer may write now."""
        return self.capacity - (self.write_pos - max(self.read_pos, self.skip_to))

    def buffered(self) -> int:
        """Frames written and not yet consumed (after any pending skip)."""
        return self.write_pos - max(self.read_pos, self.skip_to)

    def discard(self) -> None:
        """Producer side: make everything written so far stale."""
        self.skip_to = self.write_pos

    def write(self, frames: np.ndarray) -> int:
        """Producer side: copy as many of ``frames`` as fit; returns how many."""
        count = min(len(frames), self.space())
        start = self.write_pos % self.capacity
        first = min(count, self.capacity - start)
        self.data[start : start + first] = frames[:first]
        self.data[: count - first] = frames[first:count]
        self.write_pos += count  # publish only after the copy
        return count

    def read_into(self, out: np.ndarray) -> int:
        """Consumer side: fill the head of ``out`` and return the frame count (no allocation)."""
        if self.read_pos < self.skip_to:
            self.read_pos = self.skip_to
        count = min(len(out), self.write_pos - self.read_pos)
        start = self.read_pos % self.capacity
        first = min(count, self.capacity - start)
        out[:first] = self.data[start : start + first]
        out[first:count] = self.data[: count - first]
        self.read_pos += count
        return count
