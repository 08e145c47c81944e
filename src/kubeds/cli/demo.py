"""``kubeds demo``: the seed's DaemonSet story with the real kubectl, narrated and self-checking."""

from __future__ import annotations

import argparse
import shutil
import sys

from kubeds.demo import story
from kubeds.demo.runner import DemoError, Session

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="walk through the DaemonSet story with the real kubectl, checking every claim",
        description=(
            "Start a kubeds plane in a temporary directory and tell the seed's story (S1 to S9) with "
            "the real kubectl: nodes with a taint, with DiskPressure and without the linux label; the "
            "kube-proxy DaemonSet; a node joining; cordon and drain; taint eviction; a rolling update "
            "with rollout status, history and undo; a DaemonSet made from `kubectl create deployment "
            "--dry-run`; a node leaving; deleting the DaemonSet. Each claim is checked; the exit code is "
            "non-zero, naming the step, if one does not hold. Everything started is stopped at the end."
        ),
    )
    p.add_argument(
        "--kubectl", default="kubectl", help="the kubectl binary to use (default: kubectl on PATH)"
    )
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each expectation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if shutil.which(args.kubectl) is None:
        print(
            f"kubeds demo: {args.kubectl!r} not found: install kubectl or pass --kubectl PATH",
            file=sys.stderr,
        )
        return 1
    session = Session(kubectl=args.kubectl, timeout=args.timeout)
    try:
        story.tell(session)
    except DemoError as exc:
        print(f"\nkubeds demo: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nkubeds demo: interrupted", file=sys.stderr)
        return 130
    finally:
        session.stop()
    return 0
