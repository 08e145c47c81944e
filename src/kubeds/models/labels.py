"""Label selectors, as upstream ``k8s.io/apimachinery/pkg/labels`` and ``metav1`` helpers.

A :class:`LabelSelector` is an AND of :class:`Requirement` objects, kept sorted by key exactly as
upstream's ``internalSelector`` (``labels/selector.go``), so ``str()`` renders what upstream's
``String()`` renders and what kubectl prints (``app=foo,tier in (a,b),!x``).

Three ways in:

* :func:`parse_selector` — the string syntax of ``?labelSelector=`` and ``kubectl -l``: a lexer and a
  recursive-descent parser mirroring upstream's ``Lexer``/``Parser`` token for token, so bad input
  fails with upstream's words (``unable to parse requirement: found '=', expected: ...``);
* :func:`selector_from_dict` — a ``metav1.LabelSelector`` dict (``matchLabels`` + ``matchExpressions``)
  as ``metav1.LabelSelectorAsSelector`` (``apis/meta/v1/helpers.go``): ``None`` selects nothing,
  ``{}`` selects everything (:meth:`LabelSelector.nothing` / :meth:`LabelSelector.everything`);
* :func:`selector_from_set` — an equality selector from a plain ``{key: value}`` map
  (``labels.SelectorFromSet``; nodeSelector, ReplicaSet-style selectors).

:func:`new_requirement` validates like ``labels.NewRequirement`` (key is a qualified name, values are
label values, operator/value-count rules) and reports errors rendered like ``field.ErrorList``'s
aggregate. The key/value checks (:func:`qualified_name_errors`, :func:`label_value_errors`) are
``apimachinery/pkg/api/validate/content/kube.go``'s ``IsLabelKey``/``IsLabelValue``: the shared
rules of :mod:`kubeds.models.content` in its :data:`~kubeds.models.content.CONTENT` dialect
("must be no more than 63 bytes").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeds.models import content

__all__ = [
    "OPERATORS",
    "LabelSelector",
    "Requirement",
    "SelectorError",
    "aggregate_messages",
    "format_selector_dict",
    "go_quote",
    "go_string_slice",
    "label_value_errors",
    "new_requirement",
    "parse_selector",
    "qualified_name_errors",
    "requirement_errors",
    "selector_from_dict",
    "selector_from_set",
]


class SelectorError(ValueError):
    """A label or field selector could not be parsed or built; ``str()`` is upstream's message."""


# selection.Operator values (k8s.io/apimachinery/pkg/selection/operator.go).
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
IN = "in"
NOT_IN = "notin"
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_UNARY_OPERATORS = (EXISTS, DOES_NOT_EXIST)
OPERATORS = frozenset(_BINARY_OPERATORS + _UNARY_OPERATORS)
_VALID_OPERATORS = _BINARY_OPERATORS + _UNARY_OPERATORS

# metav1.LabelSelectorOperator -> selection.Operator.
_METAV1_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}

MSG_IN_EMPTY = "for 'in', 'notin' operators, values set can't be empty"
MSG_EXACT_ONE = "exact-match compatibility requires one single value"
MSG_EXISTS_VALUES = "values set must be empty for exists and does not exist"
MSG_GT_LT_ONE = "for 'Gt', 'Lt' operators, exactly one value is required"
MSG_GT_LT_INT = "for 'Gt', 'Lt' operators, the value must be an integer"
MSG_BAD_POD_SELECTOR_OP = "{op} is not a valid pod selector operator"
MSG_UNABLE_TO_PARSE = "unable to parse requirement: {err}"

# --- content.IsLabelKey / IsLabelValue -------------------------------------------------------------


def qualified_name_errors(value: str) -> list[str]:
    """Upstream ``IsLabelKey``: empty list when ``value`` is a valid label key."""
    return content.qualified_name_errors(value, dialect=content.CONTENT)


def label_value_errors(value: str) -> list[str]:
    """Upstream ``IsLabelValue``: empty list when ``value`` is a valid label value."""
    return content.label_value_errors(value, dialect=content.CONTENT)


# --- Go-flavoured rendering of field errors --------------------------------------------------------


def go_quote(s: str) -> str:
    """Go's ``%q`` for the printable strings selectors carry."""
    out = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_string_slice(values: Sequence[str] | None) -> str:
    """Go's ``%#v`` of a ``[]string`` (how ``field.Invalid`` prints a values list)."""
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(v) for v in values) + "}"


