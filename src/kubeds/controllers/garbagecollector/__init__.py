"""The garbage collector: cascading deletion over ownerReferences (upstream ``pkg/controller/garbagecollector``).

:mod:`.graph` (nodes, identities, pure helpers), :mod:`.graph_builder` (informer events → graph →
work queues), :mod:`.operations` (API calls), :mod:`.restmapper` (kinds and scopes) and
:mod:`.controller` (:class:`GarbageCollector`, the workers).
"""

from __future__ import annotations

from kubeds.controllers.garbagecollector.controller import GarbageCollector, GarbageCollectorConfig

__all__ = ["GarbageCollector", "GarbageCollectorConfig"]
