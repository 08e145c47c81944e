"""Expectations; ported from kubernetes pkg/controller/controller_utils_test.go
(TestControllerExpectations, TestUIDExpectations)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kubeds.clock import FakeClock
from kubeds.machinery import expectations


def test_controller_expectations() -> None:
    # upstream TestControllerExpectations
    ttl = 30.0
    clock = FakeClock()
    e = expectations.ControllerExpectations(clock=clock, ttl=ttl)
    adds, dels = 10, 30
    key = "default/rc"
    e.set_expectations(key, adds, dels)
    for _ in range(adds + 1):
        e.creation_observed(key)
    assert not e.satisfied_expectations(key), "rc will sync before expectations are met"
    for _ in range(dels + 1):
        e.deletion_observed(key)

    # Expectations have been surpassed
    exp = e.get_expectations(key)
    assert exp is not None
    assert exp.get_expectations() == (-1, -1)
    assert e.satisfied_expectations(key)

    # Old expectations are cleared because of ttl
    e.set_expectations(key, 1, 2)
    exp = e.get_expectations(key)
    assert exp is not None
    assert exp.get_expectations() == (1, 2)
    assert not e.satisfied_expectations(key)
    clock.advance(ttl + 1)
    assert e.satisfied_expectations(key), "expectations should have expired"


def test_no_record_is_satisfied_and_raise_lower_need_a_record() -> None:
    e = expectations.ControllerExpectations(clock=FakeClock())
    assert e.satisfied_expectations("x")
    e.raise_expectations("x", 1, 1)
    e.lower_expectations("x", 1, 1)
    assert e.get_expectations("x") is None


Op = Callable[[expectations.ControllerExpectations, str], None]


def _expect_creations(n: int) -> Op:
    return lambda e, key: e.expect_creations(key, n)


def _expect_deletions(n: int) -> Op:
    return lambda e, key: e.expect_deletions(key, n)


def _lower(add: int, dele: int) -> Op:
    return lambda e, key: e.lower_expectations(key, add, dele)


def _raise(add: int, dele: int) -> Op:
    return lambda e, key: e.raise_expectations(key, add, dele)


def _created(e: expectations.ControllerExpectations, key: str) -> None:
    e.creation_observed(key)


def _deleted(e: expectations.ControllerExpectations, key: str) -> None:
    e.deletion_observed(key)


def _forget(e: expectations.ControllerExpectations, key: str) -> None:
    e.delete_expectations(key)


@pytest.mark.parametrize(
    ("ops", "satisfied"),
    [
        pytest.param([_expect_creations(2), _created], False, id="one-of-two-created"),
        pytest.param([_expect_creations(2), _created, _created], True, id="all-created"),
        pytest.param([_expect_deletions(1), _deleted], True, id="deleted"),
        pytest.param([_expect_creations(3), _lower(2, 0), _created], True, id="lowered-for-skipped-creates"),
        pytest.param([_expect_creations(1), _raise(1, 0), _created], False, id="raised"),
        pytest.param([_expect_creations(1), _forget], True, id="record-deleted"),
        pytest.param([_expect_creations(1), _expect_deletions(1), _created], False, id="set-replaces-record"),
    ],
)
def test_expectation_sequences(ops: list[Op], satisfied: bool) -> None:
    e = expectations.ControllerExpectations(clock=FakeClock())
    for op in ops:
        op(e, "ns/ds")
    assert e.satisfied_expectations("ns/ds") is satisfied


def test_uid_expectations() -> None:
    # upstream TestUIDExpectations
    uid_exp = expectations.UIDTrackingControllerExpectations(clock=FakeClock())
    rc_to_pods: dict[str, list[str]] = {}
    for i in range(3):
        rc_key = f"default/rc-{i}"
        pods = [f"default/pod-{j}-rc-{i}" for j in range(5)]
        rc_to_pods[rc_key] = pods
        uid_exp.expect_deletions(rc_key, pods)
    for rc_key in ["default/rc-2", "default/rc-0", "default/rc-1"]:
        assert not uid_exp.satisfied_expectations(rc_key), "satisfied before deletion"
        for pod in rc_to_pods[rc_key]:
            uid_exp.deletion_observed(rc_key, pod)
        assert uid_exp.satisfied_expectations(rc_key), "still expects pods"
        uid_exp.delete_expectations(rc_key)
        assert uid_exp.get_uids(rc_key) is None
        assert uid_exp.get_expectations(rc_key) is None


def test_uid_expectations_count_each_pod_once() -> None:
    uid_exp = expectations.UIDTrackingControllerExpectations(clock=FakeClock())
    uid_exp.expect_deletions("ns/ds", ["ns/a", "ns/b"])
    uid_exp.deletion_observed("ns/ds", "ns/a")
    uid_exp.deletion_observed("ns/ds", "ns/a")  # observed twice (delete event + relist)
    uid_exp.deletion_observed("ns/ds", "ns/unrelated")
    assert not uid_exp.satisfied_expectations("ns/ds")
    exp = uid_exp.get_expectations("ns/ds")
    assert exp is not None and exp.get_expectations() == (0, 1)
    uid_exp.deletion_observed("ns/ds", "ns/b")
    assert uid_exp.satisfied_expectations("ns/ds")
