"""The ``kubeds`` command: one entry point, one module per subcommand.

Exit codes: 0 success, 1 the operation failed, 2 bad usage (argparse's convention).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kubeds import __version__, heap
from kubeds.cli import bench, components, demo, node, status, up

__all__ = ["build_parser", "main"]


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
    components.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    heap.tune_collector()  # long-lived caches: see kubeds.heap
    return int(args.func(args))
