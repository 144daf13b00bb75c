"""``encore import`` and ``encore recommend`` end to end against a real MongoDB over TCP."""

import json
import os
import subprocess
import sys
import threading

import pytest

from core.library.pipeline import run_import
from core.similarity.recommend import Recommender


def _encore(*args, env):
    return subprocess.run([sys.executable, "-m", "player.launch", *args], capture_output=True,
                          text=True, env=env, timeout=600, check=False)


def test_import_json_then_recommend(generated_library, env_for_cli, tmp_path):
    (generated_library / "broken.mp3").write_text("not audio")
    try:
        proc = _encore("import", str(generated_library), "--json", "--jobs", "2", env=env_for_cli)
    finally:
        (generated_library / "broken.mp3").unlink()
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)  # stdout holds exactly one JSON object
    assert out["imported"] == 16
    assert [s["path"] for s in out["skipped"]] == [str(generated_library / "broken.mp3")]
    assert "not a readable audio file" in out["skipped"][0]["reason"]
    track = out["tracks"][0]
    for key in ("id", "path", "title", "artist", "album", "cluster", "loudness_lufs",
                "replaygain_db", "true_peak_dbtp", "clipping", "issues"):
        assert key in track
    assert all(t["cluster"] is not None for t in out["tracks"])
    tagged = next(t for t in out["tracks"] if t["path"].endswith("piece 1-1.flac"))
    assert (tagged["artist"], tagged["album"]) == ("Artist 1", "Album 1")

    seeds = [out["tracks"][0]["path"], out["tracks"][5]["id"]]
    rec = _encore("recommend", *seeds, "--json", env=env_for_cli)
    assert rec.returncode == 0, rec.stderr
    assert _encore("recommend", seeds[0], "--k", "0", env=env_for_cli).returncode == 2
    # A reader that stops early (`| head -1`): no traceback.
    piped = subprocess.Popen([sys.executable, "-m", "player.launch", "recommend", *seeds, "--json"],
                             env=env_for_cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    piped.stdout.close()
    assert piped.wait(120) == 1 and b"Traceback" not in piped.stderr.read()
    lines = [json.loads(line) for line in rec.stdout.splitlines()]
    assert len(lines) == 2
    for line in lines:
        ids = [r["id"] for r in line["recommendations"]]
        assert len(ids) == 5 and len(set(ids)) == 5 and line["seed"]["id"] not in ids

    again = _encore("import", str(generated_library), "--json", env=env_for_cli)
    assert json.loads(again.stdout)["imported"] == 0
    assert json.loads(again.stdout)["unchanged"] == 16

    (generated_library / "notes.ogg").write_text("not audio")  # the text summary: plain words first
    try:
        text = _encore("import", str(generated_library), env=env_for_cli)
    finally:
        (generated_library / "notes.ogg").unlink()
    line = next(x for x in text.stdout.splitlines() if "notes.ogg" in x)
    assert any(f"notes.ogg: {plain} (not a readable audio file" in line
               for plain in ("file is damaged (cut short)", "not an audio file")), line


def test_recommendations_group_pieces_of_the_same_timbre(tmp_path, store):
    from tests.audio import music_like, write

    # Lossless only: lossy Vorbis re-shapes these pure synthetic tones beyond their family.
    for kind in range(4):
        for i in range(4):
            write(tmp_path / f"kind{kind}" / f"p{i}.wav", music_like(kind, seed=10 * kind + i), 22050)
    run_import(str(tmp_path), store, jobs=2)
    recommender = Recommender(store)
    hits = 0
    for kind in range(4):
        seed = store.get_track(str(tmp_path / f"kind{kind}" / "p0.wav"))
        recs = recommender.recommend([seed["_id"]], k=3, max_per_artist=None)
        hits += sum(f"kind{kind}" in r.path for r in recs)
    # Of 12; chance gives about 2.4. Track ids hash the (temporary) paths, so the codebook and
    # clustering see the pieces in a different order each run: 9 to 12 are seen.
    assert hits >= 9


def test_exclusions_and_unknown_seed(generated_library, store):
    run_import(str(generated_library), store, jobs=2)
    recommender = Recommender(store)
    seed = store.get_track(str(generated_library / "kind0" / "piece 0-0.wav"))["_id"]
    first = recommender.recommend([seed], k=5)
    rest = recommender.recommend([seed], k=5, exclude=tuple(r.id for r in first))
    assert not {r.id for r in first} & {r.id for r in rest}
    from core.errors import NotFoundError

    with pytest.raises(NotFoundError):
        recommender.recommend(["no-such-track"])
    with pytest.raises(NotFoundError):
        store.get_track({"$ne": None})  # an operator is never taken for an id
    # A cache far smaller than one cluster evicts while a cluster loads: same answers, no error.
    tiny = Recommender(store, cache_size=4)
    for _ in range(2):
        assert [r.id for r in tiny.recommend([seed], k=5)] == [r.id for r in first]


def test_reimport_skips_unchanged_and_reanalyses_changed(generated_library, store, tmp_path):
    import shutil

    folder = tmp_path / "lib"
    shutil.copytree(generated_library / "kind2", folder)
    assert len(run_import(str(folder), store, jobs=1).imported) == 4
    second = run_import(str(folder), store, jobs=1)
    assert second.imported == [] and second.unchanged == 4
    target = folder / "piece 2-3.wav"
    os.utime(target, (1, 1))
    third = run_import(str(folder), store, jobs=1)
    assert len(third.imported) == 1 and third.unchanged == 3


def test_cancelled_import_resumes(generated_library, store):
    cancel = threading.Event()
    seen = []

    def progress(done, total, message):
        seen.append(done)
        if done >= 3:
            cancel.set()

    first = run_import(str(generated_library), store, jobs=1, progress=progress, cancel=cancel)
    assert first.cancelled and 3 <= len(first.imported) < 16
    second = run_import(str(generated_library), store, jobs=2)
    assert not second.cancelled
    assert len(second.imported) + second.unchanged == 16 and second.unchanged == len(first.imported)
    assert store.count_tracks({"indexed": True}) == 16


def test_database_down_is_a_clear_error(tmp_path):
    from core.errors import StoreError
    from core.services import free_port
    from core.store.mongo import MongoStore

    dead = MongoStore(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", timeout_ms=300)
    with pytest.raises(StoreError, match="database error"):
        dead.ensure_schema()


def test_a_killed_import_leaves_no_analysis_workers(generated_library, env_for_cli, mongo_uri):
    import signal
    import time
    from pathlib import Path

    from core.store.mongo import MongoStore

    command = [sys.executable, "-m", "core.cli", "import", str(generated_library), "--jobs", "2",
               "--no-progress"]
    proc = subprocess.Popen(command, env=env_for_cli, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = MongoStore(mongo_uri, env_for_cli["ENCORE_DB"])

    def children() -> set[int]:
        kids = set()
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == proc.pid:
                    kids.add(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue
        return kids

    # Real progress: the workers run and the import has stored a first track, not a fixed sleep.
    deadline = time.monotonic() + 300
    while (len(workers := children()) < 2 or store.count_tracks() == 0) and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None and len(workers) >= 2 and store.count_tracks() >= 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Killed mid-import: indexing, the import's last step, never ran.
    assert proc.returncode == -signal.SIGKILL and store.generation() == 0
    assert store.count_tracks() < 16
    store.close()
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
