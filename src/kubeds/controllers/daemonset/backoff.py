"""Per-key exponential backoff for failed daemon pods (client-go ``util/flowcontrol/backoff.go``).

The DaemonSet controller deletes a Failed daemon pod and creates a replacement on the next sync. A
kubelet that keeps rejecting the pod would make that a hot loop, so each ``<ds uid>/<observed
generation>/<node>`` key backs off: the first failure waits ``initial`` seconds (1 s in
kube-controller-manager, ``cmd/kube-controller-manager/app/apps.go``), each further one doubles it
up to ``max`` (15 min). An entry idle for more than ``2 * max`` is expired: the next failure starts
again from ``initial``, and :meth:`FailedPodBackoff.gc` (run every ``BackoffGCInterval``, 1 min)
drops it. Upstream's jitter factor is 0 for this backoff, so there is none here.

Times are the injected clock's ``monotonic()`` seconds, so tests drive the backoff with a
:class:`~kubeds.clock.FakeClock`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubeds import clock as clock_mod

__all__ = ["FailedPodBackoff"]


@dataclass
class _Entry:
    backoff: float
    last_update: float


class FailedPodBackoff:
    """``flowcontrol.Backoff``: ``next`` records a failure, ``is_in_backoff_since_update`` gates retries."""

    def __init__(self, *, initial: float, maximum: float, clock: clock_mod.Clock = clock_mod.REAL) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > 2 * self.maximum

    def get(self, key: str) -> float:
        """The current delay of ``key`` (0 when it has none)."""
        entry = self._entries.get(key)
        return entry.backoff if entry is not None else 0.0

    def next(self, key: str, event_time: float) -> None:
        """Record a failure of ``key`` at ``event_time``: start at ``initial`` or double, capped."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            self._entries[key] = _Entry(self.initial, self._clock.monotonic())
            return
        entry.backoff = min(entry.backoff * 2, self.maximum)
        entry.last_update = self._clock.monotonic()

    def is_in_backoff_since_update(self, key: str, event_time: float) -> bool:
        """True while less than the current delay has passed since the last :meth:`next`."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return event_time - entry.last_update < entry.backoff

    def gc(self) -> None:
        """Forget entries idle for more than ``2 * maximum``."""
        now = self._clock.monotonic()
        for key in [k for k, e in self._entries.items() if now - e.last_update > 2 * self.maximum]:
            del self._entries[key]
