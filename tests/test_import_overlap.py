"""The import's serial tail (the library-wide index after the last file) starts ready and runs on
one thread: its modules are loaded while the analysis processes work on the last files."""

import json
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX_MESSAGES = ("learning audio words", "shingles and MinHash", "clustering", "neighbour scales")

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
