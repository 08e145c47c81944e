from __future__ import annotations

import pytest

from kubeds.models import labels as labels_module
from kubeds.models.labels import (
    LabelSelector,
    Requirement,
    SelectorError,
    format_selector_dict,
    label_value_errors,
    new_requirement,
    parse_selector,
    qualified_name_errors,
    selector_from_dict,
    selector_from_set,
)

# Ported from upstream labels/selector_test.go TestSelectorParse: good strings re-render without spaces.
GOOD_STRINGS = ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"]
BAD_STRINGS = ["x=a||y=b", "x==a==b", "!x=a", "x<a"]


@pytest.mark.parametrize("text", GOOD_STRINGS)
def test_parse_good_strings_round_trip(text: str) -> None:
    assert str(parse_selector(text)) == text.replace(" ", "")


@pytest.mark.parametrize("text", BAD_STRINGS)
def test_parse_bad_strings_fail(text: str) -> None:
    with pytest.raises(SelectorError):
        parse_selector(text)


def test_parse_is_deterministic() -> None:
    assert str(parse_selector("x=a,a=x")) == str(parse_selector("a=x,x=a")) == "a=x,x=a"


# upstream TestSelectorMatches.
@pytest.mark.parametrize(
    ("selector", "labels", "want"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),
        ("x", {"x": "z"}, True),
        ("!x", {"y": "z"}, True),
        ("x>1", {"x": "2"}, True),
        ("x<1", {"x": "0"}, True),
        ("x=z", {}, False),
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("x", {"y": "z"}, False),
        ("!x", {"x": "z"}, False),
        ("x>1", {"x": "0"}, False),
        ("x<1", {"x": "2"}, False),
        ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}, True),
        ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}, False),
        ("x notin (a)", {}, True),
        ("x in (a,b)", {"x": "b"}, True),
        ("x>1", {"x": "v2"}, False),
    ],
)
def test_selector_matches(selector: str, labels: dict[str, str], want: bool) -> None:
    assert parse_selector(selector).matches(labels) is want


