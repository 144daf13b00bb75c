"""``encore rescan [FOLDER...]``: follow the disk in every remembered library folder."""

from __future__ import annotations

import argparse

from core.cli.common import cancellable_job, json_text, open_store, skip_line
from core.config import Config
from core.store.paths import display


def cmd_rescan(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore rescan``: folders given on the command line are remembered first."""
    from core.library.folders import add_folder
    from core.library.rescan import rescan

    store = open_store(config)
    for folder in args.folders:
        add_folder(store, folder)
    with cancellable_job(args) as (update, cancel):
        report = rescan(store, args.folders or None, jobs=args.jobs, progress=update, cancel=cancel)
    if args.json:
        print(json_text(report.as_json()))
    else:
        _print_summary(report)
    return 130 if report.cancelled else 0


def _print_summary(report) -> None:
    print(f"imported {len(report.imported)}, removed {len(report.removed)}, "
          f"moved {len(report.moved)}, skipped {len(report.skipped)}"
          + (" (cancelled: run again to finish)" if report.cancelled else ""))
    for old, new in report.moved:
        print(f"  moved {display(old)} -> {display(new)}")
    for path in report.removed:
        print(f"  removed {display(path)}")
    for item in report.skipped:
        print(skip_line(item.path, item.reason))


def add_parser(sub) -> None:
    """Register ``encore rescan``."""
    cmd = sub.add_parser("rescan", help="import new and changed files of the library folders, "
                                        "drop deleted ones, re-link moved ones")
    cmd.add_argument("folders", nargs="*",
                     help="folders to remember and rescan (default: every remembered folder)")
    cmd.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    cmd.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    cmd.add_argument("--progress", action="store_true", help="progress bar even when not a tty")
    cmd.add_argument("--no-progress", action="store_true")
    cmd.set_defaults(run=cmd_rescan)
