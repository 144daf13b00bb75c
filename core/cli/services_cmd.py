"""``encore services up|down|status``: the local Kafka and MongoDB stack."""

from __future__ import annotations

import argparse

from core.config import Config


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


def add_parser(sub) -> None:
    """Register ``encore services``."""
    svc = sub.add_parser("services", help="the local Kafka and MongoDB stack")
    svc.add_argument("action", choices=("up", "down", "status"))
    svc.set_defaults(run=cmd_services)