# upstream TestSetSelectorParser: (input, rendered selector or None for an error).
@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("\rx", "x"),
        ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"),
        (
            "this-is-another-dns.domain.com/key-with-dash in (so,what)",
            "this-is-another-dns.domain.com/key-with-dash in (so,what)",
        ),
        (
            "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
            "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)",
        ),
        ("foo  in\t (abc)", "foo in (abc)"),
        ("x notin\n (abc)", "x notin (abc)"),
        ("x in (abc,def)", "x in (abc,def)"),
        ("x in (abc,)", "x in (,abc)"),
        ("x in ()", "x in ()"),
        ("x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"),
        ("x,y in (a)", "x,y in (a)"),
        ("x=a,y!=b,z in (h,i,j)", "x=a,y!=b,z in (h,i,j)"),
        ("x notin ( )", "x notin ()"),
        ("x notin (, a)", "x notin (,a)"),
        ("a ", "a"),
        ("a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"),
        ("x=a||y=b", None),
        ("x,,y", None),
        (",x,y", None),
        ("x nott in (y)", None),
        ("a in (xyz),", None),
        ("a in (xyz)b notin ()", None),
        ("a in (xyz abc)", None),
        ("a notin(", None),
        ("a (", None),
        ("(", None),
    ],
)
def test_set_selector_parser(text: str, rendered: str | None) -> None:
    if rendered is None:
        with pytest.raises(SelectorError):
            parse_selector(text)
    else:
        assert str(parse_selector(text)) == rendered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        ("x,,y", "found ',', expected: identifier after ','"),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
        (
            "x nott in (y)",
            "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
        ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a in x", "unable to parse requirement: found 'x' expected: '('"),
        (
            "x<a",
            'unable to parse requirement: values[0]: Invalid value: "a": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        (
            "-x",
            'unable to parse requirement: <nil>: Invalid value: "-x": name part must consist of alphanumeric '
            "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
    ],
)
def test_parse_error_messages(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as exc:
        parse_selector(text)
    assert str(exc.value) == message


# upstream TestToString.
@pytest.mark.parametrize(
    ("reqs", "want"),
    [
        (
            [
                Requirement("x", "in", ("abc", "def")),
                Requirement("y", "notin", ("jkl",)),
                Requirement("z", "exists"),
            ],
            "x in (abc,def),y notin (jkl),z",
        ),
        (
            [
                Requirement("x", "notin", ("def", "abc")),
                Requirement("y", "!=", ("jkl",)),
                Requirement("z", "!"),
            ],
            "x notin (abc,def),y!=jkl,!z",
        ),
        (
            [
                Requirement("x", "=", ("abc",)),
                Requirement("y", "==", ("jkl",)),
                Requirement("z", "!=", ("a",)),
            ],
            "x=abc,y==jkl,z!=a",
        ),
        (
            [Requirement("x", "gt", ("2",)), Requirement("y", "lt", ("8",)), Requirement("z", "exists")],
            "x>2,y<8,z",
        ),
    ],
)
def test_to_string(reqs: list[Requirement], want: str) -> None:
    assert str(LabelSelector(reqs)) == want


# upstream TestRequirementConstructor.
@pytest.mark.parametrize(
    ("key", "op", "values", "ok"),
    [
        ("x", "in", [], False),
        ("x", "notin", [], False),
        ("x", "in", ["foo"], True),
        ("x", "notin", ["foo"], True),
        ("x", "exists", [], True),
        ("x", "!", [], True),
        ("1foo", "in", ["bar"], True),
        ("1234", "in", ["bar"], True),
        ("y", "gt", ["1"], True),
        ("z", "lt", ["6"], True),
        ("foo", "gt", ["bar"], False),
        ("barz", "lt", ["blah"], False),
        ("a" * 254, "exists", [], False),
        ("x", "=", ["a", "b"], False),
        ("x", "exists", ["a"], False),
        ("x", "bogus", [], False),
    ],
)
def test_requirement_constructor(key: str, op: str, values: list[str], ok: bool) -> None:
    if ok:
        assert new_requirement(key, op, values) == Requirement(key, op, tuple(values))
    else:
        with pytest.raises(SelectorError):
            new_requirement(key, op, values)


def test_unsupported_operator_message() -> None:
    with pytest.raises(SelectorError) as exc:
        new_requirement("x", "bogus")
    assert str(exc.value) == (
        'operator: Unsupported value: "bogus": supported values: '
        '"in", "notin", "=", "==", "!=", "gt", "lt", "exists", "!"'
    )


# upstream TestLabelSelectorAsSelector (apis/meta/v1/helpers_test.go).
@pytest.mark.parametrize(
    ("sel", "want"),
    [
        ({}, ""),
        ({"matchLabels": {"foo": "bar"}}, "foo=bar"),
        (
            {"matchExpressions": [{"key": "foo", "operator": "In", "values": ["baz", "bar"]}]},
            "foo in (bar,baz)",
        ),
        (
            {
                "matchLabels": {"foo": "bar"},
                "matchExpressions": [
                    {"key": "baz", "operator": "Exists"},
                    {"key": "a", "operator": "DoesNotExist"},
                ],
            },
            "!a,baz,foo=bar",
        ),
        ({"matchExpressions": [{"key": "x", "operator": "NotIn", "values": ["1"]}]}, "x notin (1)"),
    ],
)
def test_label_selector_as_selector(sel: dict[str, object], want: str) -> None:
    assert str(selector_from_dict(sel)) == want


def test_nil_selector_matches_nothing_and_empty_matches_everything() -> None:
    nothing = selector_from_dict(None)
    assert nothing == LabelSelector.nothing()
    assert not nothing.matches({}) and not nothing.matches({"a": "b"})
    assert not nothing.empty and nothing.matches_nothing
    everything = selector_from_dict({"matchLabels": {}, "matchExpressions": []})
    assert everything.empty and everything.matches({}) and everything.matches({"a": "b"})


@pytest.mark.parametrize(
    ("sel", "message"),
    [
        (
            {"matchExpressions": [{"key": "foo", "operator": "Foo", "values": ["a"]}]},
            '"Foo" is not a valid pod selector operator',
        ),
        (
            {"matchExpressions": [{"key": "foo", "operator": "In", "values": []}]},
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "foo", "operator": "Exists", "values": ["x"]}]},
            'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
        ),
    ],
)
def test_label_selector_as_selector_errors(sel: dict[str, object], message: str) -> None:
    with pytest.raises(SelectorError) as exc:
        selector_from_dict(sel)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("sel", "want"),
    [
        ({"matchLabels": {"k8s-app": "kube-proxy"}}, "k8s-app=kube-proxy"),
        ({}, "<none>"),
        (None, "<none>"),
        ({"matchExpressions": [{"key": "a", "operator": "Bad"}]}, "<error>"),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
    ],
)
def test_format_selector_dict(sel: dict[str, object] | None, want: str) -> None:
    assert format_selector_dict(sel) == want


