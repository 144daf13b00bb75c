"""``encore import DIR``: analyse a folder into the library."""

from __future__ import annotations

import argparse

from core.cli.common import cancellable_job, json_text, open_store, skip_line
from core.config import Config


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore import``."""
    from core.audio.enhance import EnhanceOptions
    from core.library.analyse import AnalyseOptions
    from core.library.pipeline import run_import

    enhance = None
    if args.transcode:
        enhance = EnhanceOptions(target_lufs=args.target_lufs, eq=args.eq, codec=args.codec,
                                 quality=args.quality)
    options = AnalyseOptions(enhance=enhance, library_dir=str(config.library_dir))
    store = open_store(config)
    with cancellable_job(args) as (update, cancel):
        if args.distributed:  # analysed by `encore analysis-worker` processes
            from core.library.distributed import import_with_workers

            report = import_with_workers(config, args.folder, store, options=options,
                                         progress=update, cancel=cancel)
        else:
            report = run_import(args.folder, store, options=options, jobs=args.jobs,
                                progress=update, cancel=cancel)
    if args.json:
        print(json_text(_import_json(report, store)))
    else:
        _print_import_summary(report)
    return 130 if report.cancelled else 0


def _import_json(report, store) -> dict:
    fields = {"_id": 1, "path": 1, "title": 1, "artist": 1, "album": 1, "cluster": 1,
              "loudness": 1, "replaygain": 1, "quality": 1, "issues": 1, "copy": 1}
    tracks = []
    for doc in store.iter_tracks({"_id": {"$in": report.imported}}, fields):
        tracks.append({
            "id": doc["_id"], "path": doc["path"], "title": doc.get("title"),
            "artist": doc.get("artist"), "album": doc.get("album"), "cluster": doc.get("cluster"),
            "loudness_lufs": doc["loudness"]["integrated_lufs"],
            "loudness_range_lu": doc["loudness"]["range_lu"],
            "replaygain_db": doc["replaygain"]["track_gain_db"],
            "album_gain_db": doc["replaygain"].get("album_gain_db"),
            "true_peak_dbtp": doc["quality"]["true_peak_dbtp"],
            "clipping": doc["quality"]["clipping"], "issues": doc.get("issues", []),
            **({"copy": doc["copy"]} if "copy" in doc else {}),
        })
    return {"imported": len(report.imported), "unchanged": report.unchanged,
            "cancelled": report.cancelled,
            "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
            "tracks": tracks, **({"workers": report.workers} if hasattr(report, "workers") else {})}


def _print_import_summary(report) -> None:
    print(f"imported {len(report.imported)}, unchanged {report.unchanged}, "
          f"skipped {len(report.skipped)}" + (" (cancelled: run again to resume)"
                                              if report.cancelled else ""))
    for item in report.skipped:
        print(skip_line(item.path, item.reason))
    if report.index:
        print(f"clusters: {report.index.get('k')}")


def add_parser(sub) -> None:
    """Register ``encore import``."""
    imp = sub.add_parser("import", help="analyse a folder into the library")
    imp.add_argument("folder")
    imp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    imp.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    imp.add_argument("--distributed", action="store_true",
                     help="publish one analysis job per file to Kafka for `encore analysis-worker` "
                          "processes instead of analysing here")
    imp.add_argument("--transcode", action="store_true",
                     help="write enhanced, loudness-levelled copies into the managed library")
    imp.add_argument("--codec", choices=("opus", "vorbis"), default="opus")
    imp.add_argument("--quality", type=float, default=0.6, help="encoder quality 0..1")
    imp.add_argument("--target-lufs", type=float, default=-18.0)
    imp.add_argument("--eq", default="flat", help="EQ preset: flat, bass, treble, vocal, loudness")
    imp.add_argument("--progress", action="store_true", help="progress bar even when not a tty")
    imp.add_argument("--no-progress", action="store_true")
    imp.set_defaults(run=cmd_import)
