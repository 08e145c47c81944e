"""The DaemonSet controller (upstream ``pkg/controller/daemon``).

The pure decision logic lives in small modules with no I/O: :mod:`.placement` (which nodes run a
daemon pod), :mod:`.podtemplate` (what a daemon pod looks like), :mod:`.pods` (readiness, ordering,
grouping, claiming), :mod:`.decisions` (``manage``), :mod:`.rolling` (rolling updates),
:mod:`.history` (ControllerRevisions) and :mod:`.status`. The controller loop executes their plans.
Between syncs it keeps an incrementally maintained node view per DaemonSet (:mod:`.views`,
:mod:`.dsview`, :mod:`.nodeview`) and decides from it (:mod:`.viewdecisions`), so a sync costs what
changed rather than the number of nodes.
"""
