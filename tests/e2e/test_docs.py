"""Documentation that is generated or quoted stays true."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_command_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location(
        "gen_command_docs", ROOT / "scripts" / "gen_command_docs.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "commands.md").read_text() == mod.render(), (
        "docs/commands.md is stale: run .venv/bin/python scripts/gen_command_docs.py"
    )
