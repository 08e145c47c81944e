"""No component mutates a shared watch event: a whole in-process plane run with verification on.

Components (controller manager, scheduler, node simulator) share one decode of each watch event and
keep it in their informer caches (client-go's read-only rule, ``tools/cache/shared_informer.go``).
With :data:`kubeds.wire.VERIFY_SHARED_OBJECTS` on, every shared event is digested; after a DaemonSet
rollout, rolling update, node failure, drain and deletion, every one must still match its digest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_plane_scenario import run_scenario

from kubeds import wire


@pytest.mark.slow
async def test_plane_run_mutates_no_shared_watch_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo = wire.SharedLines(capacity=1_000_000)  # keep every event of the run, to check them all at the end
    monkeypatch.setattr(wire, "SHARED_LINES", memo)
    monkeypatch.setattr(wire, "VERIFY_SHARED_OBJECTS", True)
    await run_scenario(tmp_path)
    assert len(memo) > 100  # the run did share events (nodes, leases, pods, DaemonSet)
    assert memo.hits > 100  # and several watchers took the same decode
    memo.check()
