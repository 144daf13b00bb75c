"""The import under faults: odd files, a worker killed by the OOM killer, a database SIGKILLed.

The scenario a new user meets (issue 8): a folder with a FLAC whose track number is absurd and a
corrupt file whose name is not UTF-8 imports with exit 0, and a database killed in the middle of
an import loses nothing: the import run again ends with every track stored once and complete.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import mutagen
import psutil
import pymongo
import pytest

from core.audio.tags import MAX_TRACK_NUMBER
from core.library.pipeline import KILLED_REASON, run_import
from core.services import free_port, mongo_uri
from core.store.mongo import MongoStore
from tests.audio import music_like, write

ABSURD = "99999999999999999999"


class PrivateDB:
    """A SecantusDB server of the test's own (fixed port and data dir) to SIGKILL and restart."""

    def __init__(self, data: Path):
        self.data, self.port = data, free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return mongo_uri(self.port)

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        with (self.data.parent / "db.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "core.dbserver", "--host", "127.0.0.1", "--port",
                 str(self.port), "--storage-path", str(self.data), "--log-level", "WARNING"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=60000)
        try:
            client.admin.command("ping")
        finally:
            client.close()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def private_db(tmp_path):
    db = PrivateDB(tmp_path / "db")
    db.start()
    yield db
    db.stop()


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _cli_import(folder, env, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", "import", str(folder), "--jobs", "2",
                           *extra], capture_output=True, env=env, timeout=600, check=False)


def _scenario_folder(root: Path) -> tuple[Path, bytes, Path]:
    """12 songs, a FLAC with an absurd track number, a corrupt file whose name is not UTF-8."""
    folder = root / "music"
    for i in range(12):
        write(folder / f"song {i:02d}.wav", music_like(i % 4, seconds=4.0, seed=i), 22050)
    flac = write(folder / "absurd.flac", music_like(2, seconds=4.0, seed=50), 22050)
    tags = mutagen.File(flac, easy=True)
    tags["title"], tags["tracknumber"] = "Absurd", ABSURD
    tags.save()
    corrupt = os.path.join(os.fsencode(folder), b"corrupt-\xe9\xfe.mp3")
    with open(corrupt, "wb") as out:
        out.write(b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(4000))
    return folder, corrupt, flac


def test_odd_files_import_with_exit_0(tmp_path, env_for_cli, mongo_uri):
    folder, corrupt, flac = _scenario_folder(tmp_path)
    proc = _cli_import(folder, env_for_cli, "--json")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    out = json.loads(proc.stdout.decode("utf-8"))  # valid UTF-8, one JSON object
    assert out["imported"] == 13 and len(out["tracks"]) == 13
    assert [os.fsencode(s["path"]) for s in out["skipped"]] == [corrupt]  # lossless raw bytes
    assert out["skipped"][0]["reason"].startswith("not a readable audio file (")  # why, one line

    store = MongoStore(mongo_uri, env_for_cli["ENCORE_DB"])
    try:
        absurd = store.get_track(str(flac))
        assert absurd["tags"]["tracknumber"] == MAX_TRACK_NUMBER and absurd["indexed"]
    finally:
        store.close()

    again = _cli_import(folder, env_for_cli)  # the plain summary prints the odd name too
    assert again.returncode == 0, again.stderr.decode(errors="replace")
    assert b"unchanged 13, skipped 1" in again.stdout
    assert b"corrupt-\\xe9\\xfe.mp3" in again.stdout


def test_a_song_whose_name_is_not_utf8_is_stored_with_its_real_path(tmp_path, store):
    folder = tmp_path / "music"
    made = write(folder / "made.wav", music_like(1, seconds=4.0), 22050)
    odd = Path(os.fsdecode(os.path.join(os.fsencode(folder), b"chanson-\xe9\xff.wav")))
    made.rename(odd)
    report = run_import(str(folder), store, jobs=1)
    assert report.skipped == [] and len(report.imported) == 1
    stored = store.get_track(str(odd), {"path": 1, "title": 1})
    assert stored["path"] == str(odd) and Path(stored["path"]).exists()  # the real path back
    assert stored["title"] == "chanson \\xe9\\xff"  # printable (dashes of a name read as spaces)