def _path(prefix: str | None, child: str) -> str:
    return f"{prefix}.{child}" if prefix else child


def _invalid(path: str | None, rendered_value: str, detail: str) -> str:
    # A nil *field.Path renders as "<nil>" (field/path.go String()).
    return f"{path if path is not None else '<nil>'}: Invalid value: {rendered_value}: {detail}"


def aggregate_messages(errors: Sequence[str]) -> str:
    """``utilerrors.NewAggregate(...).Error()``: one message, or ``[a, b]`` with duplicates dropped."""
    seen: list[str] = []
    for e in errors:
        if e not in seen:
            seen.append(e)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


# --- Requirement and LabelSelector -----------------------------------------------------------------


def _parse_int64(s: str) -> int | None:
    """``strconv.ParseInt(s, 10, 64)``: optional sign, ASCII digits, int64 range."""
    if not re.fullmatch(r"[+-]?[0-9]+", s):
        return None
    v = int(s)
    if not -(2**63) <= v < 2**63:
        return None
    return v


@dataclass(frozen=True)
class Requirement:
    """One ``key operator values`` clause. Build validated ones with :func:`new_requirement`."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Upstream ``Requirement.Matches``."""
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            if self.key not in labels or len(self.values) != 1:
                return False
            have = _parse_int64(labels[self.key])
            want = _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        """Upstream ``Requirement.String()``: values sorted, ``in``/``notin`` in parentheses."""
        op = self.operator
        prefix = "!" if op == DOES_NOT_EXIST else ""
        if op in (EXISTS, DOES_NOT_EXIST):
            return prefix + self.key
        sep = {
            EQUALS: "=",
            DOUBLE_EQUALS: "==",
            NOT_EQUALS: "!=",
            IN: " in ",
            NOT_IN: " notin ",
            GREATER_THAN: ">",
            LESS_THAN: "<",
        }.get(op, "")
        vals = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            vals = f"({vals})"
        return f"{self.key}{sep}{vals}"


def requirement_errors(
    key: str, operator: str, values: Sequence[str], *, path: str | None = None
) -> list[str]:
    """Every problem ``labels.NewRequirement`` finds, rendered like ``field.Error`` strings.

    ``path`` prefixes the field paths (upstream's ``field.WithPath``); ``None`` means no prefix.
    """
    errs: list[str] = []
    key_errs = qualified_name_errors(key)
    if key_errs:
        errs.append(_invalid(_path(path, "key"), go_quote(key), "; ".join(key_errs)))
    vpath = _path(path, "values")
    if operator in (IN, NOT_IN):
        if not values:
            errs.append(_invalid(vpath, go_string_slice(values), MSG_IN_EMPTY))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            errs.append(_invalid(vpath, go_string_slice(values), MSG_EXACT_ONE))
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if values:
            errs.append(_invalid(vpath, go_string_slice(values), MSG_EXISTS_VALUES))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errs.append(_invalid(vpath, go_string_slice(values), MSG_GT_LT_ONE))
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errs.append(_invalid(f"{vpath}[{i}]", go_quote(v), MSG_GT_LT_INT))
    else:
        supported = ", ".join(go_quote(o) for o in _VALID_OPERATORS)
        op_path = _path(path, "operator")
        errs.append(f"{op_path}: Unsupported value: {go_quote(operator)}: supported values: {supported}")
    for i, v in enumerate(values):
        val_errs = label_value_errors(v)
        if val_errs:
            errs.append(_invalid(f"{vpath}[{i}][{key}]", go_quote(v), "; ".join(val_errs)))
    return errs


def new_requirement(
    key: str, operator: str, values: Iterable[str] = (), *, path: str | None = None
) -> Requirement:
    """Build a validated requirement, as upstream ``labels.NewRequirement``.

    Raises :class:`SelectorError` whose message aggregates every problem (:func:`requirement_errors`).
    """
    vals = list(values)
    errs = requirement_errors(key, operator, vals, path=path)
    if errs:
        raise SelectorError(aggregate_messages(errs))
    return Requirement(key, operator, tuple(vals))


