"""The pure string rules behind label keys, label values and DNS names, with upstream's messages.

Upstream states these rules twice, with two wordings:

* ``staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`` (``IsDNS1123Label``,
  ``IsDNS1123Subdomain``, ``IsQualifiedName``, ``IsValidLabelValue``, ``RegexError``,
  ``MaxLenError``): what object validation reports ("must be no more than 63 characters", "a
  qualified name must consist of ...");
* ``staging/src/k8s.io/apimachinery/pkg/api/validate/content`` (``dns.go``, ``kube.go``,
  ``errors.go``: ``IsLabelKey``, ``IsLabelValue``), which ``labels.NewRequirement`` uses for
  selectors ("must be no more than 63 bytes", "a valid label key must consist of ...").

One implementation serves both: every check takes a :class:`Dialect`, :data:`VALIDATION` (the
default) or :data:`CONTENT`, which only chooses the words and how a length is counted (code points
for :data:`VALIDATION`, as kubeds has always counted there; UTF-8 bytes, Go's ``len``, for
:data:`CONTENT`). Each check returns a list of messages, empty when the value is valid, exactly
like the Go functions; callers wrap them in field errors. Patterns must match the whole string
(``re.fullmatch``: Go's ``^...$`` has no Python-style "before a final newline" leak).

``kubeds.apiserver.validation.names`` (memoised, plus the port/percent/config-key checks) and
``kubeds.models.labels`` (selector requirements, taints) both call these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CONTENT",
    "DNS1123_LABEL_FMT",
    "DNS1123_LABEL_MAX",
    "DNS1123_LABEL_MSG",
    "DNS1123_SUBDOMAIN_FMT",
    "DNS1123_SUBDOMAIN_MAX",
    "DNS1123_SUBDOMAIN_MSG",
    "EMPTY_ERROR",
    "LABEL_VALUE_FMT",
    "LABEL_VALUE_MAX",
    "LABEL_VALUE_MSG",
    "QUALIFIED_NAME_FMT",
    "QUALIFIED_NAME_MAX",
    "QUALIFIED_NAME_MSG",
    "VALIDATION",
    "Dialect",
    "dns1123_label_errors",
    "dns1123_subdomain_errors",
    "label_value_errors",
    "max_len_error",
    "qualified_name_errors",
    "regex_error",
]

EMPTY_ERROR = "must be non-empty"

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
LABEL_VALUE_MAX = 63
_QUALIFIED_NAME_EXAMPLES = ("MyName", "my.name", "123-abc")
_LABEL_VALUE_EXAMPLES = ("MyValue", "my_value", "12345")
_PREFIX_PART = "prefix part "
_NAME_PART = "name part "
_WITH_PREFIX = " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"

_DNS1123_LABEL = re.compile(DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(DNS1123_SUBDOMAIN_FMT)
_QUALIFIED_NAME = re.compile(QUALIFIED_NAME_FMT)
_LABEL_VALUE = re.compile(LABEL_VALUE_FMT)


@dataclass(frozen=True)
class Dialect:
    """Which of upstream's two wordings a check speaks (see the module docstring)."""

    #: The unit of ``MaxLenError`` ("characters" or "bytes"); lengths are counted in it.
    unit: str
    #: What a value with more than one '/' is called ("a qualified name", "a valid label key").
    qualified_name: str

    def length(self, value: str) -> int:
        return len(value.encode("utf-8", "surrogatepass")) if self.unit == "bytes" else len(value)


VALIDATION = Dialect(unit="characters", qualified_name="a qualified name")
CONTENT = Dialect(unit="bytes", qualified_name="a valid label key")


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Upstream ``RegexError``: note the doubled space it leaves between several examples."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    quoted = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {quoted}regex used for validation is '{fmt}')"


def max_len_error(length: int, *, dialect: Dialect = VALIDATION) -> str:
    return f"must be no more than {length} {dialect.unit}"


def dns1123_label_errors(value: str, *, dialect: Dialect = VALIDATION) -> list[str]:
    errs = []
    if dialect.length(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX, dialect=dialect))
    if not _DNS1123_LABEL.fullmatch(value):
        errs.append(regex_error(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain_errors(value: str, *, dialect: Dialect = VALIDATION) -> list[str]:
    errs = []
    if dialect.length(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX, dialect=dialect))
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errs.append(regex_error(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def qualified_name_errors(value: str, *, dialect: Dialect = VALIDATION) -> list[str]:
    """``IsQualifiedName``/``IsLabelKey``: an optional DNS-subdomain prefix and '/', then a name."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append(_PREFIX_PART + EMPTY_ERROR)
        else:
            errs.extend(_PREFIX_PART + m for m in dns1123_subdomain_errors(prefix, dialect=dialect))
    else:
        shape = regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, *_QUALIFIED_NAME_EXAMPLES)
        return [f"{dialect.qualified_name} {shape}{_WITH_PREFIX}"]
    if not name:
        errs.append(_NAME_PART + EMPTY_ERROR)
    elif dialect.length(name) > QUALIFIED_NAME_MAX:
        errs.append(_NAME_PART + max_len_error(QUALIFIED_NAME_MAX, dialect=dialect))
    if not _QUALIFIED_NAME.fullmatch(name):
        errs.append(
            _NAME_PART + regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, *_QUALIFIED_NAME_EXAMPLES)
        )
    return errs


def label_value_errors(value: str, *, dialect: Dialect = VALIDATION) -> list[str]:
    """``IsValidLabelValue``/``IsLabelValue``: empty, or a qualified name's name part."""
    errs = []
    if dialect.length(value) > LABEL_VALUE_MAX:
        errs.append(max_len_error(LABEL_VALUE_MAX, dialect=dialect))
    if not _LABEL_VALUE.fullmatch(value):
        errs.append(regex_error(LABEL_VALUE_MSG, LABEL_VALUE_FMT, *_LABEL_VALUE_EXAMPLES))
    return errs
