"""kubeds.models.content: one set of label-key/value and DNS-name rules, two upstream wordings.

Good/bad values come from apimachinery's pkg/util/validation/validation_test.go (TestIsDNS1123Label,
TestIsDNS1123Subdomain, TestIsQualifiedName, TestIsValidLabelValue); the dialect cases check that
the selector wording (api/validate/content) and the object-validation wording differ only where
upstream's do.
"""

from __future__ import annotations

import pytest

from kubeds.apiserver.validation import names
from kubeds.models import content, labels

DIALECTS = [content.VALIDATION, content.CONTENT]


# TestIsDNS1123Label (a selection) and TestIsDNS1123Subdomain.
@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "value", ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "a" * 63]
)
def test_dns1123_label_accepts(dialect: content.Dialect, value: str) -> None:
    assert content.dns1123_label_errors(value, dialect=dialect) == []
    assert content.dns1123_subdomain_errors(value, dialect=dialect) == []


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "value", ["", "A", "ABC", "aBc", "a@b", "a,b", "a_b", "a.b", "-", "a-", "-a", "abc\n"]
)
def test_dns1123_label_rejects(dialect: content.Dialect, value: str) -> None:
    (msg,) = content.dns1123_label_errors(value, dialect=dialect)
    assert msg.startswith(content.DNS1123_LABEL_MSG + " (e.g. 'my-name',  or '123-abc', ")


@pytest.mark.parametrize(
    ("dialect", "want"),
    [
        (content.VALIDATION, "must be no more than 63 characters"),
        (content.CONTENT, "must be no more than 63 bytes"),
    ],
)
def test_max_len_wording(dialect: content.Dialect, want: str) -> None:
    assert content.dns1123_label_errors("a" * 64, dialect=dialect) == [want]
    assert content.label_value_errors("a" * 64, dialect=dialect) == [want]
    assert content.qualified_name_errors("a" * 64, dialect=dialect) == ["name part " + want]


def test_lengths_in_code_points_or_bytes() -> None:
    # 40 two-byte characters: 40 code points (VALIDATION) but 80 bytes (CONTENT, Go's len).
    value = "é" * 40
    assert len(content.label_value_errors(value, dialect=content.VALIDATION)) == 1
    assert content.label_value_errors(value, dialect=content.CONTENT)[0] == "must be no more than 63 bytes"


# TestIsQualifiedName.
@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "value",
    [
        "simple",
        "now-with-dashes",
        "1-starts-with-num",
        "1234",
        "simple/simple",
        "now-with-dashes/simple",
        "now-with-dashes/now-with-dashes",
        "now.with.dots/simple",
        "now-with.dashes-and.dots/simple",
        "1-num.2-num/3-num",
        "1234/5678",
        "1.2.3.4/5678",
        "Uppercase_Is_OK_123",
        "example.com/Uppercase_Is_OK_123",
        "requests.storage-foo",
        "a" * 63,
        "a" * 253 + "/" + "b" * 63,
    ],
)
def test_qualified_name_accepts(dialect: content.Dialect, value: str) -> None:
    assert content.qualified_name_errors(value, dialect=dialect) == []


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "value",
    [
        "nospecialchars%^=@",
        "cantendwithadash-",
        "-cantstartwithadash-",
        "only/one/slash",
        "Example.com/abc",
        "example_com/abc",
        "example.com/",
        "/simple",
        "a" * 64,
        "a" * 254 + "/abc",
        "simple\n",
    ],
)
def test_qualified_name_rejects(dialect: content.Dialect, value: str) -> None:
    assert content.qualified_name_errors(value, dialect=dialect)


@pytest.mark.parametrize(
    ("dialect", "lead"),
    [
        (content.VALIDATION, "a qualified name must consist of"),
        (content.CONTENT, "a valid label key must consist of"),
    ],
)
def test_qualified_name_with_two_slashes_names_the_thing(dialect: content.Dialect, lead: str) -> None:
    (msg,) = content.qualified_name_errors("a/b/c", dialect=dialect)
    assert msg.startswith(lead)
    assert msg.endswith(" with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")


# TestIsValidLabelValue.
@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("simple", True),
        ("now-with-dashes", True),
        ("1-starts-with-num", True),
        ("end-with-num-1", True),
        ("1234", True),
        ("a" * 63, True),
        ("", True),
        ("nospecialchars%^=@", False),
        ("Tama-nui-te-rā.is.Māori.sun", False),
        ("\\backslashes", False),
        ("-starts-with-dash", False),
        ("ends-with-dash-", False),
        (".starts.with.dot", False),
        ("value\n", False),
    ],
)
def test_label_value(dialect: content.Dialect, value: str, ok: bool) -> None:
    assert (content.label_value_errors(value, dialect=dialect) == []) is ok


def test_callers_speak_their_dialect() -> None:
    """validation/names.py is the VALIDATION wording, models/labels.py the CONTENT one."""
    too_long = "k" * 64
    assert names.is_qualified_name(too_long) == ["name part must be no more than 63 characters"]
    assert labels.qualified_name_errors(too_long) == ["name part must be no more than 63 bytes"]
    assert names.is_valid_label_value(too_long) == ["must be no more than 63 characters"]
    assert labels.label_value_errors(too_long) == ["must be no more than 63 bytes"]
    assert names.regex_error is content.regex_error