def test_selector_from_set() -> None:
    sel = selector_from_set({"foo": "bar", "baz": "blah"})
    assert str(sel) == "baz=blah,foo=bar"
    assert sel.matches({"foo": "bar", "baz": "blah", "x": "y"})
    assert not sel.matches({"foo": "bar"})
    assert selector_from_set(None).empty and selector_from_set({}).matches({"a": "b"})


def test_requires_exact_match() -> None:
    assert parse_selector("a=b,c in (d)").requires_exact_match("a") == "b"
    assert parse_selector("a=b,c in (d)").requires_exact_match("c") == "d"
    assert parse_selector("a!=b").requires_exact_match("a") is None
    assert parse_selector("a in (b,c)").requires_exact_match("a") is None


@pytest.mark.parametrize(
    ("key", "n_errors"),
    [
        ("a", 0),
        ("example.com/a-b_c.d", 0),
        ("", 2),
        ("/a", 1),
        ("a/b/c", 1),
        ("-a", 1),
        ("A.com/b", 1),
        ("a" * 64, 1),
    ],
)
def test_qualified_name_errors(key: str, n_errors: int) -> None:
    assert len(qualified_name_errors(key)) == n_errors


@pytest.mark.parametrize(("value", "ok"), [("", True), ("a.b-c_d", True), ("-a", False), ("a" * 64, False)])
def test_label_value_errors(value: str, ok: bool) -> None:
    assert (label_value_errors(value) == []) is ok


# upstream TestLexer / TestLexerSequence: token kinds (keywords and operators are their own kind).
@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("", []),
        ("~", ["identifier"]),
        ("||", ["identifier"]),
        ("!", ["!"]),
        ("!=", ["!="]),
        ("key in ( value )", ["identifier", "in", "(", "identifier", ")"]),
        ("key notin ( value )", ["identifier", "notin", "(", "identifier", ")"]),
        ("key in ( value1, value2 )", ["identifier", "in", "(", "identifier", ",", "identifier", ")"]),
        ("!key", ["!", "identifier"]),
        ("()", ["(", ")"]),
        ("x in (),y", ["identifier", "in", "(", ")", ",", "identifier"]),
        ("== != (), = notin", ["==", "!=", "(", ")", ",", "=", "notin"]),
        ("key>2", ["identifier", ">", "identifier"]),
        ("key<1", ["identifier", "<", "identifier"]),
        ("a=!b", ["identifier", "=", "!", "identifier"]),
    ],
)
def test_lexer_sequence(text: str, kinds: list[str]) -> None:
    tokens = labels_module._lex(text)
    assert tokens[-1] == ("end of string", "")
    assert [kind for kind, _ in tokens[:-1]] == kinds
