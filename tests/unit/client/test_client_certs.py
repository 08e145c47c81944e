"""PKI generation and reuse, the authentication helper, and a real TLS handshake with HttpTransport."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeds import client, clock, wire
from kubeds.apiserver import certs
from kubeds.client import errors, kubeconfig, transport


def _cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def _sans(pem: bytes) -> set[str]:
    san = _cert(pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)) | {
        str(i) for i in san.get_values_for_type(x509.IPAddress)
    }


def test_ensure_pki_creates_ca_server_admin_and_token(tmp_path: Path) -> None:
    pki = certs.ensure_pki(tmp_path, hosts=["10.0.0.5", "kubeds.example"])

    ca = _cert(pki.ca_pem)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= dt.timedelta(days=3650)
    assert ca.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]

    server = _cert(pki.server_cert_pem)
    server.verify_directly_issued_by(ca)
    assert _sans(pki.server_cert_pem) == {"10.0.0.5", "kubeds.example", "localhost", "127.0.0.1"}
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

    admin = _cert(pki.admin_cert_pem)
    admin.verify_directly_issued_by(ca)
    assert admin.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kubeds-admin"
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    assert list(admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]

    assert len(pki.token) >= 32
    assert pki.token_path.read_text().strip() == pki.token
    for secret in (pki.ca_key_path, pki.server_key_path, pki.admin_key_path, pki.token_path):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    assert pki.ca_cert_path.read_bytes() == pki.ca_pem
    assert pki.directory == tmp_path / "pki"


def test_ensure_pki_is_idempotent(tmp_path: Path) -> None:
    first = certs.ensure_pki(tmp_path, hosts=["127.0.0.1"])
    second = certs.ensure_pki(tmp_path, hosts=["127.0.0.1", "localhost"])
    assert second == first


def test_changed_hosts_reissue_only_the_server_cert(tmp_path: Path) -> None:
    first = certs.ensure_pki(tmp_path, hosts=[])
    second = certs.ensure_pki(tmp_path, hosts=["192.168.1.20"])
    assert second.server_cert_pem != first.server_cert_pem
    assert "192.168.1.20" in _sans(second.server_cert_pem)
    assert (second.ca_pem, second.ca_key_pem) == (first.ca_pem, first.ca_key_pem)
    assert (second.admin_cert_pem, second.token) == (first.admin_cert_pem, first.token)
    # IPv6 in brackets is accepted and stored as an IP SAN.
    third = certs.ensure_pki(tmp_path, hosts=["[::1]"])
    assert ipaddress.ip_address("::1") in _cert(third.server_cert_pem).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value.get_values_for_type(x509.IPAddress)


def test_lost_ca_reissues_every_leaf(tmp_path: Path) -> None:
    first = certs.ensure_pki(tmp_path, hosts=[])
    first.ca_key_path.unlink()
    second = certs.ensure_pki(tmp_path, hosts=[])
    assert second.ca_pem != first.ca_pem
    _cert(second.server_cert_pem).verify_directly_issued_by(_cert(second.ca_pem))
    _cert(second.admin_cert_pem).verify_directly_issued_by(_cert(second.ca_pem))
    assert second.token == first.token


def test_corrupt_server_key_is_regenerated(tmp_path: Path) -> None:
    first = certs.ensure_pki(tmp_path, hosts=[])
    first.server_key_path.write_bytes(b"garbage")
    second = certs.ensure_pki(tmp_path, hosts=[])
    assert second.server_key_pem != b"garbage"
    assert second.server_cert_pem != first.server_cert_pem
    assert second.ca_pem == first.ca_pem


def test_leaf_near_expiry_is_renewed(tmp_path: Path) -> None:
    fake = clock.FakeClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    first = certs.ensure_pki(tmp_path, hosts=[], clock=fake)
    fake.advance(dt.timedelta(days=340).total_seconds())
    second = certs.ensure_pki(tmp_path, hosts=[], clock=fake)
    assert second.server_cert_pem != first.server_cert_pem
    assert second.admin_cert_pem != first.admin_cert_pem
    assert second.ca_pem == first.ca_pem


ADMIN_PEER = {"subject": ((("organizationName", "system:masters"),), (("commonName", "kubeds-admin"),))}


@pytest.mark.parametrize(
    ("headers", "peer", "expected"),
    [
        pytest.param({}, None, None, id="anonymous"),
        pytest.param({"authorization": "Bearer {token}"}, None, "kubeds-admin", id="token"),
        pytest.param({"Authorization": "bearer {token}"}, None, "kubeds-admin", id="token-case-insensitive"),
        pytest.param({"authorization": "Bearer wrong"}, None, None, id="wrong-token"),
        pytest.param({"authorization": "Bearer "}, None, None, id="empty-token"),
        pytest.param({"authorization": "Basic {token}"}, None, None, id="basic-scheme"),
        pytest.param({}, ADMIN_PEER, "kubeds-admin", id="client-cert"),
        pytest.param({"authorization": "Bearer wrong"}, ADMIN_PEER, "kubeds-admin", id="cert-before-token"),
        pytest.param({}, {}, None, id="unverified-cert-empty-dict"),
        pytest.param({}, {"subject": ((("organizationName", "x"),),)}, None, id="cert-without-cn"),
    ],
)
def test_authenticate(
    tmp_path: Path, headers: dict[str, str], peer: dict[str, Any] | None, expected: str | None
) -> None:
    pki = certs.ensure_pki(tmp_path, hosts=[])
    filled = {k: v.format(token=pki.token) for k, v in headers.items()}
    assert certs.authenticate(filled, peer, pki) == expected


# --- a real TLS handshake (the `serve` fixture is in conftest.py) -----------------------------------

Serve = Callable[[certs.Pki], Awaitable[str]]


async def test_tls_handshake_with_token(tmp_path: Path, serve: Serve) -> None:
    pki = certs.ensure_pki(tmp_path, hosts=[])
    server = await serve(pki)
    http = transport.HttpTransport(server, ca_pem=pki.ca_pem, token=pki.token)
    try:
        resp = await http.request(wire.Request("GET", "/api/v1/nodes", query={"limit": ["5"]}))
    finally:
        await http.close()
    assert resp.status == 200
    assert orjson.loads(resp.body) == {"user": "kubeds-admin", "path": "/api/v1/nodes", "query": "limit=5"}


async def test_tls_handshake_with_client_cert_and_watch_stream(tmp_path: Path, serve: Serve) -> None:
    pki = certs.ensure_pki(tmp_path, hosts=[])
    server = await serve(pki)
    http = transport.HttpTransport(
        server,
        ca_pem=pki.ca_pem,
        token=None,
        client_cert_pem=pki.admin_cert_pem,
        client_key_pem=pki.admin_key_pem,
    )
    try:
        resp = await http.request(wire.Request("GET", "/api/v1/pods", query={"watch": ["true"]}))
        assert resp.status == 200 and resp.stream is not None
        chunks = [chunk async for chunk in resp.stream]
    finally:
        await http.close()
    assert chunks == [
        b'{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n',
        b'{"type":"MODIFIED","object":{"metadata":{"name":"kubeds-admin"}}}\n',
    ]


async def test_no_credentials_is_unauthorized(tmp_path: Path, serve: Serve) -> None:
    pki = certs.ensure_pki(tmp_path, hosts=[])
    server = await serve(pki)
    http = transport.HttpTransport(server, ca_pem=pki.ca_pem, token=None)
    try:
        resp = await http.request(wire.Request("GET", "/api"))
    finally:
        await http.close()
    assert resp.status == 401


async def test_server_from_another_ca_is_rejected(tmp_path: Path, serve: Serve) -> None:
    pki = certs.ensure_pki(tmp_path / "a", hosts=[])
    other = certs.ensure_pki(tmp_path / "b", hosts=[])
    server = await serve(pki)
    http = transport.HttpTransport(server, ca_pem=other.ca_pem, token=pki.token)
    try:
        with pytest.raises(errors.TransportError) as caught:
            await http.request(wire.Request("GET", "/api"))
    finally:
        await http.close()
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorCertificateError)


async def test_client_cert_from_another_ca_fails_the_handshake(tmp_path: Path, serve: Serve) -> None:
    pki = certs.ensure_pki(tmp_path / "a", hosts=[])
    other = certs.ensure_pki(tmp_path / "b", hosts=[])
    server = await serve(pki)
    http = transport.HttpTransport(
        server,
        ca_pem=pki.ca_pem,
        token=None,
        client_cert_pem=other.admin_cert_pem,
        client_key_pem=other.admin_key_pem,
    )
    try:
        with pytest.raises(errors.TransportError):
            await http.request(wire.Request("GET", "/api"))
    finally:
        await http.close()


async def test_token_is_not_sent_over_plain_http() -> None:
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/api", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    http = transport.HttpTransport(f"http://127.0.0.1:{runner.addresses[0][1]}", ca_pem=None, token="secret")
    try:
        resp = await http.request(wire.Request("GET", "/api"))
    finally:
        await http.close()
        await runner.cleanup()
    assert resp.status == 200
    assert seen == [None]


async def test_api_client_from_kubeconfig_over_tls(tmp_path: Path, serve: Serve) -> None:
    """The whole chain: PKI → kubeconfig file → client_from_kubeconfig → HTTPS get and watch."""
    pki = certs.ensure_pki(tmp_path / "data", hosts=[])
    server = await serve(pki)
    path = kubeconfig.write_kubeconfig(tmp_path / "kc", server=server, ca_pem=pki.ca_pem, token=pki.token)
    async with client.client_from_kubeconfig(kubeconfig.load_kubeconfig(path)) as api_client:
        pods = api_client.resource("v1", "pods")
        got = await pods.get("p", namespace="default")
        events = [e async for e in pods.watch(namespace="default", resource_version="5")]
    assert got == {"user": "kubeds-admin", "path": "/api/v1/namespaces/default/pods/p", "query": ""}
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"),
        ("MODIFIED", "kubeds-admin"),
    ]


def test_public_exports() -> None:
    assert set(client.__all__) == {
        "ApiClient",
        "ApiError",
        "HttpTransport",
        "InProcessTransport",
        "KubeConfig",
        "ResourceClient",
        "Transport",
        "client_from_kubeconfig",
        "load_kubeconfig",
        "resolve_kubeconfig_path",
        "write_kubeconfig",
    }
    assert all(hasattr(client, name) for name in client.__all__)


async def test_abandoned_watch_stream_releases_the_connection(tmp_path: Path, serve: Serve) -> None:
    pki = certs.ensure_pki(tmp_path, hosts=[])
    server = await serve(pki)
    http = transport.HttpTransport(server, ca_pem=pki.ca_pem, token=pki.token, pool_size=1)
    try:
        first = await http.request(wire.Request("GET", "/api/v1/pods", query={"watch": ["true"]}))
        assert first.stream is not None
        await first.stream.aclose()  # type: ignore[attr-defined]
        # With a pool of one connection, this only completes if the watch gave its connection back.
        second = await asyncio.wait_for(http.request(wire.Request("GET", "/api")), timeout=10)
    finally:
        await http.close()
    assert second.status == 200
