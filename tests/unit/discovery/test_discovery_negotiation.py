"""Accept-header negotiation for aggregated discovery (kubectl-wire.md §1, §2.1, §2.3).

Cases: the Accept headers recorded from kubectl 1.27-1.33 (kubectl-requests.jsonl), plus the
orderings upstream's ``NegotiateMediaTypeOptions`` resolves (first acceptable clause wins,
``q`` ordering, unknown versions and non-JSON serialisations skipped).
"""

from __future__ import annotations

import pytest

from kubeds.apiserver import discovery

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # kubectl 1.30+ (recorded)
        (f"{V2},{V2BETA1},application/json", "v2"),
        # kubectl 1.27-1.29 (recorded)
        (f"{V2BETA1},application/json", "v2beta1"),
        # legacy per-GV discovery, /version (recorded)
        ("application/json, */*", None),
        ("application/json", None),
        ("", None),
        # parameter order does not matter
        ("application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io", "v2"),
        ("application/json; as=APIGroupDiscoveryList; g=apidiscovery.k8s.io; v=v2beta1", "v2beta1"),
        # first acceptable wins
        (f"{V2BETA1},{V2}", "v2beta1"),
        (f"application/json,{V2}", None),
        # q values reorder the clauses
        (f"{V2};q=0.5,{V2BETA1}", "v2beta1"),
        (f"application/json;q=0.9,{V2}", "v2"),
        (f"{V2};q=0,application/json", None),
        # unknown versions and other serialisations are skipped, not fatal
        (f"application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,{V2BETA1}", "v2beta1"),
        (
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json",
            None,
        ),
        ("application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
        # a Table request is not aggregated discovery
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", None),
        # wrong group or kind
        ("application/json;g=meta.k8s.io;v=v2;as=APIGroupDiscoveryList", None),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscovery", None),
    ],
)
def test_negotiate_aggregated(accept: str, expected: str | None) -> None:
    assert discovery.negotiate_aggregated(accept) == expected


@pytest.mark.parametrize("version", ["v2", "v2beta1"])
def test_aggregated_content_type_carries_the_discovery_parameters(version: str) -> None:
    content_type, _ = discovery.aggregated("apis", version)
    assert content_type == f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
    # and it round-trips through negotiation, whatever the parameter order
    assert discovery.negotiate_aggregated(content_type) == version
