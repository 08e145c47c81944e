"""The status-write and Lease-renewal shortcuts give exactly what the general code gives.

Shortcuts checked here (see ``docs/benchmarks.md``, "API write path"): patches applied in place
to the store's private decode (``owned``), strategies taking the sections they keep from the
store's old object by reference, managedFields comparing objects without their reset sections,
no spec defaulting on a pod ``/status`` write, a PUT that does not decode the object twice, the
in-place no-op test, and the memoised global-default PriorityClass. Each is compared with the
general computation it replaces: the scenario test runs the same requests on a server patched
back to the general code and expects the same answers and the same stored bytes. Upstream has no
unit tests for these internal shortcuts; the cases are kubeds' own, chosen for the edges of
each rule. The merge-patch table is RFC 7386 Appendix A (as in ``test_patch_jsonmerge.py``).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import orjson
import pytest
from conftest import Client, pod

from kubeds.apiserver import codec, defaults, store, verbs
from kubeds.apiserver.apply import fieldmanager, fieldpath, schema, typed
from kubeds.apiserver.handler import APIServer
from kubeds.apiserver.patch import json_merge_patch, json_patch, strategic_merge_patch
from kubeds.apiserver.registry import _STRATEGIES
from kubeds.apiserver.registry.base import Strategy
from kubeds.clock import FakeClock
from kubeds.storage.memory import MemoryBackend

P = tuple[str, ...]
PODS = "/api/v1/namespaces/default/pods"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
MERGE = "application/merge-patch+json"
SMP = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def _json(value: Any) -> bytes:
    return bytes(orjson.dumps(value))


# ---- managedFields: comparing without the reset sections == comparing all, then dropping ------
def _general_changes(
    old: dict[str, Any], new: dict[str, Any], *, root: schema.Struct, subresource: str
) -> tuple[set[P], set[P]]:
    """What ``_changes`` computed before: the whole objects compared, reset paths dropped after."""
    ignored = fieldmanager.RESET_FIELDS.get(subresource, ())
    comparison = typed.compare(old, new, root)
    return (
        fieldpath.recursive_difference(comparison.changed(), ignored),
        fieldpath.recursive_difference(comparison.removed, ignored),
    )


def _pod_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    old = pod("p", node="n1", tolerations=[{"operator": "Exists"}])
    old["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "busybox:1.37"  # spec change: reset on /status
    new["spec"]["activeDeadlineSeconds"] = 5
    new["status"]["phase"] = "Running"
    new["status"]["conditions"].append({"type": "Ready", "status": "True"})
    new["metadata"]["labels"]["x"] = "y"
    return old, new


CHANGE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("Pod", *_pod_pair()),
    ("Pod", {"spec": {"a": 1}}, {"status": {"phase": "Running"}}),  # sections appear and disappear
    ("Pod", {"spec": {}, "status": {}}, {"spec": {}, "status": {}}),
    ("Pod", {"metadata": {"labels": {"a": "b"}}}, {"metadata": {}, "spec": {"nodeName": "n"}}),
    ("Lease", {"spec": {"renewTime": "t0"}}, {"spec": {"renewTime": "t1"}, "status": {"x": 1}}),
    ("Node", {"status": {"conditions": []}}, {"status": {"conditions": [{"type": "Ready"}]}}),
]


@pytest.mark.parametrize("subresource", ["", "status", "scale"])
@pytest.mark.parametrize(("kind", "old", "new"), CHANGE_CASES)
def test_changes_without_reset_sections_match_the_general_comparison(
    kind: str, old: dict[str, Any], new: dict[str, Any], subresource: str
) -> None:
    root = schema.schema_for(kind)
    fast = fieldmanager._changes(old, new, root=root, subresource=subresource)
    assert fast == _general_changes(old, new, root=root, subresource=subresource)


def test_status_changes_leave_spec_out() -> None:
    old, new = _pod_pair()
    changed, removed = fieldmanager._changes(old, new, root=schema.schema_for("Pod"), subresource="status")
    assert ("f:status", "f:phase") in changed
    assert ("f:metadata", "f:labels", "f:x") in changed
    assert not any(p[0] == "f:spec" for p in changed | removed)


# ---- patches applied in place: same result; the patch is never stored or changed --------------
MERGE_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"a": "b"}, {"a": "c"}),
    ({"a": "b"}, {"a": None}),
    ({"a": ["b"]}, {"a": "c"}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}),
    ({"a": {"b": 1}}, {"a": [None, {"c": None}]}),  # a list replacing a map: stored as a copy
    ({}, {"a": [None, {"c": None}]}),
    ({"status": {"phase": "Pending"}}, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
]


def _assert_no_shared_containers(result: Any, patch: Any) -> None:
    ids: set[int] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict | list):
            ids.add(id(value))
            for item in value.values() if isinstance(value, dict) else value:
                collect(item)

    collect(patch)

    def check(value: Any) -> None:
        if isinstance(value, dict | list):
            assert id(value) not in ids
            for item in value.values() if isinstance(value, dict) else value:
                check(item)

    check(result)


@pytest.mark.parametrize(("original", "patch"), MERGE_CASES)
def test_owned_merge_patch_matches_the_copying_one(original: dict[str, Any], patch: dict[str, Any]) -> None:
    expected = json_merge_patch(original, patch)
    sent = copy.deepcopy(patch)
    mine = copy.deepcopy(original)
    got = json_merge_patch(mine, patch, owned=True)
    assert got is mine
    assert _json(got) == _json(expected)
    assert patch == sent
    _assert_no_shared_containers(got, patch)


def test_owned_strategic_and_json_patches_match_the_copying_ones() -> None:
    original = pod("p", node="n1")
    original["status"] = {"conditions": [{"type": "PodScheduled", "status": "True"}]}
    smp = {"status": {"conditions": [{"type": "Ready", "status": "True"}], "phase": "Running"}}
    expected = strategic_merge_patch(original, smp, kind="Pod")
    got = strategic_merge_patch(copy.deepcopy(original), smp, kind="Pod", owned=True)
    assert _json(got) == _json(expected)
    ops = [
        {"op": "add", "path": "/status/phase", "value": "Running"},
        {"op": "remove", "path": "/spec/nodeName"},
    ]
    expected = json_patch(original, ops)
    mine = copy.deepcopy(original)
    assert _json(json_patch(mine, ops, owned=True)) == _json(expected)


# ---- defaults: the pod defaulter reads and writes nothing but spec -----------------------------
def _pods() -> list[dict[str, Any]]:
    plain = pod("a")
    host = pod("b", hostNetwork=True)
    host["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    limits = pod("c", priority=5)
    limits["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1", "memory": "1Gi"}}
    limits["spec"]["volumes"] = [{"name": "v", "downwardAPI": {"items": [{"path": "p"}]}}]
    for p in (plain, host, limits):
        p["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    return [plain, host, limits, {"metadata": {"name": "d"}}]


@pytest.mark.parametrize("obj", _pods())
@pytest.mark.parametrize("kind", sorted(defaults.SPEC_ONLY_DEFAULTERS))
def test_spec_only_defaulters_touch_only_spec(kind: str, obj: dict[str, Any]) -> None:
    defaulted = copy.deepcopy(obj)
    defaults._DEFAULTERS[kind](defaulted)
    assert {k: v for k, v in defaulted.items() if k != "spec"} == {
        k: v for k, v in obj.items() if k != "spec"
    }
    # ... and read nothing else: the rest replaced, the spec comes out the same.
    other = {"spec": copy.deepcopy(obj.get("spec")), "metadata": {"name": "zz"}, "status": {}}
    if "spec" not in obj:
        del other["spec"]
    defaults._DEFAULTERS[kind](other)
    assert other["spec"] == defaulted["spec"]


def test_status_write_defaults_still_clean_metadata() -> None:
    obj = pod("a")
    obj["metadata"]["annotations"] = {}
    defaults.apply_defaults("Pod", obj, status_write=True)
    assert "annotations" not in obj["metadata"]
    assert "restartPolicy" not in obj["spec"]  # the spec is the stored one's business


# ---- store: the in-place no-op test == comparing the stored forms -----------------------------
NAN = math.nan
SAME_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"metadata": {"resourceVersion": "1", "name": "a"}},
        {"metadata": {"name": "a", "resourceVersion": "2"}},
    ),
    ({"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}),
    ({"metadata": {}}, {}),
    ({"metadata": None}, {"metadata": {"resourceVersion": "3"}}),
    ({"spec": {"a": 1}, "metadata": {}}, {"spec": {"a": 1.0}, "metadata": {}}),
    ({"spec": 1}, {"status": 1}),
    ({"spec": None}, {}),
    ({"metadata": {"a": None}}, {"metadata": {"b": None}}),
    ({"spec": [NAN]}, {"spec": [NAN]}),  # different lists holding the same NaN object
    ({"spec": NAN}, {"spec": NAN}),
    ({"spec": NAN}, {"spec": math.inf - math.inf}),
]


@pytest.mark.parametrize(("new", "old"), SAME_CASES)
def test_same_stored_matches_comparing_stored_forms(new: dict[str, Any], old: dict[str, Any]) -> None:
    assert store._same_stored(new, old) == (store._without_rv(new) == store._without_rv(old))
    assert store._same_stored(old, new) == (store._without_rv(old) == store._without_rv(new))


# ---- the whole write path against the general one --------------------------------------------
async def _server() -> APIServer:
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=FakeClock(), server_address="127.0.0.1:6443")
    await server.start()
    return server


def _general_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Patch every shortcut back to the general computation it replaces."""
    real_apply_patch = verbs.apply_patch

    def copying_patch(kind: str, patch_type: str, current: dict[str, Any], doc: Any, **_: Any) -> Any:
        return real_apply_patch(kind, patch_type, current, doc)

    monkeypatch.setattr(verbs, "apply_patch", copying_patch)
    for cls in {type(s) for s in _STRATEGIES.values()} | {Strategy}:
        for name in ("prepare_for_update", "prepare_for_status_update"):
            if name not in cls.__dict__:
                continue

            def copying(
                self: Strategy, new: dict[str, Any], old: dict[str, Any], _real: Any = cls.__dict__[name]
            ) -> None:
                _real(self, new, codec.clone(old))

            monkeypatch.setattr(cls, name, copying)
    monkeypatch.setattr(fieldmanager, "_changes", _general_changes)
    monkeypatch.setattr(defaults, "SPEC_ONLY_DEFAULTERS", frozenset())
    monkeypatch.setattr(
        store, "_same_stored", lambda new, old: store._without_rv(new) == store._without_rv(old)
    )
    real_guaranteed = store.Store.guaranteed_update

    async def decoding(self: store.Store, *args: Any, **kw: Any) -> dict[str, Any]:
        kw["reads_current"] = True
        return await real_guaranteed(self, *args, **kw)

    monkeypatch.setattr(store.Store, "guaranteed_update", decoding)
    monkeypatch.setattr(
        store.Store, "encode_stored", staticmethod(lambda obj: (obj, store.Store.encode(obj)))
    )
    monkeypatch.setattr(store.Store, "written_form", staticmethod(store.Store.written))


