"""Golden input/output tests for every built-in stage, KWOK style.

Like kubernetes-sigs/kwok ``kustomize/stage/**/testdata/<stage>.input.yaml`` / ``.output.yaml``:
each input holds an object (and optionally ``now``, ``node``, ``usedPodIPs``); the output holds
which stage matches, the delay bounds per profile and what playing it produces. Both built-in
profiles must choose the same stage and produce the same result; only their delays differ.

Regenerate with ``KUBEDS_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/nodes`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeds.nodes.profiles import PROFILES, load_profile
from kubeds.nodes.stages import match_stage, next_state, parse_time, stage_delay_bounds
from kubeds.nodes.templates import new_node

TESTDATA = Path(__file__).parent / "testdata"
INPUTS = sorted(TESTDATA.glob("*.input.yaml"))
UPDATE = os.environ.get("KUBEDS_UPDATE_GOLDEN") == "1"

ALL_STAGES = {s.name for p in PROFILES for s in load_profile(p).pod_stages + load_profile(p).node_stages}


def _default_node() -> dict[str, Any]:
    node = new_node("node-1", internal_ip="172.18.0.2")
    node["metadata"]["uid"] = "0a6c8f2e-0000-4000-8000-000000000001"
    return node


def _play(case: dict[str, Any], profile: str) -> dict[str, Any]:
    obj = case["object"]
    now = parse_time(case["now"])
    prof = load_profile(profile)
    stages = prof.node_stages if obj.get("kind") == "Node" else prof.pod_stages
    stage = match_stage(stages, obj)
    if stage is None:
        return {"stage": None}
    node = case.get("node") or (None if obj.get("kind") == "Node" else _default_node())
    result = next_state(stage, obj, now=now, node=node, used_pod_ips=frozenset(case.get("usedPodIPs") or ()))
    low, high = stage_delay_bounds(stage, obj, now=now)
    return {
        "stage": stage.name,
        "delaySeconds": [low, high],
        "delete": result.delete,
        "event": list(result.event) if result.event else None,
        "statusPatch": result.status_patch,
    }


@pytest.mark.parametrize("path", INPUTS, ids=[p.name.removesuffix(".input.yaml") for p in INPUTS])
def test_golden(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    played = {profile: _play(case, profile) for profile in PROFILES}
    common = {k: v for k, v in played["realistic"].items() if k != "delaySeconds"}
    got: dict[str, Any] = dict(common)
    if common["stage"] is not None:
        got["delaySeconds"] = {p: played[p]["delaySeconds"] for p in PROFILES}
    out = path.with_name(path.name.replace(".input.", ".output."))
    if UPDATE:
        out.write_text(yaml.safe_dump(got, sort_keys=False, width=120))
    want = yaml.safe_load(out.read_text())
    for profile in PROFILES:
        assert {k: v for k, v in played[profile].items() if k != "delaySeconds"} == common, profile
    assert got == want


def test_every_built_in_stage_has_a_golden_case() -> None:
    covered = {yaml.safe_load(p.read_text()).get("stage") for p in TESTDATA.glob("*.output.yaml")}
    assert ALL_STAGES <= covered, sorted(ALL_STAGES - covered)


def test_profiles_share_stages_and_fast_is_immediate() -> None:
    fast, realistic = load_profile("fast"), load_profile("realistic")
    for a, b in zip(
        fast.pod_stages + fast.node_stages, realistic.pod_stages + realistic.node_stages, strict=True
    ):
        assert (a.name, a.resource, a.next) == (b.name, b.resource, b.next)
        assert [(r.key, r.operator, r.values) for r in a.selector.match_expressions] == [
            (r.key, r.operator, r.values) for r in b.selector.match_expressions
        ]
        assert [n for n, _ in a.selector.predicates] == [n for n, _ in b.selector.predicates]
        if a.name != "node-heartbeat":
            assert a.delay.duration_ms == 0 and not a.delay.jitter_ms and not a.delay.jitter_until
            assert b.delay.duration_ms > 0
