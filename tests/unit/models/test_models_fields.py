from __future__ import annotations

import pytest

from kubeds.models.fields import (
    FieldSelector,
    SelectorError,
    escape_value,
    parse_field_selector,
    selector_from_field_set,
    split_term,
    split_terms,
    unescape_value,
)


# Ported from upstream fields/selector_test.go TestSplitTerms.
@pytest.mark.parametrize(
    ("selector", "terms"),
    [
        ("a", ["a"]),
        ("a=avalue", ["a=avalue"]),
        ("a=avalue,b=bvalue", ["a=avalue", "b=bvalue"]),
        ("a=avalue,b==bvalue,c!=cvalue", ["a=avalue", "b==bvalue", "c!=cvalue"]),
        ("", []),
        ("a=a,", ["a=a", ""]),
        (",a=a", ["", "a=a"]),
        ("k=\\,,k2=v2", ["k=\\,", "k2=v2"]),
        ("k=\\\\,k2=v2", ["k=\\\\", "k2=v2"]),
        ("k=\\\\\\,,k2=v2", ["k=\\\\\\,", "k2=v2"]),
        ("k=\\a\\b\\", ["k=\\a\\b\\"]),
        ("k=\\", ["k=\\"]),
        ("함=수,목=록", ["함=수", "목=록"]),
    ],
)
def test_split_terms(selector: str, terms: list[str]) -> None:
    assert split_terms(selector) == terms


# upstream TestSplitTerm.
@pytest.mark.parametrize(
    ("term", "want"),
    [
        ("a=value", ("a", "=", "value")),
        ("b==value", ("b", "==", "value")),
        ("c!=value", ("c", "!=", "value")),
        ("", None),
        ("a", None),
        ("k=\\,", ("k", "=", "\\,")),
        ("k=\\=", ("k", "=", "\\=")),
        ("k=\\\\\\a\\b\\=\\,\\", ("k", "=", "\\\\\\a\\b\\=\\,\\")),
        ("함=수", ("함", "=", "수")),
    ],
)
def test_split_term(term: str, want: tuple[str, str, str] | None) -> None:
    assert split_term(term) == want


# upstream TestEscapeValue.
@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("", ""), ("a", "a"), ("=", "\\="), (",", "\\,"), ("\\", "\\\\"), ("\\=\\,\\", "\\\\\\=\\\\\\,\\\\")],
)
def test_escape_round_trip(raw: str, escaped: str) -> None:
    assert escape_value(raw) == escaped
    assert unescape_value(escaped) == raw


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("\\", "invalid field selector: invalid escape sequence: \\"),
        ("\\\\\\", "invalid field selector: invalid escape sequence: \\"),
        ("\\a", "invalid field selector: invalid escape sequence: \\a"),
        ("a=b", "invalid field selector: unescaped character in value: 61"),
        ("a,b", "invalid field selector: unescaped character in value: 44"),
    ],
)
def test_unescape_errors(value: str, message: str) -> None:
    with pytest.raises(SelectorError) as exc:
        unescape_value(value)
    assert str(exc.value) == message


# upstream TestSelectorParse.
@pytest.mark.parametrize("text", ["x=a,y=b,z=c", "", "x!=a,y=b", "x=a||y\\=b", "x=a\\=\\=b"])
def test_parse_good_strings_round_trip(text: str) -> None:
    assert str(parse_field_selector(text)) == text


@pytest.mark.parametrize("text", ["x=a||y=b", "x==a==b", "x=a,b", "x in (a)", "x in (a,b,c)", "x"])
def test_parse_bad_strings_fail(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_field_selector(text)


def test_parse_error_message() -> None:
    with pytest.raises(SelectorError) as exc:
        parse_field_selector("x=a,b")
    assert str(exc.value) == "invalid selector: 'x=a,b'; can't understand 'b'"


def test_parse_is_deterministic_and_normalises_double_equals() -> None:
    assert str(parse_field_selector("x=a,a=x")) == str(parse_field_selector("a=x,x=a")) == "a=x,x=a"
    sel = parse_field_selector("spec.nodeName==node-1,status.phase!=Succeeded")
    assert sel.requirements == [("spec.nodeName", "=", "node-1"), ("status.phase", "!=", "Succeeded")]


COMPLEX = {"foo": "bar", "baz": "blah", "complex": "=value\\,\\"}


# upstream TestSelectorMatches.
@pytest.mark.parametrize(
    ("selector", "fields", "want"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("foo=bar", COMPLEX, True),
        ("foo=bar,baz=blah", COMPLEX, True),
        ("foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\", COMPLEX, True),
        ("foo=blah", COMPLEX, False),
        ("foo=bar,foobar=bar,baz=blah", COMPLEX, False),
        # A missing field reads as "", so an empty value selects objects without it (kubectl-wire §6.2).
        ("involvedObject.namespace=", {}, True),
        ("spec.nodeName!=", {"spec.nodeName": "n1"}, True),
    ],
)
def test_selector_matches(selector: str, fields: dict[str, str], want: bool) -> None:
    assert parse_field_selector(selector).matches(fields) is want


def test_empty_and_exact_match() -> None:
    assert parse_field_selector("").empty and FieldSelector.everything().empty
    assert not parse_field_selector("a!=b").empty
    assert parse_field_selector("metadata.name=n1").requires_exact_match("metadata.name") == "n1"
    assert parse_field_selector("metadata.name!=n1").requires_exact_match("metadata.name") is None


def test_selector_from_set() -> None:
    assert selector_from_field_set(None).empty
    sel = selector_from_field_set({"foo": "bar"})
    assert sel.matches({"foo": "bar"}) and not sel.matches({"foo": "=bar"})
