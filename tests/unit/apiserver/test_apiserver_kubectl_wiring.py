"""The real kubectl against http.serve over HTTPS: proves the adapter, auth and core verbs wire up."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shutil
from pathlib import Path

import aiohttp
import pytest

from kubeds.apiserver import certs
from kubeds.apiserver.handler import APIServer
from kubeds.apiserver.http import serve
from kubeds.clock import REAL
from kubeds.storage.memory import MemoryBackend

FIXTURE = Path("/work/shared/fixtures/kube-proxy-daemonset.yaml")
KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


def _kubeconfig(path: Path, *, server: str, ca_pem: bytes, token: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kubeds",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "kubeds", "context": {"cluster": "kubeds", "user": "admin"}}],
        "current-context": "kubeds",
    }
    path.write_text(json.dumps(config))


async def _kubectl(kubeconfig: Path, cache: Path, *args: str) -> tuple[int, str, str]:
    assert KUBECTL is not None
    proc = await asyncio.create_subprocess_exec(
        KUBECTL,
        f"--kubeconfig={kubeconfig}",
        f"--cache-dir={cache}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_kubectl_over_https(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path / "data", hosts=["127.0.0.1"])
    backend = MemoryBackend()
    await backend.start()
    api = APIServer(backend, clock=REAL, pki=pki)
    await api.start()
    runner, port = await serve(api, host="127.0.0.1", port=0, ssl_context=certs.server_ssl_context(pki))
    server = f"https://127.0.0.1:{port}"
    kubeconfig = tmp_path / "kubeconfig"
    _kubeconfig(kubeconfig, server=server, ca_pem=pki.ca_pem, token=pki.token)
    cache = tmp_path / "cache"
    try:
        rc, out, err = await _kubectl(kubeconfig, cache, "version")
        assert rc == 0, err
        assert "Server Version: v1." in out

        rc, out, err = await _kubectl(kubeconfig, cache, "get", "ns")
        assert rc == 0, err
        lines = out.splitlines()
        assert lines[0].split() == ["NAME", "STATUS", "AGE"]
        assert [ln.split()[0] for ln in lines[1:]] == [
            "default",
            "kube-node-lease",
            "kube-public",
            "kube-system",
        ]
        assert all(ln.split()[1] == "Active" for ln in lines[1:])

        rc, out, err = await _kubectl(kubeconfig, cache, "apply", "-f", str(FIXTURE))
        assert rc == 0, err
        assert out.strip() == "daemonset.apps/kube-proxy created"

        rc, out, err = await _kubectl(kubeconfig, cache, "get", "ds", "-A")
        assert rc == 0, err
        header, row = out.splitlines()
        assert header.split()[:3] == ["NAMESPACE", "NAME", "DESIRED"]
        assert row.split()[:2] == ["kube-system", "kube-proxy"]

        # a second apply is a PATCH with the strategic-merge type and changes nothing
        rc, out, err = await _kubectl(kubeconfig, cache, "apply", "-f", str(FIXTURE))
        assert rc == 0, err
        assert out.strip() == "daemonset.apps/kube-proxy unchanged"

        # no credentials: 401 Status, never a body-less error
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server}/api/v1/namespaces", ssl=False) as resp:
                assert resp.status == 401
                body = await resp.json()
                assert body["reason"] == "Unauthorized"
                assert body["kind"] == "Status"
    finally:
        await runner.cleanup()
        await api.close()
        await backend.close()


async def test_watch_streams_chunked_over_http(tmp_path: Path) -> None:
    backend = MemoryBackend()
    await backend.start()
    api = APIServer(backend, clock=REAL)
    await api.start()
    runner, port = await serve(api, host="127.0.0.1", port=0, ssl_context=None)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/api/v1/namespaces?watch=true&timeoutSeconds=5") as resp:
                assert resp.status == 200
                assert resp.headers.get("Transfer-Encoding") == "chunked"
                first = json.loads(await resp.content.readline())
                assert first["type"] == "ADDED"
                assert first["object"]["metadata"]["name"] == "default"
                for _ in range(3):
                    await resp.content.readline()
                async with session.post(
                    f"{base}/api/v1/namespaces", json={"metadata": {"name": "late"}}
                ) as created:
                    assert created.status == 201
                event = json.loads(await resp.content.readline())
                assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "late")
            big = io.BytesIO(b"x" * (3 * 1024 * 1024 + 1))
            async with session.post(
                f"{base}/api/v1/namespaces", data=big, headers={"Content-Type": "application/json"}
            ) as resp:
                assert resp.status == 413
                assert (await resp.json())["reason"] == "RequestEntityTooLarge"
    finally:
        await runner.cleanup()
        await api.close()
        await backend.close()