class LabelSelector:
    """An AND of requirements (upstream ``internalSelector``), or the match-nothing selector."""

    __slots__ = ("_nothing", "_reqs")

    def __init__(self, requirements: Iterable[Requirement] = (), *, _nothing: bool = False) -> None:
        # Stable sort by key, as upstream's Add/parse do (sort.Sort(ByKey)).
        self._reqs: tuple[Requirement, ...] = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = _nothing

    @classmethod
    def everything(cls) -> LabelSelector:
        """Matches every label set (``labels.Everything()``)."""
        return cls()

    @classmethod
    def nothing(cls) -> LabelSelector:
        """Matches no label set (``labels.Nothing()``): what a nil ``metav1.LabelSelector`` means."""
        return cls(_nothing=True)

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return self._reqs

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (upstream ``Empty()``)."""
        return not self._nothing and not self._reqs

    @property
    def matches_nothing(self) -> bool:
        """True only for :meth:`nothing` (upstream ``labels.MatchesNothing``)."""
        return self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        lbls: Mapping[str, str] = labels or {}
        return all(r.matches(lbls) for r in self._reqs)

    def add(self, *requirements: Requirement) -> LabelSelector:
        """A new selector with more requirements (upstream ``Add``); ``nothing`` stays nothing."""
        if self._nothing:
            return self
        return LabelSelector(self._reqs + requirements)

    def requires_exact_match(self, label: str) -> str | None:
        """The single value ``label`` must have, if the selector pins it (upstream ``RequiresExactMatch``)."""
        for r in self._reqs:
            if r.key == label:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._reqs)

    def __repr__(self) -> str:
        return "LabelSelector.nothing()" if self._nothing else f"LabelSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return self._nothing == other._nothing and self._reqs == other._reqs

    def __hash__(self) -> int:
        return hash((self._nothing, self._reqs))


def selector_from_set(labels: Mapping[str, str] | None) -> LabelSelector:
    """Equality selector for a plain map (``labels.SelectorFromSet``); ``None``/``{}`` select everything."""
    if not labels:
        return LabelSelector.everything()
    return LabelSelector(Requirement(k, EQUALS, (v,)) for k, v in labels.items())


def selector_from_dict(sel: Mapping[str, Any] | None) -> LabelSelector:
    """``metav1.LabelSelectorAsSelector``: ``None`` -> nothing, ``{}`` -> everything.

    Raises :class:`SelectorError` for unknown operators (``"Foo" is not a valid pod selector
    operator``) and for requirements ``labels.NewRequirement`` rejects.
    """
    if sel is None:
        return LabelSelector.nothing()
    match_labels: Mapping[str, str] = sel.get("matchLabels") or {}
    match_exprs: Sequence[Mapping[str, Any]] = sel.get("matchExpressions") or []
    if not match_labels and not match_exprs:
        return LabelSelector.everything()
    reqs = [new_requirement(str(k), EQUALS, [str(v)]) for k, v in match_labels.items()]
    for expr in match_exprs:
        op_name = str(expr.get("operator") or "")
        op = _METAV1_OPERATORS.get(op_name)
        if op is None:
            raise SelectorError(MSG_BAD_POD_SELECTOR_OP.format(op=go_quote(op_name)))
        reqs.append(
            new_requirement(str(expr.get("key") or ""), op, [str(v) for v in expr.get("values") or []])
        )
    return LabelSelector(reqs)


def format_selector_dict(sel: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the selector, ``<none>`` when empty, ``<error>`` when invalid."""
    try:
        text = str(selector_from_dict(sel))
    except SelectorError:
        return "<error>"
    return text or "<none>"


# --- the string syntax (upstream Lexer / Parser) ---------------------------------------------------

# A token's kind is its literal for operators, punctuation and the keywords "in"/"notin" (upstream's
# string2token), else one of these.
_ERROR = "error"
_EOS = "end of string"
_IDENTIFIER = "identifier"
_KEYWORDS = frozenset({")", ",", "!", "==", "=", ">", "in", "<", "!=", "notin", "("})
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_END = "\0"  # upstream's read() returns 0 at the end; a NUL byte in the input also ends it