def _scrub(value: Any) -> Any:
    """An answer as JSON would carry it, the random uids replaced: the two servers mint different ones."""
    return _replace_uids(orjson.loads(_json(value)))


def _replace_uids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<uid>" if k == "uid" else _replace_uids(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_uids(v) for v in value]
    return value


async def _scenario(client: Client) -> list[tuple[int, Any]]:
    out: list[tuple[int, Any]] = []

    def note(reply: Any) -> Any:
        out.append((reply.status, _scrub(reply.body)))
        return reply.body

    p = pod("web", tolerations=[{"operator": "Exists"}])
    p["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "1", "memory": "1Gi"}}
    note(await client.post(PODS, p))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"}, "target": {"name": "n1"}}
    note(await client.post(f"{PODS}/web/binding", binding))
    running = {
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None}],
            "containerStatuses": [{"name": "c", "ready": True, "restartCount": 0, "state": {"running": {}}}],
        },
        "spec": {"nodeName": "elsewhere"},  # ignored through /status
        "metadata": {"labels": {"phase": "running"}},
    }
    note(await client.patch(f"{PODS}/web/status", running, content_type=MERGE))
    note(await client.patch(f"{PODS}/web/status", running, content_type=MERGE))  # a no-op
    smp = {"status": {"conditions": [{"type": "Initialized", "status": "True"}]}}
    note(await client.patch(f"{PODS}/web/status", smp, content_type=SMP))
    ops = [{"op": "replace", "path": "/status/phase", "value": "Succeeded"}]
    note(await client.patch(f"{PODS}/web/status", ops, content_type=JSON_PATCH))
    bad = {"status": {"nominatedNodeName": "Not_Valid"}}
    note(await client.patch(f"{PODS}/web/status", bad, content_type=MERGE))
    current = note(await client.get(f"{PODS}/web"))
    current["status"]["phase"] = "Failed"  # ignored through the main resource
    current["metadata"]["annotations"] = {"a": "b"}
    note(await client.put(f"{PODS}/web", current))
    current = note(await client.get(f"{PODS}/web"))
    current["spec"]["containers"][0]["image"] = "busybox:1.37"
    current["status"]["phase"] = "Running"
    note(await client.put(f"{PODS}/web/status", current))
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "n1"},
        "spec": {
            "holderIdentity": "n1",
            "leaseDurationSeconds": 40,
            "renewTime": "2026-01-01T00:00:00.000000Z",
        },
    }
    created = note(await client.post(LEASES, lease))
    for second in (10, 20):
        created["spec"]["renewTime"] = f"2026-01-01T00:00:{second}.000000Z"
        created = note(await client.put(f"{LEASES}/n1", created))
    note(await client.put(f"{LEASES}/n1", created))  # a no-op
    stale = dict(created, metadata=dict(created["metadata"], resourceVersion="1"))
    note(await client.put(f"{LEASES}/n1", stale))  # 409
    unversioned = copy.deepcopy(created)
    del unversioned["metadata"]["resourceVersion"]
    unversioned["spec"]["leaseDurationSeconds"] = 0  # 422
    note(await client.put(f"{LEASES}/n1", unversioned))
    note(
        await client.post("/api/v1/nodes", {"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4"}}})
    )
    n = note(await client.get("/api/v1/nodes/n1"))
    n["status"]["conditions"] = [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z"}
    ]
    n["spec"]["unschedulable"] = True  # ignored through /status
    note(await client.put("/api/v1/nodes/n1/status", n))
    ns = {"metadata": {"name": "team"}}
    note(await client.post("/api/v1/namespaces", ns))
    got = note(await client.get("/api/v1/namespaces/team"))
    got["spec"]["finalizers"] = []  # kept from the stored object on a main-resource update
    note(await client.put("/api/v1/namespaces/team", got))
    return out


