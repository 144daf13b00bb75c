"""What the import does while its analysis processes work, so that little is left after the last
file: the library-wide index's modules are loaded, and with a stored codebook each new track is
stored with its shingles, MinHash and LSH keys; the index then runs on one thread."""

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np

from core.library.pipeline import run_import
from core.similarity import shingles

ROOT = Path(__file__).resolve().parents[1]
INDEX_MESSAGES = ("learning audio words", "shingles and MinHash", "clustering")

# A fresh interpreter: the test process may have scikit-learn loaded already.
PROBE = """
import json, sys
from threadpoolctl import threadpool_info
from core.library.pipeline import run_import
from core.store.mongo import MongoStore

seen = []
def progress(done, total, message):
    seen.append({"message": message, "sklearn": "sklearn.cluster" in sys.modules,
                 "threads": max(pool["num_threads"] for pool in threadpool_info())})

store = MongoStore(sys.argv[1], sys.argv[2])
report = run_import(sys.argv[3], store, jobs=1, progress=progress)
store.client.drop_database(sys.argv[2])
print(json.dumps({"imported": len(report.imported), "seen": seen}))
"""


def test_index_is_loaded_before_the_last_file_and_runs_on_one_thread(generated_library,
                                                                       mongo_uri):
    db = f"encore_overlap_{uuid.uuid4().hex[:8]}"
    out = subprocess.run([sys.executable, "-c", PROBE, mongo_uri, db, str(generated_library)],
                         capture_output=True, text=True, cwd=ROOT, timeout=600, check=True)
    result = json.loads(out.stdout)
    assert result["imported"] == 16
    seen = result["seen"]
    first_index = next(i for i, s in enumerate(seen) if s["message"] in INDEX_MESSAGES)
    assert seen[0] == {**seen[0], "message": "analysing", "sklearn": False}
    assert seen[first_index - 1]["sklearn"]  # the last file's result: the index is loaded
    assert all(s["threads"] == 1 for s in seen[first_index:])


def test_tracks_added_to_a_library_are_indexed_as_they_are_stored(generated_library, store,
                                                                  tmp_path):
    folder, later = tmp_path / "lib", tmp_path / "later"
    shutil.copytree(generated_library, folder)
    held = sorted(folder.rglob("*.wav"))[:2]
    later.mkdir()
    for path in held:
        path.rename(later / path.name)
    first = run_import(str(folder), store, jobs=2)
    assert len(first.imported) == 14 and first.index["codebook_refit"]
    for path in held:
        (later / path.name).rename(path)

    second = run_import(str(folder), store, jobs=2)
    assert len(second.imported) == 2
    # the writer built both new tracks' shingles with the stored codebook: the index redid none
    assert second.index == {**second.index, "indexed": 0, "codebook_refit": False}
    model = store.get_model("codebook")
    codebook = shingles.Codebook.from_doc(model)
    for frames in store.iter_frames(second.imported):
        track = next(store.iter_tracks({"_id": frames["_id"]}))
        matrix = np.frombuffer(frames["data"], dtype=np.float32).reshape(frames["shape"])
        expected = shingles.index_fields(matrix, codebook, model["version"])
        assert {key: track[key] for key in expected} == expected
    assert store.count_tracks({"indexed": True}) == 16
