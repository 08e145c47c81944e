"""``kubeds node ...`` against an in-process API server (the HTTPS client swapped for the in-process
one), plus the failure paths a user meets: no kubeconfig, no plane, bad flags."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from nodes_simfixtures import environment

from kubeds.apiserver import certs
from kubeds.cli import connect, node as node_cli
from kubeds.client import errors, kubeconfig
from kubeds.nodes import annotations as knobs, templates


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kubeds")
    node_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["node", *argv])


@pytest.fixture
def kubeconfig_file(tmp_path: Path) -> Path:
    pki = certs.ensure_pki(tmp_path, hosts=["127.0.0.1"])
    # Port 9 (discard) on loopback: nothing answers there.
    return kubeconfig.write_kubeconfig(
        tmp_path / "kubeconfig", server="https://127.0.0.1:9", ca_pem=pki.ca_pem, token=pki.token
    )


async def _run(monkeypatch: pytest.MonkeyPatch, api: Any, kc: Path, *argv: str) -> int:
    monkeypatch.setattr(connect, "client_from_kubeconfig", lambda config, user_agent: api)
    return await node_cli._main(_parse("--kubeconfig", str(kc), *argv))


async def test_add_remove_fail_recover_condition(
    monkeypatch: pytest.MonkeyPatch, kubeconfig_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "etcd.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\n"
        "spec: {containers: [{name: etcd, image: 'registry.k8s.io/etcd:3.5.15-0'}]}\n"
    )
    async with environment() as env:
        code = await _run(
            monkeypatch,
            env.api,
            kubeconfig_file,
            "add",
            "a",
            "--label",
            "tier=edge",
            "--taint",
            "dedicated=infra:NoSchedule",
            "--cpu",
            "8",
            "--memory",
            "32Gi",
            "--static-pod",
            str(manifest),
        )
        assert code == 0
        assert capsys.readouterr().out == "node/a created\n"
        node = await env.node("a")
        assert node["metadata"]["labels"]["tier"] == "edge"
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "a"
        assert node["spec"]["taints"] == [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]
        assert node["status"]["capacity"]["cpu"] == "8" and node["status"]["capacity"]["memory"] == "32Gi"
        (static,) = json.loads(node["metadata"]["annotations"][knobs.STATIC_PODS_ANNOTATION])
        assert static["metadata"]["name"] == "etcd"

        # --count continues after existing names: node-1 exists, so node-2 and node-3 are added.
        await env.res("nodes").create(templates.new_node("node-1", internal_ip="172.16.0.10"))
        assert await _run(monkeypatch, env.api, kubeconfig_file, "add", "--count", "2") == 0
        names = sorted(n["metadata"]["name"] for n in (await env.res("nodes").list())["items"])
        assert names == ["a", "node-1", "node-2", "node-3"]

        assert await _run(monkeypatch, env.api, kubeconfig_file, "fail", "a") == 0
        assert knobs.is_failed(await env.node("a"))
        assert await _run(monkeypatch, env.api, kubeconfig_file, "recover", "a") == 0
        assert not knobs.is_failed(await env.node("a"))
        assert await _run(monkeypatch, env.api, kubeconfig_file, "condition", "a", "DiskPressure=True") == 0
        assert (await env.node("a"))["metadata"]["annotations"]["kubeds.io/condition-DiskPressure"] == "True"

        lease = templates.new_lease("a", "", now=env.clock.now())
        await env.res("leases").create(lease, namespace=templates.LEASE_NAMESPACE)
        capsys.readouterr()
        assert await _run(monkeypatch, env.api, kubeconfig_file, "remove", "a", "node-2") == 0
        assert capsys.readouterr().out.splitlines() == ["node/a deleted", "node/node-2 deleted"]
        with pytest.raises(errors.NotFound):
            await env.node("a")
        with pytest.raises(errors.NotFound):
            await env.lease("a")

        # Errors from the server: exit 1 with kubectl's wording.
        assert await _run(monkeypatch, env.api, kubeconfig_file, "remove", "nope") == 1
        assert 'nodes "nope" not found' in capsys.readouterr().err
        assert await _run(monkeypatch, env.api, kubeconfig_file, "add", "node-1") == 1


async def test_many_nodes_report_progress_not_one_line_each(
    monkeypatch: pytest.MonkeyPatch, kubeconfig_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with environment() as env:
        assert await _run(monkeypatch, env.api, kubeconfig_file, "add", "--count", "60", "--prefix", "w") == 0
        out, err = capsys.readouterr()
        assert out == "60 nodes created\n"
        assert err.splitlines()[-1] == "Created 60/60 nodes"  # plain lines when stderr is not a tty
        assert len((await env.res("nodes").list())["items"]) == 60


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("add",), "give node names"),
        (("add", "x", "--label", "novalue"), "invalid label"),
        (("add", "x", "--taint", "k=v:Sometimes"), "invalid taint effect"),
        (("add", "x", "--taint", "k-"), "removes a taint"),
        (("add", "x", "--cpu", "four"), "invalid quantity"),
        (("condition", "x", "DiskPressure=Maybe"), "Type=Status"),
    ],
)
async def test_bad_usage_exits_2(
    monkeypatch: pytest.MonkeyPatch,
    kubeconfig_file: Path,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    message: str,
) -> None:
    async with environment() as env:
        assert await _run(monkeypatch, env.api, kubeconfig_file, *argv) == 2
        assert message in capsys.readouterr().err


async def test_no_plane_answering(kubeconfig_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = await node_cli._main(_parse("--kubeconfig", str(kubeconfig_file), "fail", "a"))
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "kubeds node: no kubeds plane answers at https://127.0.0.1:9: start one with `kubeds up`"
    )


async def test_no_kubeconfig(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none"
    assert await node_cli._main(_parse("remove", "a", "--kubeconfig", str(missing))) == 1
    assert f"no kubeconfig at {missing}" in capsys.readouterr().err
