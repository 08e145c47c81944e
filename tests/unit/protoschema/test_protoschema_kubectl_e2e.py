"""The real kubectl 1.33 (protobuf request bodies) creates objects against the in-process server."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kubeds.apiserver import certs
from kubeds.apiserver.handler import APIServer
from kubeds.apiserver.http import serve
from kubeds.clock import REAL
from kubeds.storage.memory import MemoryBackend

_ON_PATH = shutil.which("kubectl")
KUBECTL_133 = Path(os.path.realpath(_ON_PATH)).parent / "kubectl.1.33" if _ON_PATH else None

pytestmark = pytest.mark.skipif(
    KUBECTL_133 is None or not KUBECTL_133.exists(), reason="kubectl.1.33 is not beside kubectl on PATH"
)


class Kubectl:
    def __init__(self, kubeconfig: Path, cache: Path) -> None:
        self.kubeconfig = kubeconfig
        self.cache = cache

    async def __call__(self, *args: str) -> str:
        assert KUBECTL_133 is not None
        proc = await asyncio.create_subprocess_exec(
            str(KUBECTL_133),
            f"--kubeconfig={self.kubeconfig}",
            f"--cache-dir={self.cache}",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {err.decode()}"
        return out.decode()

    async def get(self, *args: str) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(await self("get", *args, "-o", "json"))
        return obj


@pytest.fixture
async def kubectl(tmp_path: Path) -> AsyncIterator[Kubectl]:
    pki = certs.ensure_pki(tmp_path / "data", hosts=["127.0.0.1"])
    backend = MemoryBackend()
    await backend.start()
    api = APIServer(backend, clock=REAL, pki=pki)
    await api.start()
    runner, port = await serve(api, host="127.0.0.1", port=0, ssl_context=certs.server_ssl_context(pki))
    kubeconfig = tmp_path / "kubeconfig"
    cluster = {
        "server": f"https://127.0.0.1:{port}",
        "certificate-authority-data": base64.b64encode(pki.ca_pem).decode(),
    }
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "kubeds", "cluster": cluster}],
                "users": [{"name": "admin", "user": {"token": pki.token}}],
                "contexts": [{"name": "kubeds", "context": {"cluster": "kubeds", "user": "admin"}}],
                "current-context": "kubeds",
            }
        )
    )
    try:
        yield Kubectl(kubeconfig, tmp_path / "cache")
    finally:
        await runner.cleanup()
        await api.close()
        await backend.close()


async def test_kubectl_133_create_commands(kubectl: Kubectl) -> None:
    assert (await kubectl("create", "namespace", "team-a")).strip() == "namespace/team-a created"
    ns = await kubectl.get("namespace", "team-a")
    assert ns["status"]["phase"] == "Active"
    assert ns["metadata"]["uid"]

    out = await kubectl("-n", "team-a", "create", "configmap", "x", "--from-literal=a=b", "--from-literal=c=")
    assert out.strip() == "configmap/x created"
    assert (await kubectl.get("-n", "team-a", "configmap", "x"))["data"] == {"a": "b", "c": ""}

    out = await kubectl(
        "-n", "team-a", "create", "deployment", "web", "--image=nginx", "--replicas=0", "--port=80"
    )
    assert out.strip() == "deployment.apps/web created"
    deploy = await kubectl.get("-n", "team-a", "deployment", "web")
    assert deploy["spec"]["replicas"] == 0
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    assert (container["name"], container["image"]) == ("nginx", "nginx")
    assert container["ports"][0]["containerPort"] == 80

    assert (
        await kubectl("-n", "team-a", "create", "serviceaccount", "sa")
    ).strip() == "serviceaccount/sa created"
    assert (await kubectl.get("-n", "team-a", "serviceaccount", "sa"))["metadata"]["namespace"] == "team-a"

    out = await kubectl("create", "priorityclass", "high", "--value=1000", "--description=important")
    assert out.strip() == "priorityclass.scheduling.k8s.io/high created"
    pc = await kubectl.get("priorityclass", "high")
    assert (pc["value"], pc["description"], pc["preemptionPolicy"]) == (
        1000,
        "important",
        "PreemptLowerPriority",
    )
    assert "globalDefault" not in pc or pc["globalDefault"] is False

    out = await kubectl("-n", "team-a", "create", "pdb", "web", "--selector=app=web", "--min-available=50%")
    assert out.strip() == "poddisruptionbudget.policy/web created"
    pdb = await kubectl.get("-n", "team-a", "pdb", "web")
    assert pdb["spec"]["minAvailable"] == "50%"
    assert pdb["spec"]["selector"] == {"matchLabels": {"app": "web"}}

    out = await kubectl(
        "-n", "team-a", "create", "pdb", "web-int", "--selector=app=web", "--max-unavailable=1"
    )
    assert out.strip() == "poddisruptionbudget.policy/web-int created"
    assert (await kubectl.get("-n", "team-a", "pdb", "web-int"))["spec"]["maxUnavailable"] == 1

    assert (await kubectl("-n", "team-a", "scale", "deployment", "web", "--replicas=2")).strip() == (
        "deployment.apps/web scaled"
    )
    assert (await kubectl.get("-n", "team-a", "deployment", "web"))["spec"]["replicas"] == 2
