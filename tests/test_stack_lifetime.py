"""The local stack lives while any Encore process uses it, and stops after the last one.

Clients are real processes: ``encore worker`` with no servers configured, and small scripts
that resolve the stack the way every Encore command does. They leave normally (SIGTERM,
end of input) or are SIGKILLed.
"""

import json
import os
import signal
import subprocess
import sys

import psutil
import pymongo

from core.config import Config
from core.services import LocalStack, mongo_uri
from tests.test_services import alive, cli_env, recorded_pids, wait_for

CLIENT = """
import json, sys, time
from pathlib import Path
from core.config import Config
from core.services import resolve_kafka_bootstrap, resolve_mongo_uri
go = Path(sys.argv[2])
while not go.exists():  # all clients start resolving at the same moment
    time.sleep(0.005)
config = Config(Path(sys.argv[1]), None, None)
print(json.dumps([resolve_mongo_uri(config), resolve_kafka_bootstrap(config)]), flush=True)
sys.stdin.read()  # until the test closes stdin: then a normal exit
"""


def start_client(data, go):
    """A client process; it resolves the stack once ``go`` exists."""
    return subprocess.Popen([sys.executable, "-c", CLIENT, str(data), str(go)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def start_worker(data, log):
    """``encore worker`` with no servers configured: it brings up (or joins) the local stack."""
    return subprocess.Popen([sys.executable, "-m", "core.cli", "worker"], stdin=subprocess.DEVNULL,
                            env=cli_env(data, ENCORE_DB="lifetime"), stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


def uses_stack(data, pid):
    """Whether process ``pid`` is connected to both local servers."""
    ports = {info.port for info in LocalStack(Config(data, None, None)).status().values()}
    try:
        connected = {c.raddr.port for c in psutil.Process(pid).net_connections("tcp") if c.raddr}
    except psutil.NoSuchProcess:
        return False
    return len(ports) == 2 and ports <= connected


def supervisor_saw_only(data, pid):
    """Whether the supervisor has noticed that ``pid`` is its only client left."""
    log = data / "services" / "supervisor.log"
    changes = [line for line in log.read_text().splitlines() if "lease(s):" in line] if log.exists() else []
    return bool(changes) and f"1 lease(s): {pid}-" in changes[-1]


def wait_stack_gone(pids):
    """Wait until the supervisor and both servers have exited."""
    wait_for(lambda: not any(alive(pid) for pid in pids.values()), 30, f"the stack {pids} to stop")


def assert_serving(data, pids):
    """The same stack still runs and answers."""
    assert recorded_pids(data) == pids
    assert all(alive(pid) for pid in pids.values())
    port = LocalStack(Config(data, None, None)).status()["mongo"].port
    with pymongo.MongoClient(mongo_uri(port), serverSelectionTimeoutMS=5000) as client:
        client.admin.command("ping")


def stack_status(data):
    """``encore services status``."""
    return subprocess.run([sys.executable, "-m", "core.cli", "services", "status"], env=cli_env(data),
                          capture_output=True, text=True, check=True).stdout


def test_workers_share_the_stack_and_it_stops_after_the_last(tmp_path):
    data, logs = tmp_path / "data", [tmp_path / "w1.log", tmp_path / "w2.log"]
    first = start_worker(data, logs[0])
    second = None
    try:
        wait_for(lambda: uses_stack(data, first.pid), 60, "the first worker's stack")
        pids = recorded_pids(data)
        second = start_worker(data, logs[1])
        wait_for(lambda: uses_stack(data, second.pid), 60, "the second worker to join")
        first.send_signal(signal.SIGTERM)  # the worker that started the stack leaves
        assert first.wait(30) == 0, logs[0].read_text()[-3000:]
        assert_serving(data, pids)
        wait_for(lambda: supervisor_saw_only(data, second.pid), 20, "the supervisor to see one client")
        assert_serving(data, pids)
        assert second.poll() is None, logs[1].read_text()[-3000:]
        second.send_signal(signal.SIGKILL)  # the last one dies without a word
        second.wait(10)
        wait_stack_gone(pids)
        assert "mongo: not running" in stack_status(data)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_sigkilled_client_neither_stops_the_stack_nor_keeps_it_forever(tmp_path):
    data, go = tmp_path / "data", tmp_path / "go"
    go.touch()
    first = start_client(data, go)
    addresses = json.loads(first.stdout.readline())
    pids = recorded_pids(data)
    second = start_client(data, go)
    try:
        assert json.loads(second.stdout.readline()) == addresses
        first.kill()  # SIGKILL: its lease stays behind
        first.wait()
        assert_serving(data, pids)
        wait_for(lambda: supervisor_saw_only(data, second.pid), 20, "the dead client's lease reaped")
        assert_serving(data, pids)
        second.stdin.close()  # the last client leaves normally
        assert second.wait(30) == 0, second.stderr.read()
        wait_stack_gone(pids)
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_two_processes_starting_the_stack_at_once_share_one(tmp_path):
    data, go = tmp_path / "data", tmp_path / "go"
    clients = [start_client(data, go) for _ in range(2)]
    try:
        go.touch()
        answers = [client.stdout.readline() for client in clients]
        failed = [c.stderr.read() for c, answer in zip(clients, answers, strict=True) if not answer]
        assert not failed, failed
        assert json.loads(answers[0]) == json.loads(answers[1])
        pids = recorded_pids(data)
        for client in clients:
            client.stdin.close()
            assert client.wait(30) == 0
        wait_stack_gone(pids)
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
                client.wait()


def test_a_killed_supervisor_leaves_no_server_behind(tmp_path):
    data, go = tmp_path / "data", tmp_path / "go"
    go.touch()
    clients = [start_client(data, go)]
    try:
        addresses = json.loads(clients[0].stdout.readline())
        pids = recorded_pids(data)
        os.kill(pids["supervisor"], signal.SIGKILL)
        wait_stack_gone(pids)
        assert LocalStack(Config(data, None, None)).status() == {}
        # The next client brings up a new stack on the same addresses.
        clients.append(start_client(data, go))
        assert json.loads(clients[1].stdout.readline()) == addresses
        pids = recorded_pids(data)
    finally:
        for client in clients:
            client.kill()
            client.wait()
    wait_stack_gone(pids)
