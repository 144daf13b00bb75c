"""``encore services``: up/down/status, safe stops, kept ports, private files, explicit config."""

import json
import os
import signal
import subprocess
import sys

import pymongo
import pytest

from core.config import Config
from core.services import LocalStack, mongo_uri
from tests.waiting import wait_for


def alive(pid):
    """Whether ``pid`` runs (a zombie is dead for our purposes)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def cli_env(data, **extra):
    """Environment for ``encore`` on the local stack in ``data`` (no servers configured)."""
    env = {**os.environ, "ENCORE_DATA_DIR": str(data), **extra}
    env.pop("ENCORE_MONGO_URI", None)
    env.pop("ENCORE_KAFKA_BOOTSTRAP", None)
    return env


def encore(data, *args, **kwargs):
    """Run ``encore ARGS`` and return its output (it must succeed)."""
    done = subprocess.run([sys.executable, "-m", "core.cli", *args], env=kwargs.pop("env", cli_env(data)),
                          capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, done.stderr
    return done.stdout


def recorded(data):
    """``stack.json``."""
    return json.loads((data / "services" / "stack.json").read_text())


def recorded_pids(data):
    """Every process ``stack.json`` names (servers, and the supervisor where there is one)."""
    return {name: entry["pid"] for name, entry in recorded(data).items()
            if isinstance(entry, dict) and "pid" in entry}


def kill_recorded(data):
    """SIGKILL every recorded process, as the OOM killer or a crash would, and wait until gone."""
    pids = recorded_pids(data)
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not any(alive(pid) for pid in pids.values()), 15, "the killed stack to be gone")
    return pids


def test_services_up_outlives_the_command_and_down_stops_it(tmp_path):
    data = tmp_path / "new" / "data"
    up = encore(data, "services", "up")
    assert up.count("running on 127.0.0.1:") == 2
    pids = recorded_pids(data)
    status = encore(data, "services", "status")
    assert "mongo: running" in status and "kafka: running" in status
    down = encore(data, "services", "down")
    assert down.strip() == "stopped: mongo, kafka"
    assert not any(alive(pid) for pid in pids.values())
    after = encore(data, "services", "status")
    assert "mongo: not running" in after and "kafka: not running" in after


def _modes(root):
    found = {root: root.stat().st_mode & 0o777}
    for path in root.rglob("*"):
        found[path] = path.stat().st_mode & 0o777
    return found


def test_local_servers_files_are_private_to_the_user(tmp_path):
    data = tmp_path / "data"
    encore(data, "services", "up", preexec_fn=lambda: os.umask(0o022))
    try:
        assert data.stat().st_mode & 0o777 == 0o700  # Encore created it: the outbox lives here
        modes = _modes(data / "services")
        assert (data / "services" / "mongo" / "WiredTiger") in modes  # the database's own files too
        shared = {str(p): oct(m) for p, m in modes.items() if m & 0o077}
        assert not shared, f"readable by others: {shared}"
    finally:
        encore(data, "services", "down")


def test_down_does_not_signal_a_pid_that_is_now_another_process(tmp_path):
    encore(tmp_path, "services", "up")
    kill_recorded(tmp_path)
    # After a reboot the recorded PIDs belong to other programs: here, sleepers of ours.
    state = recorded(tmp_path)
    sleepers = [subprocess.Popen(["sleep", "60"]) for _ in recorded_pids(tmp_path)]
    try:
        entries = [entry for entry in state.values() if isinstance(entry, dict) and "pid" in entry]
        for entry, sleeper in zip(entries, sleepers, strict=True):
            entry["pid"] = sleeper.pid
        (tmp_path / "services" / "stack.json").write_text(json.dumps(state))
        down = encore(tmp_path, "services", "down")
        assert down.strip() == "stopped: nothing was running"
        assert all(sleeper.poll() is None for sleeper in sleepers), "down signalled another program"
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()


def test_a_stack_json_without_start_times_is_not_trusted(tmp_path):
    # As an older Encore wrote it: PIDs only, here of a live program that is no server of ours.
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "services").mkdir()
        (tmp_path / "services" / "stack.json").write_text(json.dumps(
            {"mongo": {"name": "mongo", "pid": sleeper.pid, "port": 1, "data_path": "x", "owned": False},
             "ports": "garbage"}))
        stack = LocalStack(Config(tmp_path, None, None))
        assert stack.status() == {}
        assert stack.stop() == []
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_status_and_down_agree_after_the_stack_was_killed(tmp_path):
    encore(tmp_path, "services", "up")
    kill_recorded(tmp_path)
    status = encore(tmp_path, "services", "status")
    assert "mongo: not running" in status and "kafka: not running" in status
    assert encore(tmp_path, "services", "down").strip() == "stopped: nothing was running"


def _ports(data):
    return {name: entry["port"] for name, entry in recorded(data).items() if name in ("mongo", "kafka")}


def test_a_restarted_stack_keeps_its_ports(tmp_path):
    encore(tmp_path, "services", "up")
    ports = _ports(tmp_path)
    encore(tmp_path, "services", "down")
    encore(tmp_path, "services", "up")  # players and workers still know the old addresses
    try:
        assert _ports(tmp_path) == ports
        # A server that dies comes back on its port by itself.
        for name in ("kafka", "mongo"):
            old = recorded_pids(tmp_path)[name]
            os.kill(old, signal.SIGKILL)
            wait_for(lambda n=name, o=old: recorded_pids(tmp_path).get(n, o) != o, 30, f"{name} to restart")
        assert _ports(tmp_path) == ports
        with pymongo.MongoClient(mongo_uri(ports["mongo"]), serverSelectionTimeoutMS=5000) as client:
            client.admin.command("ping")
    finally:
        encore(tmp_path, "services", "down")


HOSTILE = '[server]\nenable_test_commands = true\n'


@pytest.mark.parametrize("where", ["cwd", "home"])
def test_the_database_reads_no_secantusd_toml_from_the_current_folder_or_home(tmp_path, where):
    cwd, home = tmp_path / "cwd", tmp_path / "home"
    found = cwd / "secantusd.toml" if where == "cwd" else home / ".secantus" / "secantusd.toml"
    found.parent.mkdir(parents=True)
    cwd.mkdir(exist_ok=True)
    found.write_text(HOSTILE)
    data = tmp_path / "data"
    encore(data, "services", "up", cwd=cwd, env=cli_env(data, HOME=str(home)))
    try:
        client = pymongo.MongoClient(mongo_uri(_ports(data)["mongo"]), serverSelectionTimeoutMS=5000)
        with pytest.raises(pymongo.errors.OperationFailure, match="no such command"):
            client.admin.command("configureFailPoint", "failCommand", mode="off")
        client.close()
    finally:
        encore(data, "services", "down")


def test_status_does_not_show_a_password_from_the_configured_uri(tmp_path):
    uri = "mongodb://alice:s3cr%40t@db1:27017,db2/?replicaSet=rs0&tlsCertificateKeyFilePassword=kpass9"
    status = encore(tmp_path, "services", "status", env={**cli_env(tmp_path), "ENCORE_MONGO_URI": uri})
    assert "mongo: external (mongodb://alice:***@db1:27017,db2/?replicaSet=rs0&" \
           "tlsCertificateKeyFilePassword=***)" in status
    assert "s3cr" not in status and "kpass9" not in status


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
    assert alive(pid)  # orphaned, and it ignores SIGTERM
    wait_for(lambda: not alive(pid), 5, "the watchdog's hard exit after its grace period")
