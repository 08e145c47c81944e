"""A write to an etcd member that is down is retried on the next member: it was never sent.

clientv3 retries mutable RPCs only when they cannot have reached a server
(``client/v3/retry.go`` ``isSafeRetryMutableRPC``: "there is no address available"); the backend
does the same for a refused connection, so killing the member an API server talks to costs no
failed write. A write whose connection broke after it was sent is still not retried (it may have
been applied).
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

from etcd_server import EtcdMember, start_cluster

from kubeds.storage.etcd import EtcdBackend

P = "/registry/failover/"


def _is_leader(member: EtcdMember) -> bool:
    req = urllib.request.Request(f"{member.client_url}/v3/maintenance/status", data=b"{}", method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        status = json.loads(resp.read())
    return bool(status["leader"] == status["header"]["member_id"])


async def test_the_first_write_after_the_member_in_use_dies_succeeds(tmp_path: Path) -> None:
    members = start_cluster(tmp_path, size=3)
    # Talk to a follower first, so the kill below does not also start a leader election.
    members.sort(key=_is_leader)
    backend = EtcdBackend([m.client_url for m in members])
    try:
        await backend.start()
        used = members[0]
        assert backend.endpoint == used.client_url
        first = await backend.create(P + "a", b"1")
        used.kill()
        # Let the channel notice the dead connection (else the write may go out on the dying socket,
        # an ambiguous failure that must not be retried); no read in between: the write is the
        # first call to meet the refused connection.
        await asyncio.sleep(1.0)
        second = await backend.create(P + "b", b"2")
        assert backend.endpoint != used.client_url
        assert second.mod_revision == first.mod_revision + 1
        assert (await backend.get(P + "b")) == second
    finally:
        await backend.close()
        for m in members:
            m.stop()
