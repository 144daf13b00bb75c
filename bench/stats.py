"""Formatting shared by the latency benchmarks."""

from __future__ import annotations

import numpy as np


def percentiles(values: list[float]) -> str:
    """``p50 … ms  p95 … ms`` of durations given in seconds."""
    ms = np.array(values) * 1000
    return f"p50 {np.percentile(ms, 50):7.1f} ms  p95 {np.percentile(ms, 95):7.1f} ms"
