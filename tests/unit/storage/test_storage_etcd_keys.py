"""The etcd backend's pure helpers: endpoint parsing and prefix range ends.

The range-end cases follow etcd's ``clientv3.GetPrefixRangeEnd`` (client/v3/op.go), whose
behaviour upstream's ``TestGetPrefixRangeEnd``-style checks pin: increment the last byte below
0xff, dropping trailing 0xff bytes; no such byte means "every key" (``\\x00``).
"""

from __future__ import annotations

import pytest

from kubeds.storage.etcd import EtcdBackend, _range_end, parse_endpoint


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://127.0.0.1:2379", "127.0.0.1:2379"),
        ("http://127.0.0.1:2379/", "127.0.0.1:2379"),
        ("127.0.0.1:32379", "127.0.0.1:32379"),
        ("http://etcd-0.etcd", "etcd-0.etcd:2379"),
    ],
)
def test_parse_endpoint(url: str, target: str) -> None:
    assert parse_endpoint(url) == target


@pytest.mark.parametrize("url", ["https://127.0.0.1:2379", "", "http://", "http://host:1/path"])
def test_parse_endpoint_rejects(url: str) -> None:
    with pytest.raises(ValueError, match="etcd endpoint"):
        parse_endpoint(url)


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        (b"/registry/pods/", b"/registry/pods0"),
        (b"a", b"b"),
        (b"a\xff", b"b"),
        (b"a\xff\xff", b"b"),
        (b"\xff", b"\x00"),
        (b"", b"\x00"),
    ],
)
def test_range_end(prefix: bytes, end: bytes) -> None:
    assert _range_end(prefix) == end


def test_range_end_bounds_exactly_the_prefixed_keys() -> None:
    prefix = "/registry/é/".encode()
    end = _range_end(prefix)
    assert prefix + "\U0010ffff".encode() < end
    assert not (prefix[:-1] + b"0" < end)


def test_no_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one endpoint"):
        EtcdBackend([])
