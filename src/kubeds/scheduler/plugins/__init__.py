"""The scheduler's filter and score plugins, one module per upstream plugin.

Each module exposes ``NAME`` and ``filter(pod, node_info) -> FilterResult`` and/or
``score(pod, node_info) -> int`` (+ ``normalize(scores)`` where upstream normalises). Optional
keyword arguments take the per-cycle state upstream computes in PreFilter/PreScore, so
:func:`kubeds.scheduler.framework.schedule_pod` computes it once per pod, not once per node.
Upstream: ``pkg/scheduler/framework/plugins/`` (v1.34).
"""
