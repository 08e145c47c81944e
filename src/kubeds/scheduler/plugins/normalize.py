"""Score normalisation shared by score plugins.

Upstream ``pkg/scheduler/framework/plugins/helper/normalize_score.go`` (``DefaultNormalizeScore``):
scale every score to ``0..max_priority`` relative to the highest one, with Go's truncating integer
arithmetic; ``reverse`` flips the scale (fewest "bad things" scores highest). When every score is 0
the list is left at 0, or set to ``max_priority`` when reversed.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_NODE_SCORE", "default_normalize_score"]

MAX_NODE_SCORE = 100


def default_normalize_score(
    scores: Sequence[int], *, max_priority: int = MAX_NODE_SCORE, reverse: bool = False
) -> list[int]:
    max_count = max((s for s in scores if s > 0), default=0)
    if max_count == 0:
        return [max_priority if reverse else s for s in scores]
    out: list[int] = []
    for s in scores:
        scaled = max_priority * s // max_count  # scores are non-negative: // truncates like Go
        out.append(max_priority - scaled if reverse else scaled)
    return out
