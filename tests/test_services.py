"""The local stack: start, reuse from a second process, status, and no orphans."""

import json
import os
import signal
import subprocess
import sys
import time

from core.config import Config
from core.services import LocalStack


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_dead(pid, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


STARTER = """
import sys, time, json
from pathlib import Path
from core.config import Config
from core.services import LocalStack
stack = LocalStack(Config(Path(sys.argv[1]), None, None))
info = {name: stack.ensure(name).__dict__ for name in ("mongo", "kafka")}
print(json.dumps(info), flush=True)
time.sleep(600)
"""


def test_children_die_with_their_parent_and_a_second_process_reuses_the_stack(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(parent.stdout.readline())
        # A second process (here: this one) finds the running pair instead of starting another.
        found = LocalStack(Config(tmp_path, None, None)).status()
        assert {n: found[n].port for n in found} == {n: info[n]["port"] for n in info}
        status = subprocess.run([sys.executable, "-m", "player.launch", "services", "status"],
                                env={**os.environ, "ENCORE_DATA_DIR": str(tmp_path)},
                                capture_output=True, text=True, check=True).stdout
        for name in ("mongo", "kafka"):
            assert f"{name}: running on 127.0.0.1:{info[name]['port']}" in status
        assert f"data {tmp_path / 'services' / 'mongo'}" in status
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    for name in ("mongo", "kafka"):
        assert _wait_dead(info[name]["pid"]), f"{name} outlived its parent"


def test_services_up_outlives_the_command_and_down_stops_it(tmp_path):
    env = {**os.environ, "ENCORE_DATA_DIR": str(tmp_path)}
    encore = [sys.executable, "-m", "player.launch", "services"]
    up = subprocess.run([*encore, "up"], env=env, capture_output=True, text=True, check=True)
    assert up.stdout.count("running on 127.0.0.1:") == 2
    running = LocalStack(Config(tmp_path, None, None)).status()
    assert set(running) == {"mongo", "kafka"}
    down = subprocess.run([*encore, "down"], env=env, capture_output=True, text=True, check=True)
    assert "mongo" in down.stdout and "kafka" in down.stdout
    assert all(_wait_dead(s.pid) for s in running.values())
    after = subprocess.run([*encore, "status"], env=env, capture_output=True, text=True, check=True)
    assert "mongo: not running" in after.stdout and "kafka: not running" in after.stdout


ORPHAN = """
import os, signal, subprocess, sys
# The middle process starts a child that ignores SIGTERM (like a database busy with a large
# insert), prints its pid and exits at once, orphaning it.
child = subprocess.Popen([sys.executable, "-c", (
    "import signal, time\\n"
    "from core.dbserver import follow_parent\\n"
    "follow_parent(grace_s=1.0, poll_s=0.1)\\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
    "print('ready', flush=True)\\n"
    "time.sleep(60)\\n")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
child.stdout.readline()
print(child.pid, flush=True)
os._exit(0)
"""


def test_a_busy_database_server_still_follows_its_parent_out():
    proc = subprocess.run([sys.executable, "-c", ORPHAN], capture_output=True, text=True, timeout=30,
                          check=True)
    pid = int(proc.stdout.split()[0])
    assert _alive(pid)  # orphaned, and it ignores SIGTERM
    assert _wait_dead(pid, timeout=5)  # the watchdog's hard exit after its grace period