def _children_with_open(path: str) -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if any(f.path == path for f in child.open_files()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def test_a_worker_killed_on_one_file_skips_only_that_file(generated_library, store, tmp_path):
    """The OOM killer's way: SIGKILL whichever analysis process reads one particular file."""
    folder = tmp_path / "lib"
    shutil.copytree(generated_library / "kind1", folder)
    killer = write(folder / "huge.wav", music_like(3, seconds=600.0), 22050, subtype="PCM_16")
    kills, stop = [], threading.Event()

    def oom_killer() -> None:
        while not stop.is_set():
            for child in _children_with_open(str(killer)):
                child.kill()
                kills.append(child.pid)
            time.sleep(0.005)

    thread = threading.Thread(target=oom_killer, daemon=True)
    thread.start()
    try:
        report = run_import(str(folder), store, jobs=2)
    finally:
        stop.set()
        thread.join()
    assert len(kills) >= 2  # killed, then killed again on its retry
    assert [(s.path, s.reason) for s in report.skipped] == [(str(killer), KILLED_REASON)]
    assert len(report.imported) == 4 and store.count_tracks({"indexed": True}) == 4


def test_database_killed_during_import_then_run_again(generated_library, private_db, tmp_path):
    env = {**os.environ, "ENCORE_MONGO_URI": private_db.uri, "ENCORE_DB": "killed",
           "ENCORE_DATA_DIR": str(tmp_path / "data")}
    watcher = MongoStore(private_db.uri, "killed", timeout_ms=2000)
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "import", str(generated_library),
                             "--jobs", "2", "--no-progress"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_until(lambda: watcher.count_tracks() >= 1 or proc.poll() is not None, 300,
                   "the first stored track")
        stored_before = watcher.count_tracks()
        assert proc.poll() is None and stored_before < 16, "the import ended before the kill"
        private_db.kill()
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2 and b"database error" in err  # a clear error, no traceback
    assert b"Traceback" not in err

    private_db.start()  # same port, same files
    again = _cli_import(generated_library, env, "--json")
    assert again.returncode == 0, again.stderr.decode(errors="replace")
    out = json.loads(again.stdout)
    assert out["imported"] + out["unchanged"] == 16 and out["skipped"] == []
    assert out["unchanged"] >= 1  # what the killed import stored was kept
    tracks = list(watcher.iter_tracks({}, {"path": 1, "complete": 1, "indexed": 1, "lsh": 1,
                                           "shingles": 1, "cluster": 1}))
    assert len(tracks) == 16 and len({t["path"] for t in tracks}) == 16
    assert all(t["complete"] and t["indexed"] and t["lsh"] and t["shingles"]
               and t["cluster"] is not None for t in tracks)
    assert watcher.frames.count_documents({}) == 16
    watcher.close()


def test_second_import_of_a_library_is_refused_clearly(generated_library, env_for_cli, mongo_uri):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    store = MongoStore(mongo_uri, env_for_cli["ENCORE_DB"])
    try:
        owner = {"id": uuid.uuid4().hex, "host": os.uname().nodename, "pid": holder.pid,
                 "started": psutil.Process(holder.pid).create_time()}
        assert store.acquire_lock("import", owner, 60) is None
        proc = _cli_import(generated_library, env_for_cli)
        assert proc.returncode == 2
        assert b"another import is already running on this library" in proc.stderr
        assert store.count_tracks() == 0
    finally:
        holder.kill()
        holder.wait()
        store.close()


def test_ctrl_c_cancels_cleanly_and_the_next_import_resumes(generated_library, env_for_cli,
                                                            mongo_uri):
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "import", str(generated_library),
                             "--jobs", "2", "--no-progress"], env=env_for_cli,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    store = MongoStore(mongo_uri, env_for_cli["ENCORE_DB"])
    try:
        wait_until(lambda: store.count_tracks() >= 1 or proc.poll() is not None, 300,
                   "the first stored track")
        assert proc.poll() is None, "the import ended before Ctrl-C"
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole group
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and b"Traceback" not in err, err.decode(errors="replace")
    assert b"cancelled: run again to resume" in out
    kept = store.count_tracks()
    again = _cli_import(generated_library, env_for_cli, "--json")
    assert again.returncode == 0, again.stderr.decode(errors="replace")
    out = json.loads(again.stdout)
    assert out["unchanged"] == kept and out["imported"] + kept == 16
    store.close()
