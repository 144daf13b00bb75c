"""Starting the player where it cannot open a window."""

from __future__ import annotations

import os
import subprocess
import sys


def test_no_display_says_what_to_do_instead_of_a_qt_abort(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["ENCORE_DATA_DIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "player"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "no display" in proc.stderr and "encore import" in proc.stderr
    assert "Traceback" not in proc.stderr and "plugin" not in proc.stderr
