"""Field selectors, as upstream ``k8s.io/apimachinery/pkg/fields/selector.go``.

A field selector is a comma-separated AND of ``field=value``, ``field==value`` and ``field!=value``
terms. Values may escape ``\\``, ``,`` and ``=`` with a backslash; the field part is never escaped, so
the first operator found splits a term (upstream ``splitTerm``). Terms are sorted as strings before
use, which makes ``str()`` deterministic (upstream ``parseSelector`` sorts the same way).

Matching looks fields up in a flat ``{"spec.nodeName": "node-1", ...}`` map; a missing field reads as
``""`` (upstream ``Fields.Get``), so ``spec.nodeName=`` selects unscheduled pods. Which field labels a
resource supports is the API server's business (400 ``field label not supported: ...``), not this
module's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubeds.models.labels import SelectorError

__all__ = [
    "FieldSelector",
    "SelectorError",
    "escape_value",
    "parse_field_selector",
    "selector_from_field_set",
    "split_term",
    "split_terms",
    "unescape_value",
]

EQUAL = "="
NOT_EQUAL = "!="
_DOUBLE_EQUAL = "=="
# "!=" and "==" are tried before "=" so that "a==b" does not leave "=b" as the value.
_TERM_OPERATORS = (NOT_EQUAL, _DOUBLE_EQUAL, EQUAL)

MSG_CANT_UNDERSTAND = "invalid selector: '{selector}'; can't understand '{term}'"
MSG_INVALID_ESCAPE = "invalid field selector: invalid escape sequence: {seq}"
# Upstream prints the rune with %v, i.e. its code point number.
MSG_UNESCAPED_RUNE = "invalid field selector: unescaped character in value: {code}"


def escape_value(value: str) -> str:
    """Escape ``\\``, ``,`` and ``=`` for use as a field selector value (upstream ``EscapeValue``)."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_value(value: str) -> str:
    """Undo :func:`escape_value`; bare ``,``/``=`` and unknown escapes are errors (``UnescapeValue``)."""
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    in_slash = False
    for c in value:
        if in_slash:
            if c not in "\\,=":
                raise SelectorError(MSG_INVALID_ESCAPE.format(seq="\\" + c))
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            raise SelectorError(MSG_UNESCAPED_RUNE.format(code=ord(c)))
        else:
            out.append(c)
    if in_slash:
        raise SelectorError(MSG_INVALID_ESCAPE.format(seq="\\"))
    return "".join(out)


def split_terms(selector: str) -> list[str]:
    """Split on commas not escaped by a backslash, keeping escapes in place (upstream ``splitTerms``)."""
    if not selector:
        return []
    terms: list[str] = []
    start = 0
    in_slash = False
    for i, c in enumerate(selector):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


def split_term(term: str) -> tuple[str, str, str] | None:
    """``(field, operator, raw value)`` split at the first operator, or None (upstream ``splitTerm``)."""
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


class FieldSelector:
    """An AND of ``(field, op, value)`` requirements, ``op`` being ``"="`` or ``"!="``."""

    __slots__ = ("requirements",)

    def __init__(self, requirements: Iterable[tuple[str, str, str]] = ()) -> None:
        self.requirements: list[tuple[str, str, str]] = list(requirements)

    @classmethod
    def everything(cls) -> FieldSelector:
        return cls()

    @property
    def empty(self) -> bool:
        """True when nothing is restricted (upstream ``Empty()``)."""
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        for field, op, value in self.requirements:
            have = fields.get(field, "")
            if (have == value) != (op == EQUAL):
                return False
        return True

    def requires_exact_match(self, field: str) -> str | None:
        """The value an ``=`` term pins ``field`` to, if any (upstream ``RequiresExactMatch``)."""
        for f, op, value in self.requirements:
            if f == field and op == EQUAL:
                return value
        return None

    def __str__(self) -> str:
        return ",".join(f"{f}{op}{escape_value(v)}" for f, op, v in self.requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSelector):
            return NotImplemented
        return self.requirements == other.requirements

    def __hash__(self) -> int:
        return hash(tuple(self.requirements))


def parse_field_selector(text: str) -> FieldSelector:
    """Parse a field selector string (upstream ``fields.ParseSelector``).

    ``""`` selects everything; ``==`` is stored as ``=``. Raises :class:`SelectorError` with upstream's
    message for a term without an operator or a badly escaped value.
    """
    reqs: list[tuple[str, str, str]] = []
    for term in sorted(split_terms(text)):
        if not term:
            continue
        split = split_term(term)
        if split is None:
            raise SelectorError(MSG_CANT_UNDERSTAND.format(selector=text, term=term))
        field, op, raw = split
        reqs.append((field, NOT_EQUAL if op == NOT_EQUAL else EQUAL, unescape_value(raw)))
    return FieldSelector(reqs)


def selector_from_field_set(fields: Mapping[str, str] | None) -> FieldSelector:
    """An ``=`` term per entry (upstream ``fields.SelectorFromSet``); ``None`` selects everything."""
    return FieldSelector((f, EQUAL, v) for f, v in (fields or {}).items())
