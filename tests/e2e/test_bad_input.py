"""Bad input over real HTTPS gets upstream's 4xx Status, never a 500, and never changes stored data.

Each row says what was tried. One DaemonSet is created first; after every row it must still be
exactly as it was (same resourceVersion and spec).
"""

from __future__ import annotations

import http.client
import json
import ssl
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from kubeds.client import kubeconfig
from tests.e2e.conftest import RunningPlane
from tests.e2e.test_kubectl_api import seed_manifest


@dataclass
class Http:
    host: str
    port: int
    ctx: ssl.SSLContext
    token: str | None

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        token: str | bool | None = True,
    ) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        tok = self.token if token is True else token
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        try:
            return resp.status, json.loads(data)
        except ValueError:
            return resp.status, {"raw": data.decode(errors="replace")}


@pytest.fixture(scope="module")
def api(plane: RunningPlane) -> Http:
    cfg = kubeconfig.load_kubeconfig(plane.kubeconfig)
    ctx = ssl.create_default_context()
    with tempfile.NamedTemporaryFile("wb", suffix=".crt") as f:
        f.write(cfg.ca_pem or b"")
        f.flush()
        ctx.load_verify_locations(f.name)
    url = urlparse(cfg.server)
    return Http(url.hostname or "127.0.0.1", url.port or 443, ctx, cfg.token)


@pytest.fixture(scope="module")
def ns(api: Http) -> Iterator[str]:
    name = f"bad-{uuid.uuid4().hex[:8]}"
    code, _ = api.call("POST", "/api/v1/namespaces", json.dumps({"metadata": {"name": name}}).encode())
    assert code == 201
    ds = yaml.safe_load(seed_manifest(name))
    code, _ = api.call("POST", f"/apis/apps/v1/namespaces/{name}/daemonsets", json.dumps(ds).encode())
    assert code == 201
    yield name


