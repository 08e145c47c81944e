"""kubeconfig: write/load round trip, what real kubectl makes of the file, and path resolution."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from kubeds.apiserver import certs
from kubeds.client import kubeconfig

Serve = Callable[[certs.Pki], Awaitable[str]]
KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

CA = b"-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
CERT = b"-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n"


def test_round_trip_with_token_and_client_cert(tmp_path: Path) -> None:
    path = kubeconfig.write_kubeconfig(
        tmp_path / "sub" / "kubeconfig",
        server="https://127.0.0.1:6443",
        ca_pem=CA,
        token="tok",
        client_cert_pem=CERT,
        client_key_pem=KEY,
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = kubeconfig.load_kubeconfig(path)
    assert loaded == kubeconfig.KubeConfig(
        path=path,
        context="kubeds",
        server="https://127.0.0.1:6443",
        ca_pem=CA,
        token="tok",
        client_cert_pem=CERT,
        client_key_pem=KEY,
    )


def test_round_trip_token_only_with_custom_context(tmp_path: Path) -> None:
    path = kubeconfig.write_kubeconfig(
        tmp_path / "kc", server="https://h:1", ca_pem=CA, token="abc", context="lab"
    )
    loaded = kubeconfig.load_kubeconfig(path)
    assert (loaded.context, loaded.token, loaded.client_cert_pem, loaded.client_key_pem) == (
        "lab",
        "abc",
        None,
        None,
    )


def test_rewrite_keeps_mode_and_replaces_content(tmp_path: Path) -> None:
    target = tmp_path / "kc"
    target.write_text("old")
    target.chmod(0o644)
    kubeconfig.write_kubeconfig(target, server="https://a:1", ca_pem=CA, token="t")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert kubeconfig.load_kubeconfig(target).server == "https://a:1"


def test_cert_without_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="together"):
        kubeconfig.write_kubeconfig(
            tmp_path / "kc", server="https://a:1", ca_pem=CA, token=None, client_cert_pem=CERT
        )


def test_load_resolves_relative_file_paths_and_token_file(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_bytes(CA)
    (tmp_path / "certs" / "me.crt").write_bytes(CERT)
    (tmp_path / "certs" / "me.key").write_bytes(KEY)
    (tmp_path / "token").write_text("from-file\n")
    (tmp_path / "config").write_text(
        """
