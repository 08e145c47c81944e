"""Every command of the README's tour runs, in order, against a real plane.

`make up` is replaced by a plane on a free port (the tour's `kubeds up --nodes 3`), and the
`export KUBECONFIG=...` line by the environment; every other line runs verbatim in a shell from the
repository root, with `.venv/bin` (for `kubeds`) on the PATH.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningPlane, start_plane, stop_plane

ROOT = Path(__file__).resolve().parents[2]


def tour_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## A five-minute tour", 1)[1].split("```", 2)[1]
    lines = []
    for raw in block.splitlines():
        line = raw.split("#", 1)[0].strip() if " #" in raw else raw.strip()
        if line:
            lines.append(line)
    return lines


@pytest.fixture(scope="module")
def tour_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlane]:
    p = start_plane(tmp_path_factory.mktemp("tour"), "--nodes", "3")
    yield p
    stop_plane(p)


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```", 2)[1]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == [
        "make demo",
        "make test",
    ]
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/kubeds demo" in makefile and "$(BIN)/kubeds up" in makefile


def test_tour_commands_run(tour_plane: RunningPlane, tmp_path: Path) -> None:
    commands = tour_commands()
    assert commands[0] == "make up" and commands[1].startswith("export KUBECONFIG=")
    env = dict(os.environ)
    env["KUBECONFIG"] = str(tour_plane.kubeconfig)
    env["KUBECACHEDIR"] = str(tmp_path / "kubectl-cache")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for cmd in commands[2:]:
        res = subprocess.run(cmd, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, f"{cmd}\n{res.stdout}\n{res.stderr}"
        if cmd.startswith("kubectl rollout status"):
            assert "successfully rolled out" in res.stdout
        if cmd == "kubeds status":
            assert "NODES" in res.stdout