_TOKEN_TO_OPERATOR = {
    "in": IN,
    "=": EQUALS,
    "==": DOUBLE_EQUALS,
    ">": GREATER_THAN,
    "<": LESS_THAN,
    "notin": NOT_IN,
    "!=": NOT_EQUALS,
}


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokenise ``text`` into ``(kind, literal)`` pairs ending with end-of-string (upstream ``Lexer``)."""
    items: list[tuple[str, str]] = []
    pos = 0
    n = len(text)

    def read() -> str:
        nonlocal pos
        if pos < n:
            ch = text[pos]
            pos += 1
            return ch
        return _END

    while True:
        ch = read()
        while ch in _WHITESPACE:
            ch = read()
        if ch == _END:
            items.append((_EOS, ""))
            return items
        if ch in _SPECIAL:
            # Longest operator made of special symbols ("!=", "==", ...).
            buf = ch
            tok = buf if buf in _KEYWORDS else _ERROR
            lit = buf
            while True:
                nxt = read()
                if nxt == _END:
                    break
                if nxt not in _SPECIAL:
                    pos -= 1
                    break
                buf += nxt
                if buf in _KEYWORDS:
                    tok, lit = buf, buf
                elif tok != _ERROR:
                    pos -= 1
                    break
            if tok == _ERROR:
                tok, lit = _ERROR, f"error expected: keyword found '{buf}'"
            items.append((tok, lit))
            continue
        buf = ch
        while True:
            nxt = read()
            if nxt == _END:
                break
            if nxt in _SPECIAL or nxt in _WHITESPACE:
                pos -= 1
                break
            buf += nxt
        items.append((buf if buf in _KEYWORDS else _IDENTIFIER, buf))


class _Parser:
    """Recursive descent over the scanned tokens (upstream ``Parser``)."""

    def __init__(self, text: str) -> None:
        self._items = _lex(text)
        self._pos = 0

    def _lookahead(self, values: bool) -> tuple[str, str]:
        tok, lit = self._items[self._pos]
        # In a values context the keywords "in"/"notin" are plain identifiers.
        if values and tok in ("in", "notin"):
            tok = _IDENTIFIER
        return tok, lit

    def _consume(self, values: bool) -> tuple[str, str]:
        item = self._lookahead(values)
        self._pos += 1
        return item

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self._lookahead(True)
            if tok in (_IDENTIFIER, "!"):
                try:
                    reqs.append(self._requirement())
                except SelectorError as err:
                    raise SelectorError(MSG_UNABLE_TO_PARSE.format(err=err)) from None
                t, lt = self._consume(True)
                if t == _EOS:
                    return reqs
                if t == ",":
                    t2, l2 = self._lookahead(True)
                    if t2 not in (_IDENTIFIER, "!"):
                        raise SelectorError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lt}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def _requirement(self) -> Requirement:
        key, op = self._key_and_inferred_operator()
        if op in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, op, [])
        op = self._operator()
        if op in (IN, NOT_IN):
            vals = self._values()
        else:
            vals = self._exact_value()
        return new_requirement(key, op, sorted(vals))

    def _key_and_inferred_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self._consume(True)
        if tok == "!":
            op = DOES_NOT_EXIST
            tok, lit = self._consume(True)
        if tok != _IDENTIFIER:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key_errs = qualified_name_errors(lit)
        if key_errs:
            raise SelectorError(_invalid(None, go_quote(lit), "; ".join(key_errs)))
        if self._lookahead(True)[0] in (_EOS, ",") and op != DOES_NOT_EXIST:
            op = EXISTS
        return lit, op

    def _operator(self) -> str:
        tok, lit = self._consume(False)
        op = _TOKEN_TO_OPERATOR.get(tok)
        if op is None:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return op

    def _values(self) -> set[str]:
        tok, lit = self._consume(True)
        if tok != "(":
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._lookahead(True)
        if tok in (_IDENTIFIER, ","):
            vals = self._identifiers_list()
            if self._consume(True)[0] != ")":
                raise SelectorError(f"found '{lit}', expected: ')'")
            return vals
        if tok == ")":
            self._consume(True)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def _identifiers_list(self) -> set[str]:
        vals: set[str] = set()
        while True:
            tok, lit = self._consume(True)
            if tok == _IDENTIFIER:
                vals.add(lit)
                tok2, lit2 = self._lookahead(True)
                if tok2 == ",":
                    continue
                if tok2 == ")":
                    return vals
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == ",":
                # "(," ",," and ",)" all stand for an empty value.
                if not vals:
                    vals.add("")
                tok2 = self._lookahead(True)[0]
                if tok2 == ")":
                    vals.add("")
                    return vals
                if tok2 == ",":
                    vals.add("")
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        if self._lookahead(True)[0] in (_EOS, ","):
            return {""}
        tok, lit = self._consume(True)
        if tok == _IDENTIFIER:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_selector(text: str) -> LabelSelector:
    """Parse the label selector string syntax (upstream ``labels.Parse``).

    ``""`` selects everything. Errors carry upstream's messages, e.g.
    ``unable to parse requirement: found '', expected: in, notin, =, ==, !=, gt, lt``.
    """
    return LabelSelector(_Parser(text).parse())
