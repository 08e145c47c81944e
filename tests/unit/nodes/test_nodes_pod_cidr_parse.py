"""The simulator's pod CIDR arithmetic reads a plain IPv4 CIDR as ``ipaddress`` does, and leaves the rest to it."""

from __future__ import annotations

import ipaddress
import random

import pytest

from kubeds.nodes.profiles import _address_text, _ipv4_network


def test_plain_ipv4_cidrs_read_as_ipaddress_reads_them_non_strict() -> None:
    rng = random.Random(7)
    cases = ["10.244.3.0/24", "10.0.0.7/8", "192.168.1.5/32", "0.0.0.0/0", "255.255.255.255/31"]
    cases += [
        f"{'.'.join(str(rng.randrange(256)) for _ in range(4))}/{rng.randrange(33)}" for _ in range(2000)
    ]
    for cidr in cases:
        net = ipaddress.ip_network(cidr, strict=False)
        assert _ipv4_network(cidr) == (int(net.network_address), net.num_addresses), cidr


@pytest.mark.parametrize(
    "cidr", ["010.1.2.3/24", "1.2.3/24", "1.2.3.4", "1.2.3.4/33", "a.b.c.d/1", "fd00::/64", "1.2.3.256/24"]
)
def test_anything_else_is_left_to_ipaddress(cidr: str) -> None:
    assert _ipv4_network(cidr) is None


def test_addresses_are_written_as_ipaddress_writes_them() -> None:
    for value in (0, 1, 167772160, 2**32 - 1, 2**32, 2**64 + 5):
        assert _address_text(value) == str(ipaddress.ip_address(value))
