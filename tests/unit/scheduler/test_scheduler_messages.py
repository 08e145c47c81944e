"""FitError message formatting."""

from __future__ import annotations

import pytest

from kubeds.scheduler.messages import fit_error_message, reason_histogram, sorted_reasons
from kubeds.scheduler.plugins.status import FilterResult


def _st(*reasons: str) -> FilterResult:
    return FilterResult.unschedulable(*reasons)


# Ported from upstream pkg/scheduler/framework/types_test.go TestFitError_Error.
@pytest.mark.parametrize(
    ("num_all", "statuses", "pre_msg", "post_msg", "want"),
    [
        pytest.param(
            3,
            [_st("Node(s) failed PreFilter plugin FalsePreFilter")] * 3,
            "Node(s) failed PreFilter plugin FalsePreFilter",
            "",
            "0/3 nodes are available: Node(s) failed PreFilter plugin FalsePreFilter.",
            id="nodes failed Prefilter plugin",
        ),
        pytest.param(
            3,
            [_st("Node(s) failed PreFilter plugin FalsePreFilter")] * 3,
            "Node(s) failed PreFilter plugin FalsePreFilter",
            "Error running PostFilter plugin FailedPostFilter",
            "0/3 nodes are available: Node(s) failed PreFilter plugin FalsePreFilter. "
            "Error running PostFilter plugin FailedPostFilter.",
            id="nodes failed Prefilter plugin and the preemption also failed",
        ),
        pytest.param(
            3,
            [_st("Node(s) failed Filter plugin FalseFilter-1")] * 3,
            "",
            "",
            "0/3 nodes are available: 3 Node(s) failed Filter plugin FalseFilter-1.",
            id="nodes failed one Filter plugin with an empty PostFilterMsg",
        ),
        pytest.param(
            3,
            [_st("Node(s) failed Filter plugin FalseFilter-1")] * 3,
            "",
            "Error running PostFilter plugin FailedPostFilter",
            "0/3 nodes are available: 3 Node(s) failed Filter plugin FalseFilter-1. "
            "Error running PostFilter plugin FailedPostFilter.",
            id="nodes failed one Filter plugin with a non-empty PostFilterMsg",
        ),
        pytest.param(
            3,
            [
                _st("Node(s) failed Filter plugin FalseFilter-1"),
                _st("Node(s) failed Filter plugin FalseFilter-1"),
                _st("Node(s) failed Filter plugin FalseFilter-2"),
            ],
            "",
            "",
            "0/3 nodes are available: 1 Node(s) failed Filter plugin FalseFilter-2, "
            "2 Node(s) failed Filter plugin FalseFilter-1.",
            id="nodes failed two Filter plugins with an empty PostFilterMsg",
        ),
        pytest.param(
            1,
            [_st("Node failed Permit plugin Permit-1")],
            "",
            "",
            "0/1 nodes are available: 1 Node failed Permit plugin Permit-1.",
            id="failed to Permit on node",
        ),
        # kubeds additions: several reasons per node each count; the brief's example; Go string sort.
        pytest.param(
            4,
            [
                _st("Insufficient cpu", "Insufficient memory"),
                _st("Insufficient cpu"),
                _st("Too many pods"),
                _st("node(s) didn't match Pod's node affinity/selector"),
            ],
            "",
            "",
            "0/4 nodes are available: 1 Insufficient memory, 1 Too many pods, "
            "1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.",
            id="multiple reasons per node",
        ),
        pytest.param(
            5,
            [_st("node(s) had untolerated taint {key: value}")]
            + [_st("node(s) didn't match Pod's node affinity/selector")] * 4,
            "",
            "preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.",
            "0/5 nodes are available: 1 node(s) had untolerated taint {key: value}, "
            "4 node(s) didn't match Pod's node affinity/selector. "
            "preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling..",
            id="taint and affinity with the preemption suffix",
        ),
        pytest.param(
            12,
            [_st("a")] * 10 + [_st("b")] * 2,
            "",
            "",
            "0/12 nodes are available: 10 a, 2 b.",
            id="counts sort as strings like Go sort.Strings",
        ),
    ],
)
def test_fit_error_message(
    num_all: int, statuses: list[FilterResult], pre_msg: str, post_msg: str, want: str
) -> None:
    histogram = reason_histogram(statuses)
    assert fit_error_message(num_all, histogram, pre_filter_msg=pre_msg, post_filter_msg=post_msg) == want


def test_reason_histogram_counts_absent_nodes() -> None:
    histogram = reason_histogram(
        [_st("Too many pods")],
        absent_reasons=["node(s) didn't satisfy plugin(s) [NodeAffinity]"],
        absent_count=45,
    )
    assert histogram == {"Too many pods": 1, "node(s) didn't satisfy plugin(s) [NodeAffinity]": 45}
    assert sorted_reasons(histogram) == [
        "1 Too many pods",
        "45 node(s) didn't satisfy plugin(s) [NodeAffinity]",
    ]
    assert reason_histogram([], absent_reasons=["x"], absent_count=0) == {}
