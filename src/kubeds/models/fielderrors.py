"""Validation errors shaped like upstream's ``k8s.io/apimachinery/pkg/util/validation/field``.

A :class:`FieldError` renders exactly as upstream's ``field.Error.Error()``, e.g.
``spec.template.spec.containers[0].image: Required value`` or
``spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0 when maxSurge is 0``.
The API server turns a list of them into a 422 ``Status`` whose ``details.causes`` carry
``reason`` (:attr:`FieldError.type`'s cause name), ``message`` (:meth:`FieldError.body`) and
``field`` (the path), which is what kubectl prints.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ErrorType", "FieldError", "Path", "format_value"]


class ErrorType(enum.Enum):
    """``(cause reason, message prefix)``, as upstream's ``field.ErrorType``."""

    NOT_FOUND = ("FieldValueNotFound", "Not found")
    REQUIRED = ("FieldValueRequired", "Required value")
    DUPLICATE = ("FieldValueDuplicate", "Duplicate value")
    INVALID = ("FieldValueInvalid", "Invalid value")
    NOT_SUPPORTED = ("FieldValueNotSupported", "Unsupported value")
    FORBIDDEN = ("FieldValueForbidden", "Forbidden")
    TOO_LONG = ("FieldValueTooLong", "Too long")
    TOO_MANY = ("FieldValueTooMany", "Too many")
    INTERNAL = ("InternalError", "Internal error")
    TYPE_INVALID = ("FieldValueTypeInvalid", "Invalid value")

    @property
    def reason(self) -> str:
        return self.value[0]

    @property
    def text(self) -> str:
        return self.value[1]


_OMIT = object()


def format_value(value: Any) -> str:
    """Render a bad value the way upstream's ``%#v``-ish printing reads for common types."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class FieldError:
    type: ErrorType
    field: str
    bad_value: Any = _OMIT
    detail: str = ""

    def body(self) -> str:
        """The message without the field path (upstream ``ErrorBody``)."""
        t = self.type
        if t in (ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL):
            s = t.text
        elif self.bad_value is _OMIT:
            s = t.text
        else:
            s = f"{t.text}: {format_value(self.bad_value)}"
        if self.detail:
            s = f"{s}: {self.detail}"
        return s

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    def cause(self) -> dict[str, str]:
        """The ``details.causes[]`` entry of a 422 Status."""
        return {"reason": self.type.reason, "message": self.body(), "field": self.field}

    # Convenience constructors, named like upstream's ``field.Required`` and friends.
    @classmethod
    def required(cls, field: str, detail: str = "") -> FieldError:
        return cls(ErrorType.REQUIRED, field, detail=detail)

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str = "") -> FieldError:
        return cls(ErrorType.INVALID, field, value, detail)

    @classmethod
    def not_supported(cls, field: str, value: Any, valid: list[str]) -> FieldError:
        quoted = ", ".join(json.dumps(v) for v in valid)
        return cls(ErrorType.NOT_SUPPORTED, field, value, f"supported values: {quoted}")

    @classmethod
    def forbidden(cls, field: str, detail: str = "") -> FieldError:
        return cls(ErrorType.FORBIDDEN, field, detail=detail)

    @classmethod
    def duplicate(cls, field: str, value: Any) -> FieldError:
        return cls(ErrorType.DUPLICATE, field, value)

    @classmethod
    def too_long(cls, field: str, value: Any, limit: int) -> FieldError:
        return cls(ErrorType.TOO_LONG, field, value, f"may not be more than {limit} bytes")


class Path:
    """A field path builder: ``Path("spec").child("template").index(0)`` -> ``spec.template[0]``."""

    __slots__ = ("_s",)

    def __init__(self, *names: str) -> None:
        self._s = ".".join(names)

    @classmethod
    def _raw(cls, s: str) -> Path:
        p = cls()
        p._s = s
        return p

    def child(self, *names: str) -> Path:
        s = self._s
        for n in names:
            s = f"{s}.{n}" if s else n
        return Path._raw(s)

    def index(self, i: int) -> Path:
        return Path._raw(f"{self._s}[{i}]")

    def key(self, k: str) -> Path:
        return Path._raw(f"{self._s}[{k}]")

    def __str__(self) -> str:
        return self._s

    def __repr__(self) -> str:
        return f"Path({self._s!r})"
