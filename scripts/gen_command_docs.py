"""Write docs/commands.md from the kubeds argument parser, so the reference never drifts.

Run: .venv/bin/python scripts/gen_command_docs.py   (tests/e2e/test_docs.py checks it is current)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kubeds.cli.main import build_parser

OUT = Path(__file__).resolve().parents[1] / "docs" / "commands.md"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def render() -> str:
    os.environ["COLUMNS"] = "100"
    parser = build_parser()
    parts = [
        "# Command reference",
        "",
        "Generated from `kubeds --help` by `scripts/gen_command_docs.py`; do not edit by hand.",
        "",
        "```",
        parser.format_help().rstrip(),
        "```",
    ]
    for name, sub in _subparsers(parser).items():
        parts += ["", f"## kubeds {name}", "", "```", sub.format_help().rstrip(), "```"]
        for action_name, action_parser in _subparsers(sub).items():
            parts += [
                "",
                f"### kubeds {name} {action_name}",
                "",
                "```",
                action_parser.format_help().rstrip(),
                "```",
            ]
    return "\n".join(parts) + "\n"


def main() -> int:
    OUT.write_text(render())
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
