"""Distributed import: jobs over a real Kafka (tansu) to ``encore analysis-worker`` processes that
store into a real MongoDB; one worker SIGKILLed mid-file loses nothing and stores nothing twice."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid

import pytest

from core.analysis_worker import AnalysisWorker
from core.bus.analysis_jobs import AnalysisJob, parse_job
from core.errors import EventError
from core.library.analyse import AnalyseOptions
from core.library.distributed import cancel_import, run_distributed_import
from core.library.folders import list_folders
from tests.audio import music_like, write
from tests.waiting import poll

#: All tests share one group, as real workers do: a new group would start from the topic's
#: first job and re-run earlier tests' imports.
GROUP = "encore-analysis-tests"


@pytest.fixture
def folder(tmp_path):
    """Ten pieces long enough (40 s) that a worker can be caught in the middle of one."""
    root = tmp_path / "music"
    for i in range(10):
        write(root / f"kind{i % 4}" / f"p{i}.wav", music_like(i % 4, seconds=40, seed=i), 22050)
    return root


def _spawn(env, tmp_path):
    log = tmp_path / f"analysis-{uuid.uuid4().hex[:6]}.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "player.launch", "analysis-worker",
                                 "--group", GROUP], env=env, stdout=out, stderr=subprocess.STDOUT)
    proc.log = log
    return proc


def _holds_partitions(worker) -> bool:
    """Its latest assignment is not empty (a member that joined second took its share)."""
    found = re.findall(r"assigned partitions \[(.*)\]", worker.log.read_text())
    return bool(found and found[-1])


def _in_flight(worker) -> str | None:
    """The file the worker is analysing now, if any."""
    text = worker.log.read_text()
    started = re.findall(r"analysing (.+)", text)
    finished = set(re.findall(r"done (.+?): ", text))
    return next((path for path in reversed(started) if path not in finished), None)


@pytest.fixture
def workers_env(kafka, mongo_uri, store, tmp_path):
    return {**os.environ, "ENCORE_KAFKA_BOOTSTRAP": kafka, "ENCORE_MONGO_URI": mongo_uri,
            "ENCORE_DB": store.db.name, "ENCORE_DATA_DIR": str(tmp_path / "data")}


def _stop(*workers):
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(30)


def test_sigkilled_worker_loses_no_file_and_none_is_stored_twice(kafka, store, folder,
                                                                   workers_env, tmp_path):
    first, second = _spawn(workers_env, tmp_path), _spawn(workers_env, tmp_path)
    try:
        assert poll(lambda: _holds_partitions(first) and _holds_partitions(second), 120), (
            first.log.read_text()[-2000:] + second.log.read_text()[-2000:])
        progress: list[tuple[int, int, str]] = []
        outcome: dict = {}
        coordinator = threading.Thread(target=lambda: outcome.update(report=run_distributed_import(
            str(folder), store, bootstrap=kafka, progress=lambda *a: progress.append(a))))
        coordinator.start()
        # mid-way: some results are in, and the first worker is inside a file
        assert poll(lambda: any(done >= 2 for done, _, _ in progress)
                         and _in_flight(first), 240), first.log.read_text()[-2000:]
        lost = _in_flight(first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        coordinator.join(600)
        assert not coordinator.is_alive()
    finally:
        _stop(first, second)
    report = outcome["report"]
    files = sorted(str(p) for p in folder.rglob("*.wav"))
    assert not report.skipped and len(report.imported) == len(set(report.imported)) == 10
    stored = list(store.tracks.find({}, {"source_path": 1}))
    assert sorted(d["source_path"] for d in stored) == files  # each file exactly once
    assert store.frames.count_documents({}) == 10
    assert lost in files and f"done {lost}: " in second.log.read_text()  # re-delivered
    assert sum(report.workers.values()) == 10 and len(report.workers) == 2
    assert report.index["indexed"] == 10 and progress[-1][0] <= progress[-1][1]
    assert store.count_tracks({"cluster": None}) == 0


def _cli_import(folder, env) -> dict:
    proc = subprocess.run([sys.executable, "-m", "player.launch", "import", str(folder),
                           "--distributed", "--json"], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_cli_distributed_json_reports_workers_and_skips(folder, store, workers_env, tmp_path):
    (folder / "broken.mp3").write_text("not audio")
    worker = _spawn(workers_env, tmp_path)
    try:
        out = _cli_import(folder, workers_env)
    finally:
        _stop(worker)
    assert out["imported"] == 10 and len(out["tracks"]) == 10
    assert [s["path"] for s in out["skipped"]] == [str(folder / "broken.mp3")]
    assert "not a readable audio file" in out["skipped"][0]["reason"]
    assert list(out["workers"].values()) == [10]
    assert all(t["cluster"] is not None for t in out["tracks"])
    # remembered like a local import's folder, and planned like one: run again (no worker
    # running), every stored file is unchanged and nothing waits for a worker
    assert [(f.path, f.options.enhance) for f in list_folders(store)] == [(str(folder), None)]
    (folder / "broken.mp3").unlink()  # a skipped file is tried again by every import
    again = _cli_import(folder, workers_env)
    assert (again["imported"], again["unchanged"], again["workers"]) == (0, 10, {})


@pytest.mark.parametrize("raw, reason", [
    (b"{not json", "not valid JSON"),
    (json.dumps({"v": 2, "import_id": "i", "path": "/a.wav", "options": {}}).encode(), "version-1"),
    (json.dumps({"v": 1, "import_id": "i", "options": {}}).encode(), "no path"),
    (json.dumps({"v": 1, "import_id": "i", "path": "/a.wav",
                 "options": {"enhance": {"eq": "loud!"}}}).encode(), "unknown EQ preset"),
    (json.dumps({"v": 1, "import_id": "i", "path": "/a.wav",
                 "options": {"library_dir": 5}}).encode(), "library_dir"),
])
def test_malformed_jobs_are_refused_with_the_reason(raw, reason):
    with pytest.raises(EventError, match=reason):
        parse_job(raw)


def test_worker_drops_malformed_and_cancelled_jobs_and_skips_unreadable_files(kafka, store,
                                                                              tmp_path):
    worker = AnalysisWorker(kafka, store, group=GROUP)
    try:
        assert worker.handle(b"[1, 2]") is None
        good = write(tmp_path / "ok.wav", music_like(0, seconds=4), 22050)
        cancel_import(store, "gone")
        assert worker.handle(AnalysisJob("gone", str(good), AnalyseOptions()).to_json()) is None
        assert store.count_tracks() == 0
        (tmp_path / "bad.wav").write_text("not audio")
        result = worker.handle(AnalysisJob("live", str(tmp_path / "bad.wav"),
                                           AnalyseOptions()).to_json())
        assert result.track_id is None and "not a readable audio file" in result.reason
        stored = worker.handle(AnalysisJob("live", str(good), AnalyseOptions()).to_json())
        assert store.get_track(str(good))["_id"] == stored.track_id
    finally:
        worker.consumer.close(autocommit=False)
        worker.producer.close()


def test_with_no_worker_the_importer_says_so_and_ctrl_c_keeps_it_clean(kafka, store, folder,
                                                                        monkeypatch, caplog):
    from core.library import distributed

    monkeypatch.setattr(distributed, "QUIET_NOTICE_S", 0.5)
    cancel, outcome = threading.Event(), {}
    coordinator = threading.Thread(target=lambda: outcome.update(report=run_distributed_import(
        str(folder), store, bootstrap=kafka, cancel=cancel)))
    with caplog.at_level("WARNING", logger="encore.import"):
        coordinator.start()
        assert poll(lambda: "no analysis worker has answered" in caplog.text, 60)
        cancel.set()  # what Ctrl-C does
        coordinator.join(60)
    assert not coordinator.is_alive() and outcome["report"].cancelled
    assert "encore analysis-worker" in caplog.text and store.count_tracks() == 0
