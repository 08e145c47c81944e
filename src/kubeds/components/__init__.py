"""The control plane's components as processes of their own (multi-process mode).

``kubeds up`` runs everything in one process. Here each component runs alone, as upstream's
binaries do (``kube-apiserver``, ``kube-controller-manager``, ``kube-scheduler``, kubelets):

* :mod:`.apiserver`: the API server over HTTPS on SQLite (one instance) or etcd (several may share
  one etcd cluster and one PKI directory);
* :mod:`.leader`: active/standby through leader election on a Lease, for the controller manager and
  the scheduler, with upstream's flags and exit behaviour;
* :mod:`.durations`: Go-style durations (``15s``, ``500ms``) for those flags;
* :mod:`.wiring`: what every component process shares: identity, readiness, signals, and the
  controller-manager settings per node profile.

``kubeds.cli.components`` turns them into the ``kubeds apiserver | controller-manager | scheduler |
nodes`` subcommands; docs/multiprocess.md tells how to run a cluster of them.
"""

from __future__ import annotations