async def _stored(api: APIServer) -> list[tuple[str, bytes]]:
    listed = await api.store.backend.list("/")
    return [(kv.key, _json(_scrub(orjson.loads(kv.value)))) for kv in listed.kvs]


async def test_write_path_matches_the_general_code(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_api = await _server()
    fast = await _scenario(Client(fast_api))
    fast_stored = await _stored(fast_api)
    await fast_api.close()
    with monkeypatch.context() as m:
        _general_code(m)
        slow_api = await _server()
        slow = await _scenario(Client(slow_api))
        slow_stored = await _stored(slow_api)
        await slow_api.close()
    assert [code for code, _ in fast] == [code for code, _ in slow]
    assert [code for code, _ in fast][:3] == [201, 201, 200]
    assert 409 in [code for code, _ in fast] and 422 in [code for code, _ in fast]
    for (_, a), (_, b) in zip(fast, slow, strict=True):
        assert _json(a) == _json(b)
    assert fast_stored == slow_stored


# ---- admission: the memoised global default follows PriorityClass writes ---------------------
async def test_global_default_priority_follows_priority_class_writes(client: Client) -> None:
    classes = "/apis/scheduling.k8s.io/v1/priorityclasses"

    async def priority(name: str) -> tuple[int, str]:
        reply = await client.post(PODS, pod(name))
        assert reply.status == 201, reply.body
        spec = reply.body["spec"]
        return spec["priority"], spec.get("priorityClassName", "")

    assert await priority("p0") == (0, "")
    pc = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": "low"},
        "value": 7,
    }
    created = (await client.post(classes, {**pc, "globalDefault": True})).body
    assert await priority("p1") == (7, "low")
    assert await priority("p2") == (7, "low")  # memoised: same keys, same revisions
    created["globalDefault"] = False
    assert (await client.put(f"{classes}/low", created)).status == 200
    assert await priority("p3") == (0, "")
    lower = {**pc, "metadata": {"name": "lower"}, "value": 3, "globalDefault": True}
    assert (await client.post(classes, lower)).status == 201
    assert await priority("p4") == (3, "lower")
    assert (await client.delete(f"{classes}/lower")).status == 200
    assert await priority("p5") == (0, "")
