"""The ``kubeds`` command: one entry point, one module per subcommand.

Exit codes: 0 success, 1 the operation failed, 2 bad usage (argparse's convention).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kubeds import __version__
from kubeds.cli import bench, demo, node, status, up

__all__ = ["build_parser", "main"]

# Subcommands of the command-line contract (docs/DESIGN.md) that are not built yet. They are
# listed so that `kubeds --help` tells the whole story, and they say plainly that they are missing.
_NOT_YET = {
    "apiserver": "run the API server alone (multi-process mode)",
    "controller-manager": "run the controllers alone (multi-process mode)",
    "scheduler": "run the scheduler alone (multi-process mode)",
    "nodes": "run the node simulator alone (multi-process mode)",
}


def _not_yet(args: argparse.Namespace) -> int:
    print(
        f"kubeds {args.command}: not implemented yet in kubeds {__version__}; "
        "see README.md ('What works today') for what is available.",
        file=sys.stderr,
    )
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubeds",
        description=(
            "kubeds: a Kubernetes-compatible control plane for DaemonSets and node operations, "
            "on simulated nodes, driven by the real kubectl."
        ),
    )
    parser.add_argument("--version", action="version", version=f"kubeds {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    up.add_parser(sub)
    node.add_parser(sub)
    status.add_parser(sub)
    demo.add_parser(sub)
    bench.add_parser(sub)
    for name, text in _NOT_YET.items():
        p = sub.add_parser(name, help=f"{text} (not implemented yet)", description=text)
        p.set_defaults(func=_not_yet)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args))
