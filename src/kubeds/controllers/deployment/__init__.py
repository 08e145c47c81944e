"""The Deployment controller (upstream ``pkg/controller/deployment``).

* :mod:`.util`: pure arithmetic and bookkeeping (fenceposts, revisions, annotations, conditions, status,
  the ``kubectl rollout status`` text);
* :mod:`.sync`: the writes (new ReplicaSet, scaling, cleanup, status and the Progressing condition);
* :mod:`.rollout`: RollingUpdate and Recreate;
* :mod:`.controller`: informers, handlers and ``sync(key)``.
"""

from __future__ import annotations

from kubeds.controllers.deployment.controller import DeploymentConfig, DeploymentController

__all__ = ["DeploymentConfig", "DeploymentController"]
