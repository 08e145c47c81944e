"""`kubeds demo` tells the seed's story end to end and every claim holds (CI runs it)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_passes_and_cleans_up() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "kubeds", "demo", "--timeout", "90"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    out = res.stdout
    for chapter in (
        "S1: a DaemonSet from YAML",
        "S6: cordon and drain",
        "S7: a rolling update",
        "S8: deleting",
    ):
        assert chapter in out
    assert "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)" in out
    assert 'daemon set "kube-proxy" successfully rolled out' in out
    assert "The story holds: every claim checked" in out
    data_dir = out.split("Starting a kubeds plane in ", 1)[1].split(" ...", 1)[0]
    assert not os.path.exists(data_dir), "the demo left its data dir behind"