def ds_body(ns: str, **mutations: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(seed_manifest(ns))
    doc["metadata"]["name"] = "candidate"
    for path, value in mutations.items():
        target = doc
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if value is DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return doc


DELETE = object()

# (what was tried, DaemonSet mutations, expected 422 message fragments)
INVALID_DAEMONSETS = [
    (
        "no image",
        {"spec__template__spec__containers__0__image": DELETE},
        ["spec.template.spec.containers[0].image: Required value"],
    ),
    (
        "selector does not match template labels",
        {"spec__selector": {"matchLabels": {"k8s-app": "other"}}},
        ["spec.template.metadata.labels: Invalid value: ", "`selector` does not match template `labels`"],
    ),
    (
        "restartPolicy Never",
        {"spec__template__spec__restartPolicy": "Never"},
        ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ),
    (
        "maxUnavailable and maxSurge both 0",
        {
            "spec__updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0},
            }
        },
        ["spec.updateStrategy.rollingUpdate.maxUnavailable"],
    ),
    (
        "maxUnavailable over 100%",
        {"spec__updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "150%"}}},
        [
            'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%'
        ],
    ),
    (
        "unknown update strategy",
        {"spec__updateStrategy": {"type": "Sometimes"}},
        ["spec.updateStrategy: Unsupported value: ", 'supported values: "RollingUpdate", "OnDelete"'],
    ),
    (
        "negative revisionHistoryLimit",
        {"spec__revisionHistoryLimit": -1},
        ["spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"],
    ),
    (
        "bad name",
        {"metadata__name": "Not_A_Name"},
        ['metadata.name: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain must consist of'],
    ),
    (
        "toleration with Exists and a value",
        {"spec__template__spec__tolerations": [{"key": "a", "operator": "Exists", "value": "b"}]},
        [
            "spec.template.spec.tolerations[0].operator: Invalid value: ",
            "value must be empty when `operator` is 'Exists'",
        ],
    ),
]


@pytest.mark.parametrize(
    ("tried", "mutations", "messages"), INVALID_DAEMONSETS, ids=[r[0] for r in INVALID_DAEMONSETS]
)
def test_invalid_daemonsets_get_upstream_422(
    api: Http, ns: str, tried: str, mutations: dict[str, Any], messages: list[str]
) -> None:
    body = ds_body(ns, **mutations)
    code, status = api.call("POST", f"/apis/apps/v1/namespaces/{ns}/daemonsets", json.dumps(body).encode())
    assert code == 422, (tried, status)
    assert (
        status["kind"] == "Status"
        and status["reason"] == "Invalid"
        and status["details"]["kind"] == "DaemonSet"
    )
    for m in messages:
        assert m in status["message"], (tried, status["message"])
    assert status["details"]["causes"], tried
    code, _ = api.call("GET", f"/apis/apps/v1/namespaces/{ns}/daemonsets/{body['metadata']['name']}")
    assert code == 404, f"{tried}: an invalid object was stored"


def snapshot(api: Http, ns: str) -> dict[str, Any]:
    code, ds = api.call("GET", f"/apis/apps/v1/namespaces/{ns}/daemonsets/kube-proxy")
    assert code == 200
    return {
        "rv": ds["metadata"]["resourceVersion"],
        "spec": ds["spec"],
        "labels": ds["metadata"].get("labels"),
    }


def test_bad_requests_get_4xx_and_change_nothing(api: Http, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/daemonsets"
    item = f"{base}/kube-proxy"
    before = snapshot(api, ns)
    code, live = api.call("GET", item)
    stale = dict(live)
    stale["metadata"] = dict(live["metadata"], resourceVersion="1")
    stale["spec"] = dict(live["spec"], minReadySeconds=5)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}}
    existing = dict(live)
    existing["metadata"] = {k: v for k, v in live["metadata"].items() if k not in ("resourceVersion", "uid")}
    unknown = dict(live)
    unknown["spec"] = dict(live["spec"], bogusField=1)
    cases: list[tuple[str, str, str, bytes | None, str, Any, int, str]] = [
        (
            "malformed JSON",
            "POST",
            base,
            b'{"apiVersion": "apps/v1", ',
            "application/json",
            True,
            400,
            "BadRequest",
        ),
        (
            "malformed YAML",
            "POST",
            base,
            b"apiVersion: [unclosed",
            "application/yaml",
            True,
            400,
            "BadRequest",
        ),
        (
            "a Pod posted to daemonsets",
            "POST",
            base,
            json.dumps(pod).encode(),
            "application/json",
            True,
            400,
            "BadRequest",
        ),
        (
            "create on an existing name",
            "POST",
            base,
            json.dumps(existing).encode(),
            "application/json",
            True,
            409,
            "AlreadyExists",
        ),
        (
            "update with a stale resourceVersion",
            "PUT",
            item,
            json.dumps(stale).encode(),
            "application/json",
            True,
            409,
            "Conflict",
        ),
        (
            "unknown field under Strict",
            "PUT",
            item + "?fieldValidation=Strict",
            json.dumps(unknown).encode(),
            "application/json",
            True,
            400,
            "BadRequest",
        ),
        (
            "body over 3 MiB",
            "POST",
            base,
            b"{" + b" " * (3 * 1024 * 1024 + 10) + b"}",
            "application/json",
            True,
            413,
            "RequestEntityTooLarge",
        ),
        (
            "patch with an unsupported content type",
            "PATCH",
            item,
            b"{}",
            "text/plain",
            True,
            415,
            "UnsupportedMediaType",
        ),
        (
            "JSON patch that is not a list",
            "PATCH",
            item,
            b'{"op": "add"}',
            "application/json-patch+json",
            True,
            400,
            "BadRequest",
        ),
        (
            "no credentials",
            "PUT",
            item,
            json.dumps(live).encode(),
            "application/json",
            None,
            401,
            "Unauthorized",
        ),
        ("a wrong token", "DELETE", item, None, "application/json", "not-the-token", 401, "Unauthorized"),
        (
            "a bad label selector",
            "GET",
            base + "?labelSelector=a%20in%20(",
            None,
            "application/json",
            True,
            400,
            "BadRequest",
        ),
        (
            "an unsupported field selector",
            "GET",
            base + "?fieldSelector=spec.foo%3Dbar",
            None,
            "application/json",
            True,
            400,
            "BadRequest",
        ),
        (
            "create carrying a resourceVersion",
            "POST",
            base,
            json.dumps(live).encode(),
            "application/json",
            True,
            400,
            "BadRequest",
        ),
        (
            "a garbage continue token",
            "GET",
            base + "?limit=1&continue=%%%",
            None,
            "application/json",
            True,
            400,
            "BadRequest",
        ),
    ]
    for tried, method, path, body, ctype, token, want_code, want_reason in cases:
        code, status = api.call(method, path, body, ctype, token=token)
        assert code == want_code, (tried, code, status)
        assert status.get("kind") == "Status" and status.get("reason") == want_reason, (tried, status)
        assert status.get("message"), tried
        assert snapshot(api, ns) == before, f"{tried}: stored data changed"


def test_pdb_with_both_min_available_and_max_unavailable(api: Http, ns: str) -> None:
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "both"},
        "spec": {"minAvailable": 1, "maxUnavailable": 1, "selector": {"matchLabels": {"a": "b"}}},
    }
    code, status = api.call(
        "POST", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", json.dumps(pdb).encode()
    )
    assert code == 422 and "minAvailable and maxUnavailable cannot be both set" in status["message"], status


def test_eviction_naming_another_pod_is_rejected(api: Http, ns: str) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "victim"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    code, _ = api.call("POST", f"/api/v1/namespaces/{ns}/pods", json.dumps(pod).encode())
    assert code == 201
    eviction = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": "someone-else", "namespace": ns},
    }
    code, status = api.call(
        "POST", f"/api/v1/namespaces/{ns}/pods/victim/eviction", json.dumps(eviction).encode()
    )
    assert code == 400 and status["reason"] == "BadRequest", status
    assert "name in URL does not match name in Eviction object" in status["message"]
    code, _ = api.call("GET", f"/api/v1/namespaces/{ns}/pods/victim")
    assert code == 200
