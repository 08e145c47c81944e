"""``kubeds apiserver`` pieces: the API server process on SQLite (locking, kubeconfig, clean stop),
waiting for an API server, the profile settings, and the command line's usage errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubeds import plane, wire
from kubeds.apiserver.handler import APIServer
from kubeds.cli import components as cli
from kubeds.client import client_from_kubeconfig, errors, kubeconfig
from kubeds.client.api import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.components import apiserver, wiring
from kubeds.storage.memory import MemoryBackend


def config(tmp_path: Path, **kw: object) -> apiserver.ApiServerConfig:
    return apiserver.ApiServerConfig(data_dir=tmp_path / "d", host="127.0.0.1", port=0, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[apiserver.ApiServerProcess]:
    server = apiserver.ApiServerProcess(config(tmp_path))
    await server.start()
    yield server
    await server.stop()


async def test_serves_https_and_writes_a_kubeconfig_that_works(running: apiserver.ApiServerProcess) -> None:
    assert running.port > 0
    assert running.kubeconfig_path == running.config.data_dir / "kubeconfig"
    kc = kubeconfig.load_kubeconfig(running.kubeconfig_path)
    assert kc.server == running.server_url
    api = client_from_kubeconfig(kc)
    try:
        ns = await api.resource("v1", "namespaces").get("kube-system")
        assert ns["metadata"]["name"] == "kube-system"
    finally:
        await api.close()
    assert (running.config.data_dir / "FORMAT").read_text().strip() == plane.DATA_FORMAT


async def test_sqlite_is_single_instance(tmp_path: Path, running: apiserver.ApiServerProcess) -> None:
    second = apiserver.ApiServerProcess(config(tmp_path, kubeconfig_path=tmp_path / "other"))
    with pytest.raises(apiserver.ApiServerError) as info:
        await second.start()
    assert str(info.value).startswith(f"another kubeds is already running on {tmp_path / 'd'} (pid ")
    assert "only --storage etcd lets several API servers share one data dir" in str(info.value)


async def test_stop_releases_the_data_dir_and_state_survives(tmp_path: Path) -> None:
    first = apiserver.ApiServerProcess(config(tmp_path))
    await first.start()
    api = client_from_kubeconfig(kubeconfig.load_kubeconfig(first.kubeconfig_path))
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"}, "data": {"a": "1"}}
    created = await api.resource("v1", "configmaps").create(body, namespace="default")
    await api.close()
    await first.stop()

    again = apiserver.ApiServerProcess(config(tmp_path, kubeconfig_path=tmp_path / "kc2"))
    await again.start()
    try:
        api = client_from_kubeconfig(kubeconfig.load_kubeconfig(tmp_path / "kc2"))
        got = await api.resource("v1", "configmaps").get("kept", namespace="default")
        await api.close()
        assert got == created
    finally:
        await again.stop()


async def test_another_data_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "FORMAT").write_text("0\n")
    with pytest.raises(apiserver.ApiServerError) as info:
        await apiserver.ApiServerProcess(config(tmp_path)).start()
    assert "was written by a kubeds with data format 0" in str(info.value)


async def test_etcd_without_endpoints_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(apiserver.ApiServerError) as info:
        await apiserver.ApiServerProcess(config(tmp_path, storage="etcd")).start()
    assert str(info.value) == "the etcd backend needs --etcd-endpoints (for example http://127.0.0.1:2379)"
    assert not (tmp_path / "d" / "kubeds.lock").exists()  # etcd mode never takes the SQLite lock


async def test_wait_for_api_returns_once_healthz_answers() -> None:
    clock = FakeClock()
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=clock)
    await server.start()
    try:
        api = ApiClient(InProcessTransport(server.handle), clock=clock)
        assert await wiring.wait_for_api(api, server="in-process", timeout=5, clock=clock)
    finally:
        await server.close()
        await backend.close()


class Refusing:
    async def request(self, req: wire.Request) -> wire.Response:
        raise errors.TransportError("connection refused")

    async def close(self) -> None:
        return None


async def test_wait_for_api_gives_up_after_the_timeout_with_the_last_error() -> None:
    clock = FakeClock()
    api = ApiClient(Refusing(), clock=clock)
    task = asyncio.create_task(wiring.wait_for_api(api, server="https://x:1", timeout=3, clock=clock))
    for _ in range(10):
        await asyncio.sleep(0)
        clock.advance(0.5)
    with pytest.raises(wiring.ApiNotReady) as info:
        await task
    assert str(info.value) == "no kubeds API server answers at https://x:1 (waited 3 s): connection refused"


async def test_wait_for_api_stops_waiting_when_asked() -> None:
    clock = FakeClock()
    stop = asyncio.Event()
    stop.set()
    assert not await wiring.wait_for_api(ApiClient(Refusing(), clock=clock), server="x", timeout=3, stop=stop)


@pytest.mark.parametrize(
    ("profile", "override", "grace", "gc_period", "lease", "renew"),
    [
        ("fast", None, 20.0, 5.0, 20, 5.0),
        ("realistic", None, 40.0, 20.0, 40, 10.0),
        ("fast", 8.0, 8.0, 5.0, 8, 2.0),
    ],
)
def test_profile_timings_match_kubeds_up(
    profile: str, override: float | None, grace: float, gc_period: float, lease: int, renew: float
) -> None:
    cm = wiring.controller_manager_config(profile, node_monitor_grace_period=override)
    assert (cm.node_monitor_grace_period, cm.pod_gc_period) == (grace, gc_period)
    assert wiring.node_lease_timings(profile, node_monitor_grace_period=override) == (lease, renew)
    if override is None:
        same = plane.Plane(plane.PlaneConfig(node_profile=profile)).controller_manager_config()
        assert same == cm


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["apiserver", "--port", "70000"], 2, "kubeds apiserver: --port must be between 0 and 65535"),
        (["controller-manager", "--leader-elect-lease-duration", "1d"], 2, 'time: unknown unit "d"'),
        (["scheduler", "--kubeconfig", "/nonexistent/kc"], 1, "kubeds scheduler: "),
    ],
)
def test_command_line_errors(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        got = cli.main(argv)
    except SystemExit as exc:
        got = int(exc.code or 0)
    assert got == code
    assert message in capsys.readouterr().err
