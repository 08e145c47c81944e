"""Controller expectations: how many creates/deletes a controller is still waiting to see in its cache.

Mirrors ``pkg/controller/controller_utils.go`` (``ControllerExpectations``,
``ControlleeExpectations``, ``UIDTrackingControllerExpectations``). A controller records what it is
about to write *before* writing (``expect_creations``/``expect_deletions``); its informer handlers
lower the counts as the resulting objects show up (``creation_observed``/``deletion_observed``).
While a key's expectations are unsatisfied the controller must not act on its (stale) cache again,
or it would create twice. Expectations are satisfied when there is no record, when both counts are
<= 0, or when the record is older than ``ttl`` (upstream's 5-minute ``ExpectationsTimeout``: a lost
watch event must not wedge the controller forever). Expired records stay until replaced or deleted,
as with upstream's plain (non-TTL) store.

:class:`UIDTrackingControllerExpectations` also remembers *which* pods (by ``ns/name`` key) it expects
to disappear, so a deletion is counted once even if it is observed twice (a delete event and a
relist), as the ReplicaSet and DaemonSet controllers need for graceful deletions.
"""

from __future__ import annotations

import dataclasses
import logging

from kubeds import clock as clock_mod

__all__ = [
    "EXPECTATIONS_TIMEOUT",
    "ControlleeExpectations",
    "ControllerExpectations",
    "UIDTrackingControllerExpectations",
]

log = logging.getLogger(__name__)

EXPECTATIONS_TIMEOUT = 300.0


@dataclasses.dataclass
class ControlleeExpectations:
    """Outstanding creates (``add``) and deletes (``dele``) for one controller key."""

    key: str
    add: int
    dele: int
    timestamp: float

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.dele <= 0

    def get_expectations(self) -> tuple[int, int]:
        return self.add, self.dele


class ControllerExpectations:
    """Per controller key, the creates and deletes not yet observed through the informers."""

    def __init__(self, *, clock: clock_mod.Clock = clock_mod.REAL, ttl: float = EXPECTATIONS_TIMEOUT) -> None:
        self._clock = clock
        self.ttl = ttl
        self._store: dict[str, ControlleeExpectations] = {}

    def get_expectations(self, key: str) -> ControlleeExpectations | None:
        """The record for ``key`` (possibly expired), or None."""
        return self._store.get(key)

    def satisfied_expectations(self, key: str) -> bool:
        """True when the controller may sync ``key``: no record, counts fulfilled, or record expired."""
        exp = self._store.get(key)
        if exp is None:
            # A new controller, or one whose expectations were deleted: nothing to wait for.
            return True
        if exp.fulfilled():
            log.debug("controller %s: expectations fulfilled %s", key, exp.get_expectations())
            return True
        if self._expired(exp):
            log.debug("controller %s: expectations expired %s", key, exp.get_expectations())
            return True
        log.debug("controller %s: waiting for expectations %s", key, exp.get_expectations())
        return False

    def _expired(self, exp: ControlleeExpectations) -> bool:
        return self._clock.monotonic() - exp.timestamp > self.ttl

    def set_expectations(self, key: str, add: int, dele: int) -> None:
        """Replace ``key``'s record with fresh counts, timestamped now."""
        self._store[key] = ControlleeExpectations(key, add, dele, self._clock.monotonic())

    def expect_creations(self, key: str, n: int) -> None:
        self.set_expectations(key, n, 0)

    def expect_deletions(self, key: str, n: int) -> None:
        self.set_expectations(key, 0, n)

    def raise_expectations(self, key: str, add: int, dele: int) -> None:
        """Increase an existing record's counts (no record: no-op, as upstream)."""
        exp = self._store.get(key)
        if exp is not None:
            exp.add += add
            exp.dele += dele

    def lower_expectations(self, key: str, add: int, dele: int) -> None:
        """Decrease an existing record's counts (skipped creates, observed objects)."""
        exp = self._store.get(key)
        if exp is not None:
            exp.add -= add
            exp.dele -= dele

    def creation_observed(self, key: str) -> None:
        self.lower_expectations(key, 1, 0)

    def deletion_observed(self, key: str) -> None:
        self.lower_expectations(key, 0, 1)

    def delete_expectations(self, key: str) -> None:
        self._store.pop(key, None)


class UIDTrackingControllerExpectations:
    """:class:`ControllerExpectations` that track the keys of the pods expected to be deleted."""

    def __init__(
        self,
        expectations: ControllerExpectations | None = None,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        ttl: float = EXPECTATIONS_TIMEOUT,
    ) -> None:
        self.expectations = expectations or ControllerExpectations(clock=clock, ttl=ttl)
        self._uids: dict[str, set[str]] = {}

    def get_uids(self, key: str) -> set[str] | None:
        """The pod keys still expected to be deleted for ``key``, or None."""
        return self._uids.get(key)

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        """Expect exactly these pods to go away (replaces any earlier set for ``key``)."""
        expected = set(pod_keys)
        existing = self._uids.get(key)
        if existing:
            log.error("controller %s: clobbering existing delete keys: %s", key, sorted(existing))
        self._uids[key] = expected
        self.expectations.expect_deletions(key, len(expected))

    def deletion_observed(self, key: str, pod_key: str) -> None:
        """Count ``pod_key``'s deletion once, if it was expected."""
        uids = self._uids.get(key)
        if uids is not None and pod_key in uids:
            log.debug("controller %s: received delete for pod %s", key, pod_key)
            self.expectations.deletion_observed(key)
            uids.discard(pod_key)

    def delete_expectations(self, key: str) -> None:
        self.expectations.delete_expectations(key)
        self._uids.pop(key, None)

    # Everything else is the wrapped ControllerExpectations.

    def get_expectations(self, key: str) -> ControlleeExpectations | None:
        return self.expectations.get_expectations(key)

    def satisfied_expectations(self, key: str) -> bool:
        return self.expectations.satisfied_expectations(key)

    def set_expectations(self, key: str, add: int, dele: int) -> None:
        self.expectations.set_expectations(key, add, dele)

    def expect_creations(self, key: str, n: int) -> None:
        self.expectations.expect_creations(key, n)

    def raise_expectations(self, key: str, add: int, dele: int) -> None:
        self.expectations.raise_expectations(key, add, dele)

    def lower_expectations(self, key: str, add: int, dele: int) -> None:
        self.expectations.lower_expectations(key, add, dele)

    def creation_observed(self, key: str) -> None:
        self.expectations.creation_observed(key)
