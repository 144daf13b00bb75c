"""``encore services up|down|status``: the local Kafka and MongoDB stack.

``encore services supervise`` (not listed in the help) is how Encore starts the stack's
supervisor; see :mod:`core.stack_supervisor`.
"""

from __future__ import annotations

import argparse

from core.config import Config, redact_uri
from core.leases import PINNED


def cmd_services(args: argparse.Namespace, config: Config) -> int:
    """Run ``encore services up|down|status|supervise``."""
    from core.services import LocalStack
    from core.stack_supervisor import supervise

    if args.action == "supervise":
        return supervise(config)
    stack = LocalStack(config)
    if args.action == "up":
        for info in stack.up().values():
            print(f"{info.name}: running on {info.address} (pid {info.pid}, data {info.data_path})")
    elif args.action == "down":
        stopped = stack.stop()
        print("stopped: " + (", ".join(stopped) or "nothing was running"))
    else:
        _print_status(stack, config)
    return 0


def _print_status(stack, config: Config) -> None:
    running = stack.status()
    for name in ("mongo", "kafka"):
        external = config.mongo_uri if name == "mongo" else config.kafka_bootstrap
        if external:
            print(f"{name}: external ({redact_uri(external)})")
        elif name in running:
            info = running[name]
            print(f"{name}: running on {info.address} (pid {info.pid}, data {info.data_path})")
        else:
            print(f"{name}: not running")
    if running:
        clients = stack.clients()
        kept = " and kept up by `encore services up`" if PINNED in clients else ""
        users = len([c for c in clients if c != PINNED])
        print(f"used by {users} Encore process(es){kept}")


def add_parser(sub) -> None:
    """Register ``encore services``."""
    svc = sub.add_parser("services", help="the local Kafka and MongoDB stack")
    svc.add_argument("action", choices=("up", "down", "status", "supervise"), metavar="{up,down,status}",
                     help="up: start it and keep it until down (it otherwise stops after the last "
                          "Encore process using it); down: stop it now; status: where it runs")
    svc.set_defaults(run=cmd_services)
