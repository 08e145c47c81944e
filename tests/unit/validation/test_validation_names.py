"""String validators, ported from apimachinery's pkg/util/validation/validation_test.go tables."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kubeds.apiserver.validation import names

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    r"is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED_NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


# TestIsDNS1123Subdomain (good and bad values).
@pytest.mark.parametrize(
    "value",
    ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "a.a", "a.b.c", "1.2.3", "a" * 253],
)
def test_dns1123_subdomain_accepts(value: str) -> None:
    assert names.is_dns1123_subdomain(value) == []


@pytest.mark.parametrize(
    "value", ["", "A", "ABC", "aBc", "a@b", "a,b", "a_b", "-", "a-", "-a", "a..b", ".a", "a."]
)
def test_dns1123_subdomain_rejects_with_upstream_message(value: str) -> None:
    assert names.is_dns1123_subdomain(value) == [SUBDOMAIN_MSG]


def test_dns1123_subdomain_too_long() -> None:
    assert names.is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]


# TestIsDNS1123Label.
@pytest.mark.parametrize("value", ["a.b", "A", "a-", "", "a" * 64])
def test_dns1123_label_rejects(value: str) -> None:
    msgs = names.is_dns1123_label(value)
    assert msgs
    assert msgs[-1] == LABEL_MSG or msgs == ["must be no more than 63 characters"]


def test_generate_name_prefix_may_end_with_dash() -> None:
    assert names.name_is_dns_subdomain("kube-proxy-", True) == []
    assert names.name_is_dns_subdomain("kube-proxy-", False) == [SUBDOMAIN_MSG]


# TestIsQualifiedName.
@pytest.mark.parametrize(
    "value",
    [
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "1234",
        "simple/simple",
        "example.com/Uppercase",
        "a" * 63,
    ],
)
def test_qualified_name_accepts(value: str) -> None:
    assert names.is_qualified_name(value) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nospecialchars%^=@", [QUALIFIED_NAME_PART_MSG]),
        ("-leading-dash", [QUALIFIED_NAME_PART_MSG]),
        ("/simple", ["prefix part must be non-empty"]),
        ("example.com/", ["name part must be non-empty", QUALIFIED_NAME_PART_MSG]),
        ("a" * 64, ["name part must be no more than 63 characters"]),
        ("Uppercase.com/x", ["prefix part " + SUBDOMAIN_MSG]),
    ],
)
def test_qualified_name_rejects(value: str, expected: list[str]) -> None:
    assert names.is_qualified_name(value) == expected


def test_qualified_name_with_two_slashes() -> None:
    (msg,) = names.is_qualified_name("a/b/c")
    assert msg.startswith("a qualified name must consist of")
    assert msg.endswith("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")


# TestIsValidLabelValue.
@pytest.mark.parametrize(
    "value", ["", "simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "a" * 63]
)
def test_label_value_accepts(value: str) -> None:
    assert names.is_valid_label_value(value) == []


@pytest.mark.parametrize(
    "value", ["nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes", "-starts-with-dash"]
)
def test_label_value_rejects(value: str) -> None:
    assert names.is_valid_label_value(value) == [LABEL_VALUE_MSG]


# TestIsValidPercent.
@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0%", True),
        ("00000%", True),
        ("1%", True),
        ("100%", True),
        ("1", False),
        ("%", False),
        ("1.5%", False),
        ("-1%", False),
    ],
)
def test_percent(value: str, ok: bool) -> None:
    expected = (
        []
        if ok
        else [
            "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
            "regex used for validation is '[0-9]+%')"
        ]
    )
    assert names.is_valid_percent(value) == expected


# TestIsValidPortName.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http", []),
        ("a-b", []),
        ("1234", ["must contain at least one letter (a-z)"]),
        ("a--b", ["must not contain consecutive hyphens"]),
        ("-ab", ["must not begin or end with a hyphen"]),
        ("Abc", ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"]),
        ("abcdefghijklmnop", ["must be no more than 15 characters"]),
    ],
)
def test_port_name(value: str, expected: list[str]) -> None:
    assert names.is_valid_port_name(value) == expected


def test_config_map_key() -> None:
    assert names.is_config_map_key("key.name") == []
    assert names.is_config_map_key("..x") == ["must not start with '..'"]
    assert names.is_config_map_key("a b")[0].startswith(
        "a valid config key must consist of alphanumeric characters"
    )


# Go's ``^...$`` has no "before a trailing newline" match: a name ending in "\n" is invalid.
@pytest.mark.parametrize(
    ("check", "value"),
    [
        (names.is_dns1123_label, "abc\n"),
        (names.is_dns1123_subdomain, "a.b\n"),
        (names.is_qualified_name, "example.com/key\n"),
        (names.is_valid_label_value, "value\n"),
    ],
)
def test_trailing_newline_is_rejected(check: Callable[[str], list[str]], value: str) -> None:
    assert check(value) != []
