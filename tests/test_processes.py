"""Process settings of the analysis workers, observed through the kernel's page-fault counters."""

import subprocess
import sys

import pytest

FAULTS = """
import resource, sys
import numpy as np
from core.processes import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
np.ones(25_000_000, dtype=np.float32)  # 100 MB, freed at once
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones(25_000_000, dtype=np.float32)  # the same size again
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")
def test_kept_memory_is_reused_without_page_faults():
    # glibc unmapped it, so it faults in again: at least 48 faults even with 2 MB huge pages
    assert _faults("default") >= 40
    assert _faults("keep") < 10  # reused as it was
