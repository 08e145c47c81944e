"""Real etcd servers for tests: members on free loopback ports, in a temp dir, stopped on teardown.

Debian's ``etcd-server`` package (etcd 3.4) provides ``/usr/bin/etcd``; ``.ci/run`` installs it. A
missing binary is a test *failure* with a clear message, not a silent skip: the etcd backend is
part of the product and CI must exercise it.

:class:`EtcdMember`, :func:`find_etcd` and :func:`free_port` are the product's
(``kubeds.bench.etcdlocal``, which ``kubeds bench daemonset --storage etcd`` uses for its
throwaway etcd); this module adds :func:`start_cluster`, which starts ``n`` members that form one
cluster (``--initial-cluster`` naming every member), for the fault tests that kill and restart a
member; a single member is simply a cluster of one. Each member writes its log to
``<data dir>.log``, quoted in the error when it does not become healthy.
"""

from __future__ import annotations

from pathlib import Path

from kubeds.bench.etcdlocal import ETCD_MISSING, EtcdMember, find_etcd, free_port

__all__ = ["ETCD_MISSING", "EtcdMember", "find_etcd", "free_port", "start_cluster"]

CLUSTER_TOKEN = "kubeds-test"


def start_cluster(base_dir: Path, *, size: int = 1) -> list[EtcdMember]:
    """Start ``size`` members forming one new cluster under ``base_dir`` and wait until all are healthy."""
    members = [EtcdMember(f"m{i}", base_dir / f"m{i}.etcd", cluster_token=CLUSTER_TOKEN) for i in range(size)]
    initial = ",".join(f"{m.name}={m.peer_url}" for m in members)
    for m in members:
        m.initial_cluster = initial
    try:
        for m in members:
            m.launch()
        for m in members:
            m.wait_healthy()
    except BaseException:
        for m in members:
            m.stop()
        raise
    for m in members:
        m.cluster_state = "existing"  # a restart rejoins the cluster it formed
    return members
