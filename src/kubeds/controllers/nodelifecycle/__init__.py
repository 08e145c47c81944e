"""Node lifecycle: node health from heartbeats and Leases, condition and NoExecute taints.

:class:`NodeLifecycleController` (:mod:`.controller`) is the component; :mod:`.taints`, :mod:`.health`
and :mod:`.zones` are its pure decisions, :mod:`.writes` its API writes. The taint-based eviction that
acts on the NoExecute taints lives in :mod:`kubeds.controllers.tainteviction`.
"""

from __future__ import annotations

from kubeds.controllers.nodelifecycle.controller import NodeLifecycleController, NodeLifecycleControllerConfig

__all__ = ["NodeLifecycleController", "NodeLifecycleControllerConfig"]