apiVersion: v1
kind: Config
current-context: b
contexts:
- {name: a, context: {cluster: c1, user: u1}}
- {name: b, context: {cluster: c2, user: u2, namespace: kube-system}}
clusters:
- {name: c1, cluster: {server: "https://one:1"}}
- {name: c2, cluster: {server: "https://two:2", certificate-authority: certs/ca.crt}}
users:
- {name: u1, user: {tokenFile: token}}
- {name: u2, user: {client-certificate: certs/me.crt, client-key: %s}}
"""
        % (tmp_path / "certs" / "me.key")
    )
    current = kubeconfig.load_kubeconfig(tmp_path / "config")
    assert (current.server, current.ca_pem, current.client_cert_pem, current.client_key_pem) == (
        "https://two:2",
        CA,
        CERT,
        KEY,
    )
    assert current.namespace == "kube-system"
    other = kubeconfig.load_kubeconfig(tmp_path / "config", context="a")
    assert (other.server, other.ca_pem, other.token, other.namespace) == (
        "https://one:1",
        None,
        "from-file",
        "default",
    )


def test_inline_data_wins_over_path(tmp_path: Path) -> None:
    (tmp_path / "config").write_text(
        json.dumps(
            {
                "current-context": "x",
                "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
                "clusters": [
                    {
                        "name": "x",
                        "cluster": {
                            "server": "https://x:1",
                            "certificate-authority": "/nonexistent/ca.crt",
                            "certificate-authority-data": base64.b64encode(CA).decode(),
                        },
                    }
                ],
                "users": [{"name": "x", "user": {"token": "t"}}],
            }
        )
    )
    assert kubeconfig.load_kubeconfig(tmp_path / "config").ca_pem == CA


@pytest.mark.parametrize(
    ("text", "context", "message"),
    [
        pytest.param("", None, "no configuration has been provided", id="empty"),
        pytest.param("kind: Config\ncontexts: []\n", None, "no context chosen", id="no-current-context"),
        pytest.param(
            "current-context: nope\ncontexts: []\n",
            None,
            "context was not found for specified context: nope",
            id="missing-context",
        ),
        pytest.param(
            "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n",
            None,
            "cluster 'c' not found",
            id="missing-cluster",
        ),
        pytest.param(
            "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
            "clusters: [{name: c, cluster: {}}]\n",
            None,
            "cluster has no server defined",
            id="no-server",
        ),
        pytest.param(
            "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
            "clusters: [{name: c, cluster: {server: 'https://s', certificate-authority-data: '!!'}}]\n",
            None,
            "certificate-authority-data",
            id="bad-base64",
        ),
        pytest.param("a: [unclosed\n", None, "unable to read kubeconfig", id="bad-yaml"),
    ],
)
def test_load_errors(tmp_path: Path, text: str, context: str | None, message: str) -> None:
    (tmp_path / "config").write_text(text)
    with pytest.raises(kubeconfig.KubeConfigError, match=message):
        kubeconfig.load_kubeconfig(tmp_path / "config", context=context)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(kubeconfig.KubeConfigError, match="unable to read kubeconfig"):
        kubeconfig.load_kubeconfig(tmp_path / "absent")


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        pytest.param("/x/flag", {"KUBECONFIG": "/x/env"}, "/x/flag", id="flag-wins"),
        pytest.param(
            None, {"KUBECONFIG": f"/x/first{os.pathsep}/x/second"}, "/x/first", id="first-env-entry"
        ),
        pytest.param(None, {"KUBECONFIG": f"{os.pathsep}/x/second"}, "/x/second", id="skips-empty-entry"),
        pytest.param(None, {}, "/work/dir/.kubeds/kubeconfig", id="default"),
        pytest.param("", {"KUBECONFIG": ""}, "/work/dir/.kubeds/kubeconfig", id="empty-everything"),
    ],
)
def test_resolve_kubeconfig_path(explicit: str | None, env: dict[str, str], expected: str) -> None:
    assert kubeconfig.resolve_kubeconfig_path(explicit, env=env, cwd=Path("/work/dir")) == Path(expected)


def _kubectl(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECACHEDIR": str(home / "cache")}
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env, timeout=60, check=False)


@needs_kubectl
def test_kubectl_config_view_reads_what_we_wrote(tmp_path: Path) -> None:
    path = kubeconfig.write_kubeconfig(
        tmp_path / "kc",
        server="https://127.0.0.1:6443",
        ca_pem=CA,
        token="tok",
        client_cert_pem=CERT,
        client_key_pem=KEY,
    )
    done = _kubectl("config", "view", "--kubeconfig", str(path), "--raw", "-o", "json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    view = json.loads(done.stdout)
    assert view["current-context"] == "kubeds"
    assert view["contexts"] == [{"name": "kubeds", "context": {"cluster": "kubeds", "user": "kubeds"}}]
    cluster = view["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == CA
    user = view["users"][0]["user"]
    assert user["token"] == "tok"
    assert base64.b64decode(user["client-certificate-data"]) == CERT
    assert base64.b64decode(user["client-key-data"]) == KEY


@needs_kubectl
@pytest.mark.parametrize("credential", ["token", "client-cert"])
async def test_kubectl_talks_tls_with_our_kubeconfig(tmp_path: Path, serve: Serve, credential: str) -> None:
    """kubectl trusts our CA, accepts our SANs and authenticates with either credential."""
    pki = certs.ensure_pki(tmp_path / "data", hosts=[])
    server = await serve(pki)
    use_cert = credential == "client-cert"
    path = kubeconfig.write_kubeconfig(
        tmp_path / "kc",
        server=server,
        ca_pem=pki.ca_pem,
        token=None if use_cert else pki.token,
        client_cert_pem=pki.admin_cert_pem if use_cert else None,
        client_key_pem=pki.admin_key_pem if use_cert else None,
    )
    done = await asyncio.to_thread(
        _kubectl, "--kubeconfig", str(path), "get", "--raw", "/whoami", home=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["user"] == "kubeds-admin"


@needs_kubectl
async def test_kubectl_rejects_a_server_outside_our_ca(tmp_path: Path, serve: Serve) -> None:
    pki = certs.ensure_pki(tmp_path / "data", hosts=[])
    other = certs.ensure_pki(tmp_path / "other", hosts=[])
    server = await serve(pki)
    path = kubeconfig.write_kubeconfig(tmp_path / "kc", server=server, ca_pem=other.ca_pem, token=pki.token)
    args = ("--kubeconfig", str(path), "get", "--raw", "/whoami")
    done = await asyncio.to_thread(_kubectl, *args, home=tmp_path)
    assert done.returncode != 0
    assert "certificate signed by unknown authority" in done.stderr
