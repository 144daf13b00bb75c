"""Distributed analysis messages: jobs (topic ``analysis_jobs``, keyed by path) and results
(topic ``analysis_results``, keyed by import, so an importer reads one partition).

A job names the file, the import it belongs to and the analysis options; a result names the
stored track id or the reason the file was skipped, and the worker that did it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from core.audio.enhance import EnhanceOptions
from core.bus.admin import create_missing_topics
from core.errors import EventError
from core.library.analyse import AnalyseOptions

ANALYSIS_JOBS = "analysis_jobs"
ANALYSIS_RESULTS = "analysis_results"
VERSION = 1
#: Partitions of ``analysis_jobs`` when it is created: the most analysis workers that can share
#: one import (tansu cannot add partitions later). ``ENCORE_ANALYSIS_PARTITIONS`` overrides it.
DEFAULT_PARTITIONS = 12
RESULT_PARTITIONS = 3


def job_partitions() -> int:
    """Partitions for a new ``analysis_jobs`` topic (``ENCORE_ANALYSIS_PARTITIONS``, default 12).

    Raises
    ------
    ValueError
        If the variable is not a positive integer.
    """
    raw = os.environ.get("ENCORE_ANALYSIS_PARTITIONS") or str(DEFAULT_PARTITIONS)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"ENCORE_ANALYSIS_PARTITIONS must be a positive integer, got {raw!r}")
    return int(raw)


def ensure_analysis_topics(bootstrap: str) -> None:
    """Create the jobs and results topics when missing.

    Raises
    ------
    BusError
        If the broker cannot be reached.
    """
    create_missing_topics(bootstrap, {ANALYSIS_JOBS: job_partitions(),
                                      ANALYSIS_RESULTS: RESULT_PARTITIONS})


@dataclass(frozen=True)
class AnalysisJob:
    """Analyse ``path`` with ``options`` for import ``import_id``."""

    import_id: str
    path: str
    options: AnalyseOptions

    def to_json(self) -> bytes:
        """Wire form."""
        options = {"enhance": asdict(self.options.enhance) if self.options.enhance else None,
                   "library_dir": self.options.library_dir}
        return json.dumps({"v": VERSION, "import_id": self.import_id, "path": self.path,
                           "options": options}).encode()


@dataclass(frozen=True)
class AnalysisResult:
    """What became of one job: ``track_id`` when stored, else ``reason``."""

    import_id: str
    path: str
    worker: str
    track_id: str | None = None
    reason: str | None = None
    timings: dict = field(default_factory=dict)

    def to_json(self) -> bytes:
        """Wire form."""
        return json.dumps({"v": VERSION, **asdict(self)}).encode()


def _object(raw: bytes | None, kind: str) -> dict:
    try:
        obj = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventError(f"{kind} is not valid JSON: {exc}") from exc
    if not isinstance(obj, dict) or obj.get("v") != VERSION:
        raise EventError(f"{kind} is not a version-{VERSION} JSON object")
    for name in ("import_id", "path"):
        if not isinstance(obj.get(name), str) or not obj[name]:
            raise EventError(f"{kind} has no {name}")
    return obj


def parse_job(raw: bytes | None) -> AnalysisJob:
    """Validate a job.

    Raises
    ------
    EventError
        If it is malformed (including options an import could not have sent).
    """
    obj = _object(raw, "job")
    options = obj.get("options")
    if not isinstance(options, dict):
        raise EventError("job has no options")
    try:
        enhance = EnhanceOptions(**options["enhance"]) if options.get("enhance") else None
    except (TypeError, ValueError) as exc:
        raise EventError(f"job has invalid enhance options: {exc}") from exc
    library_dir = options.get("library_dir")
    if library_dir is not None and not isinstance(library_dir, str):
        raise EventError("job's library_dir is not a path")
    return AnalysisJob(obj["import_id"], obj["path"], AnalyseOptions(enhance, library_dir))


def parse_result(raw: bytes | None) -> AnalysisResult:
    """Validate a result.

    Raises
    ------
    EventError
        If it is malformed.
    """
    obj = _object(raw, "result")
    if not isinstance(obj.get("worker"), str) or not isinstance(obj.get("timings", {}), dict):
        raise EventError("result has no worker")
    if not isinstance(obj.get("track_id"), str) and not isinstance(obj.get("reason"), str):
        raise EventError("result has neither a track id nor a reason")
    return AnalysisResult(obj["import_id"], obj["path"], obj["worker"], obj.get("track_id"),
                          obj.get("reason"), obj.get("timings") or {})
