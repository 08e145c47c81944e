"""The kubeds command: help for every subcommand, errors that say what to do next, exit codes."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kubeds.cli.main import build_parser
from tests.e2e.conftest import RunningPlane

SUBCOMMANDS = [
    "up",
    "node",
    "status",
    "demo",
    "bench",
    "apiserver",
    "controller-manager",
    "scheduler",
    "nodes",
]


def kubeds(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeds", *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )


def test_top_level_help_lists_every_subcommand() -> None:
    res = kubeds("--help")
    assert res.returncode == 0
    for name in SUBCOMMANDS:
        assert name in res.stdout, name


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(name: str) -> None:
    res = kubeds(name, "--help")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("usage: kubeds " + name)
    assert len(res.stdout.splitlines()) >= 3


def test_node_actions_have_help() -> None:
    for action in ("add", "remove", "fail", "recover", "condition"):
        res = kubeds("node", action, "--help")
        assert res.returncode == 0 and f"kubeds node {action}" in res.stdout


def test_no_subcommand_is_usage_error() -> None:
    res = kubeds()
    assert res.returncode == 2 and "usage:" in res.stderr


def test_bad_flag_value_is_usage_error(tmp_path: Path) -> None:
    res = kubeds("up", "--port", "70000", "--data-dir", str(tmp_path))
    assert res.returncode == 2 and "--port must be between 0 and 65535" in res.stderr


def test_port_in_use_suggests_port_0(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        res = kubeds("up", "--port", str(port), "--nodes", "0", "--data-dir", str(tmp_path / "d"))
    assert res.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in res.stderr and "--port 0" in res.stderr
    assert "Traceback" not in res.stderr


def test_second_plane_on_the_same_data_dir_is_refused(plane: RunningPlane) -> None:
    res = kubeds("up", "--port", "0", "--nodes", "0", "--data-dir", str(plane.data_dir))
    assert res.returncode == 1
    assert "another kubeds is already running on" in res.stderr and "--data-dir" in res.stderr


def test_data_dir_from_another_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "FORMAT").write_text("999\n")
    res = kubeds("up", "--port", "0", "--nodes", "0", "--data-dir", str(tmp_path))
    assert res.returncode == 1
    assert "was written by a kubeds with data format 999" in res.stderr


def test_client_commands_without_a_plane_say_how_to_start_one(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for args in (["status"], ["node", "add", "x"]):
        res = kubeds(*args, env=env, cwd=tmp_path)
        assert res.returncode == 1
        assert "start a plane with `kubeds up`" in res.stderr, res.stderr


def test_client_commands_with_a_dead_plane(tmp_path: Path, plane: RunningPlane) -> None:
    # A kubeconfig that points at a port nobody listens on.
    text = plane.kubeconfig.read_text()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    server = plane.server
    kc = tmp_path / "kubeconfig"
    kc.write_text(text.replace(server, f"https://127.0.0.1:{dead}"))
    res = kubeds("status", "--kubeconfig", str(kc))
    assert res.returncode == 1
    assert f"no kubeds plane answers at https://127.0.0.1:{dead}: start one with `kubeds up`" in res.stderr


def test_status_summarises_the_plane(plane: RunningPlane) -> None:
    res = kubeds("status", "--kubeconfig", str(plane.kubeconfig))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"kubeds plane at {plane.server} (Kubernetes v1.32.0)")
    assert "NODES" in res.stdout and "PODS" in res.stdout


def test_parser_builds_without_side_effects() -> None:
    parser = build_parser()
    assert parser.prog == "kubeds"


def test_bench_daemonset_on_etcd_reports_both_runs_and_ratios() -> None:
    """A 3-node run on sqlite and on a throwaway etcd (the real binary), in one invocation."""
    res = kubeds("bench", "daemonset", "--storage", "etcd", "--nodes", "3")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "daemonset benchmark, sqlite beside etcd: 3 nodes each" in out
    assert "in-process plane (sqlite storage" in out and "in-process plane (etcd storage" in out
    assert "... etcd: starting a throwaway local etcd" in res.stderr
    total = next(line for line in out.splitlines() if line.startswith("  total (rollout + rolling update)"))
    assert re.search(r" \d+\.\d\dx   <= 3x: (meets target|MISSES TARGET)$", total), total
    assert out.splitlines()[-1].startswith("  etcd within 3x of sqlite (total): ")
