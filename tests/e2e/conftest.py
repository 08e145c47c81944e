"""End-to-end fixtures: a real ``kubeds up`` process, the real kubectl binaries, the official client.

The plane is started once per session as a subprocess on ``--port 0`` with its own data dir and
stopped with SIGTERM at the end. Tests isolate themselves in their own namespaces.

kubectl: the versions under test (1.27, the oldest supported, and the newest, 1.33) are looked up
beside the ``kubectl`` on PATH (``kubectl.1.27`` ...), as every machine of this project has them.
Each test gets a fresh ``--cache-dir`` because kubectl caches discovery for six hours.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

KUBECTL_VERSIONS = ("1.27", "1.33")


def kubectl_binary(version: str) -> str:
    base = shutil.which("kubectl")
    candidates = []
    if base:
        candidates.append(Path(os.path.realpath(base)).parent / f"kubectl.{version}")
        candidates.append(Path(base).parent / f"kubectl.{version}")
    found = shutil.which(f"kubectl.{version}")
    if found:
        candidates.insert(0, Path(found))
    for c in candidates:
        if c.exists():
            return str(c)
    raise RuntimeError(f"kubectl.{version} not found beside kubectl on PATH (looked at {candidates})")


@dataclass
class RunningPlane:
    data_dir: Path
    kubeconfig: Path
    server: str
    proc: subprocess.Popen[str]


def start_plane(data_dir: Path, *extra: str) -> RunningPlane:
    data_dir.mkdir(parents=True, exist_ok=True)
    # stderr goes to a file: a pipe nobody reads fills up and blocks the plane.
    log = (data_dir / "kubeds.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeds", "up", "--port", "0", "--data-dir", str(data_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    log.close()
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("kubeds ready:"):
        proc.kill()
        proc.communicate(timeout=10)
        raise RuntimeError(
            f"kubeds up did not become ready: {line!r} {(data_dir / 'kubeds.log').read_text()}"
        )
    fields = dict(part.split("=", 1) for part in line.split()[2:])
    return RunningPlane(data_dir, Path(fields["kubeconfig"]), fields["server"], proc)


def stop_plane(p: RunningPlane) -> None:
    p.proc.send_signal(signal.SIGTERM)
    try:
        p.proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.proc.kill()
        p.proc.communicate()
        raise


@pytest.fixture(scope="session")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlane]:
    p = start_plane(tmp_path_factory.mktemp("plane"), "--nodes", "0")
    yield p
    stop_plane(p)
    assert p.proc.returncode == 0, "kubeds up did not stop cleanly on SIGTERM"


class Kubectl:
    """Runs one kubectl binary against the plane with a fresh discovery cache."""

    def __init__(self, binary: str, version: str, kubeconfig: Path, cache_dir: Path) -> None:
        self.binary = binary
        self.version = version
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir

    def run(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        cmd = [self.binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache_dir), *args]
        res = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)
        if check and res.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res

    def ok(self, *args: str, input: str | None = None) -> str:
        return self.run(*args, input=input).stdout

    def fails(self, *args: str, input: str | None = None) -> str:
        res = self.run(*args, input=input, check=False)
        assert res.returncode != 0, f"{' '.join(args)} unexpectedly succeeded:\n{res.stdout}"
        return res.stderr

    def popen(self, *args: str) -> subprocess.Popen[str]:
        cmd = [self.binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache_dir), *args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(params=KUBECTL_VERSIONS, ids=[f"kubectl{v}" for v in KUBECTL_VERSIONS])
def kubectl(request: pytest.FixtureRequest, plane: RunningPlane, tmp_path: Path) -> Kubectl:
    version = request.param
    return Kubectl(kubectl_binary(version), version, plane.kubeconfig, tmp_path / "kubectl-cache")


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    # kubectl 1.33 sends this create as a protobuf body, 1.27 as JSON.
    assert kubectl.ok("create", "namespace", name).strip() == f"namespace/{name} created"
    yield name


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
