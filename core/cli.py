"""The ``encore`` command: the player by default, or a headless job.

``encore import DIR``, ``encore recommend TRACK...``, ``encore worker``, ``encore services``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence

from core.config import Config, load_config
from core.errors import EncoreError


def open_store(config: Config):
    """Connect to the configured (or local) MongoDB and prepare its schema."""
    from core.services import resolve_mongo_uri
    from core.store.mongo import MongoStore

    store = MongoStore(resolve_mongo_uri(config), config.db_name)
    store.ensure_schema()
    return store


def _progress_bar(enabled: bool):
    """A tqdm bar on stderr (stdout stays clean for --json), or a silent callback."""
    if not enabled:
        return (lambda done, total, message: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=0, unit="file", file=sys.stderr, dynamic_ncols=True)

    def update(done: int, total: int, message: str) -> None:
        if bar.total != total:
            bar.reset(total=total)
        bar.n = done
        bar.set_description(message[:40])
        bar.refresh()

    return update, bar.close


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
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    update, close = _progress_bar((not args.no_progress and sys.stderr.isatty()) or args.progress)
    try:
        report = run_import(args.folder, store, options=options, jobs=args.jobs, progress=update,
                            cancel=cancel)
    finally:
        close()
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps(_import_json(report, store), ensure_ascii=False))
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
            "tracks": tracks}


def _print_import_summary(report) -> None:
    print(f"imported {len(report.imported)}, unchanged {report.unchanged}, "
          f"skipped {len(report.skipped)}" + (" (cancelled: run again to resume)"
                                              if report.cancelled else ""))
    for item in report.skipped:
        print(f"  skipped {item.path}: {item.reason}")
    if report.index:
        print(f"clusters: {report.index.get('k')}")


def cmd_recommend(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore recommend``: one store connection for every seed."""
    from core.similarity.recommend import Recommender

    recommender = Recommender(open_store(config))
    status = 0
    for seed in args.tracks:
        try:
            doc = recommender.seed(os.path.abspath(seed) if os.path.exists(seed) else seed)
            recs = recommender.rank([doc], k=args.k, exclude=tuple(args.exclude),
                                    max_per_artist=args.max_per_artist or None)
        except EncoreError as exc:
            print(f"encore: {exc}", file=sys.stderr)
            status = 1
            continue
        if args.json:
            print(json.dumps({"seed": {"id": doc["_id"], "path": doc["path"]},
                              "recommendations": [r.as_dict() for r in recs]}, ensure_ascii=False),
                  flush=True)
        else:
            print(f"{doc['path']}:")
            for r in recs:
                print(f"  {r.score:.3f}  {r.artist or '?'} — {r.title}  ({r.why})")
    return status


def cmd_services(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore services up|down|status``."""
    from core.services import LocalStack

    stack = LocalStack(config)
    if args.action == "up":
        for name in ("mongo", "kafka"):
            info = stack.ensure(name, detached=True)
            print(f"{name}: running on {info.address} (pid {info.pid}, data {info.data_path})")
    elif args.action == "down":
        stopped = stack.stop()
        print("stopped: " + (", ".join(stopped) or "nothing was running"))
    else:
        running = stack.status()
        for name in ("mongo", "kafka"):
            external = config.mongo_uri if name == "mongo" else config.kafka_bootstrap
            if external:
                print(f"{name}: external ({external})")
            elif name in running:
                info = running[name]
                print(f"{name}: running on {info.address} (pid {info.pid}, data {info.data_path})")
            else:
                print(f"{name}: not running")
    return 0


def cmd_worker(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore worker``: the recommender consumer."""
    from core.worker import run_worker

    return run_worker(config, group=args.group)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``encore``."""
    parser = argparse.ArgumentParser(prog="encore", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import", help="analyse a folder into the library")
    imp.add_argument("folder")
    imp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    imp.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    imp.add_argument("--transcode", action="store_true",
                     help="write enhanced, loudness-levelled copies into the managed library")
    imp.add_argument("--codec", choices=("opus", "vorbis"), default="opus")
    imp.add_argument("--quality", type=float, default=0.6, help="encoder quality 0..1")
    imp.add_argument("--target-lufs", type=float, default=-18.0)
    imp.add_argument("--eq", default="flat", help="EQ preset: flat, bass, treble, vocal, loudness")
    imp.add_argument("--progress", action="store_true", help="progress bar even when not a tty")
    imp.add_argument("--no-progress", action="store_true")
    rec = sub.add_parser("recommend", help="recommend tracks like the given ones")
    rec.add_argument("tracks", nargs="+", help="track ids or paths")
    rec.add_argument("--k", type=int, default=5)
    rec.add_argument("--exclude", action="append", default=[], help="track id to leave out")
    rec.add_argument("--max-per-artist", type=int, default=2, help="0 for no cap")
    rec.add_argument("--json", action="store_true", help="one JSON line per seed")
    wrk = sub.add_parser("worker", help="run the recommender worker (Kafka consumer group)")
    wrk.add_argument("--group", default="encore-recommender")
    svc = sub.add_parser("services", help="the local Kafka and MongoDB stack")
    svc.add_argument("action", choices=("up", "down", "status"))
    return parser


COMMANDS = {"import": cmd_import, "recommend": cmd_recommend, "services": cmd_services,
            "worker": cmd_worker}


def main(argv: Sequence[str] | None = None) -> int:
    """Run a headless command (``player.launch`` starts the player when none is given).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    config = load_config()
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](args, config)
    except (EncoreError, FileNotFoundError, NotADirectoryError, ValueError) as exc:
        print(f"encore: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
