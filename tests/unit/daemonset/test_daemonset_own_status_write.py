"""The controller skips the informer echo of its own status write, and nothing else.

Found by the etcd benchmark: a status write raced an image patch, conflicted, and was retried on
the patched object; the retry changed nothing, so the API server returned the patch's
resourceVersion, which the controller then took for its own write and the patch event was dropped
(the rollout never started). Now a write only counts as the controller's own when it produced a new
resourceVersion, and an object whose ``observedGeneration`` is behind its ``generation`` is never an
echo.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from daemonset_controller_harness import Cluster, daemonset, new_cluster

from kubeds.machinery import cache

NODES = 3


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    cl, backend = await new_cluster()
    yield cl
    await cl.stop()
    await cl.server.close()
    await backend.close()


async def test_a_spec_change_with_a_recorded_resource_version_is_not_an_echo(cluster: Cluster) -> None:
    await cluster.add_nodes(NODES)
    ctrl = await cluster.start()
    await cluster.daemonsets.create(daemonset())
    await cluster.settle()
    ds = await cluster.daemonsets.get("foo", namespace="default")
    key = cache.meta_namespace_key(ds)
    rv = ds["metadata"]["resourceVersion"]
    # The last status write observed generation 1: that exact object is an echo.
    assert ds["status"]["observedGeneration"] == ds["metadata"]["generation"] == 1
    ctrl._own_status_rv[key] = rv
    assert ctrl._is_own_status_write(ds)
    # The same resourceVersion recorded for an object of generation 2 (the race): not an echo.
    newer = {**ds, "metadata": {**ds["metadata"], "generation": 2}}
    assert not ctrl._is_own_status_write(newer)


async def test_a_status_write_that_changes_nothing_records_no_resource_version(cluster: Cluster) -> None:
    await cluster.add_nodes(NODES)
    ctrl = await cluster.start()
    await cluster.daemonsets.create(daemonset())
    await cluster.settle()
    ds = await cluster.daemonsets.get("foo", namespace="default")
    key = cache.meta_namespace_key(ds)
    ctrl._own_status_rv.pop(key, None)
    # Store exactly the status it already has: the server keeps the resourceVersion.
    status = dict(ds["status"])
    await ctrl._store_status(ds, status, update_observed_generation=True)
    after = await cluster.daemonsets.get("foo", namespace="default")
    assert after["metadata"]["resourceVersion"] == ds["metadata"]["resourceVersion"]
    assert key not in ctrl._own_status_rv
    # A write that does change the status is recorded.
    changed = {**status, "numberMisscheduled": status.get("numberMisscheduled", 0) + 1}
    await ctrl._store_status(ds, changed, update_observed_generation=True)
    after = await cluster.daemonsets.get("foo", namespace="default")
    assert (
        ctrl._own_status_rv[key] == after["metadata"]["resourceVersion"] != ds["metadata"]["resourceVersion"]
    )
