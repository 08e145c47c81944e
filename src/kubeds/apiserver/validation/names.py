"""String validators with upstream's exact messages.

Mirrors ``staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go`` (``IsDNS1123Label``,
``IsDNS1123Subdomain``, ``IsQualifiedName``, ``IsValidLabelValue``, ``IsValidPercent``,
``IsValidPortNum``, ``IsValidPortName``, ``IsConfigMapKey``, ``IsRelaxedEnvVarName``,
``RegexError``, ``MaxLenError``, ``InclusiveRangeError``) and ``apimachinery/pkg/api/validation``'s
``NameIsDNSSubdomain``/``NameIsDNSLabel`` (a generateName prefix may end with ``-``). Each returns a
list of messages (empty when valid), exactly like the Go functions, so callers wrap them in
``FieldError.invalid`` themselves. The label-key, label-value and DNS-name rules themselves live in
:mod:`kubeds.models.content` (shared with label selectors); this module speaks its
:data:`~kubeds.models.content.VALIDATION` dialect ("must be no more than 63 characters").

The string checks are pure and see the same few strings over and over (label keys, container and
volume names, namespaces), so their answers are memoised per string (:func:`_memoised`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from kubeds.models import content
from kubeds.models.content import DNS1123_SUBDOMAIN_MAX, EMPTY_ERROR, regex_error

__all__ = [
    "EMPTY_ERROR",
    "IS_NEGATIVE_ERROR",
    "inclusive_range_error",
    "is_config_map_key",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_qualified_name",
    "is_relaxed_env_var_name",
    "is_valid_label_value",
    "is_valid_percent",
    "is_valid_port_name",
    "is_valid_port_num",
    "max_len_error",
    "name_is_dns_label",
    "name_is_dns_subdomain",
    "regex_error",
]

IS_NEGATIVE_ERROR = "must be greater than or equal to 0"

PERCENT_FMT = "[0-9]+%"
PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"
CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
CONFIG_MAP_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
RELAXED_ENV_VAR_NAME_MSG = (
    "a valid environment variable name must consist only of printable ASCII characters other than '='"
)
PORT_NAME_MAX = 15
MEMO_SIZE = 8192  # distinct strings remembered per check

_PERCENT = re.compile(f"^{PERCENT_FMT}$")
_CONFIG_MAP_KEY = re.compile(f"^{CONFIG_MAP_KEY_FMT}$")
_PORT_NAME_CHARSET = re.compile("^[-a-z0-9]+$")
_PORT_NAME_ONE_LETTER = re.compile("[a-z]")


def _memoised(check: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """``check`` with its answers remembered per string (a fresh list on every call)."""
    cached = functools.lru_cache(maxsize=MEMO_SIZE)(lambda value: tuple(check(value)))

    @functools.wraps(check)
    def memoised(value: str) -> list[str]:
        if type(value) is not str:
            return check(value)
        return list(cached(value))

    return memoised


def max_len_error(length: int) -> str:
    return content.max_len_error(length, dialect=content.VALIDATION)


def inclusive_range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


@_memoised
def is_dns1123_label(value: str) -> list[str]:
    return content.dns1123_label_errors(value, dialect=content.VALIDATION)


@_memoised
def is_dns1123_subdomain(value: str) -> list[str]:
    return content.dns1123_subdomain_errors(value, dialect=content.VALIDATION)


def _mask_trailing_dash(name: str) -> str:
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def name_is_dns_subdomain(name: str, prefix: bool = False) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool = False) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


@_memoised
def is_qualified_name(value: str) -> list[str]:
    return content.qualified_name_errors(value, dialect=content.VALIDATION)


@_memoised
def is_valid_label_value(value: str) -> list[str]:
    return content.label_value_errors(value, dialect=content.VALIDATION)


def is_valid_percent(value: str) -> list[str]:
    if not _PERCENT.match(value):
        return [regex_error(PERCENT_MSG, PERCENT_FMT, "1%", "93%")]
    return []


def is_valid_port_num(port: int) -> list[str]:
    if 1 <= port <= 65535:
        return []
    return [inclusive_range_error(1, 65535)]


def is_valid_port_name(port: str) -> list[str]:
    errs = []
    if len(port) > PORT_NAME_MAX:
        errs.append(max_len_error(PORT_NAME_MAX))
    if not _PORT_NAME_CHARSET.match(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_ONE_LETTER.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def _has_chdir_prefix(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


@_memoised
def is_config_map_key(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _CONFIG_MAP_KEY.match(value):
        errs.append(regex_error(CONFIG_MAP_KEY_MSG, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    errs.extend(_has_chdir_prefix(value))
    return errs


@_memoised
def is_relaxed_env_var_name(value: str) -> list[str]:
    """The ``RelaxedEnvironmentVariableValidation`` rule (on by default since 1.32)."""
    errs = []
    if not value:
        errs.append("environment variable name " + EMPTY_ERROR)
    if any(ord(c) < 32 or ord(c) > 126 or c == "=" for c in value):
        errs.append(RELAXED_ENV_VAR_NAME_MSG)
    return errs
