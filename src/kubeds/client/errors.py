"""Client-side errors: every failed API call raises an :class:`ApiError` carrying the server's Status.

Exception tree::

    Exception
    ├── TransportError          the request never got an HTTP answer (connect, TLS, reset, timeout)
    └── ApiError                a non-2xx answer or a watch ERROR event; .status is the decoded Status
        ├── BadRequest          400
        ├── Unauthorized        401
        ├── Forbidden           403
        ├── NotFound            404
        ├── AlreadyExists       409, reason AlreadyExists
        ├── Conflict            409, any other reason (optimistic-concurrency failures, SSA conflicts)
        ├── Gone                410, reasons Gone and Expired (compacted watch RV, expired continue token)
        ├── Invalid             422
        ├── TooManyRequests     429 (.retry_after from the Retry-After header or details.retryAfterSeconds)
        └── ServerError         5xx

The class is chosen the way apimachinery's ``IsNotFound``/``IsConflict``/... predicates decide
(``staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go``): a known ``reason`` wins; the HTTP
``code`` only decides when the reason is empty or unknown. A response whose body is not a Status
gets a synthesised one, with the generic texts of upstream ``NewGenericServerResponse``
(``the server could not find the requested resource``, ...), as client-go does for bodies it cannot
decode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from kubeds import wire

__all__ = [
    "AlreadyExists",
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "Gone",
    "Invalid",
    "NotFound",
    "ServerError",
    "TooManyRequests",
    "TransportError",
    "Unauthorized",
    "error_from_status",
    "raise_for_status",
]


class TransportError(Exception):
    """The server could not be reached, or the connection broke before an answer arrived."""


class ApiError(Exception):
    """A Kubernetes API error; ``status`` is the ``metav1.Status`` dict the server returned."""

    def __init__(self, status: Mapping[str, Any], *, retry_after: float | None = None) -> None:
        self.status: dict[str, Any] = dict(status)
        self.retry_after = retry_after
        super().__init__(self.message)

    @property
    def code(self) -> int:
        code = self.status.get("code", 0)
        return code if isinstance(code, int) else 0

    @property
    def reason(self) -> str:
        return str(self.status.get("reason", "") or "")

    @property
    def message(self) -> str:
        return str(self.status.get("message", "") or "")

    @property
    def details(self) -> dict[str, Any]:
        details = self.status.get("details")
        return details if isinstance(details, dict) else {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, reason={self.reason!r}, message={self.message!r})"


class BadRequest(ApiError):
    """400 BadRequest."""


class Unauthorized(ApiError):
    """401 Unauthorized."""


class Forbidden(ApiError):
    """403 Forbidden."""


class NotFound(ApiError):
    """404 NotFound."""


class AlreadyExists(ApiError):
    """409 with reason AlreadyExists (create of an existing name)."""


class Conflict(ApiError):
    """409 Conflict (stale resourceVersion, apply conflicts)."""


class Gone(ApiError):
    """410 Gone / Expired: relist (informers) or restart pagination."""


class Invalid(ApiError):
    """422 Invalid; ``details.causes`` lists the field errors."""


class TooManyRequests(ApiError):
    """429 TooManyRequests (eviction blocked by a disruption budget, or throttling)."""


class ServerError(ApiError):
    """5xx: InternalError, ServiceUnavailable, Timeout, ServerTimeout."""


_BY_REASON: dict[str, type[ApiError]] = {
    "BadRequest": BadRequest,
    "Unauthorized": Unauthorized,
    "Forbidden": Forbidden,
    "NotFound": NotFound,
    "AlreadyExists": AlreadyExists,
    "Conflict": Conflict,
    "Gone": Gone,
    "Expired": Gone,
    "Invalid": Invalid,
    "TooManyRequests": TooManyRequests,
    "InternalError": ServerError,
    "ServiceUnavailable": ServerError,
    "Timeout": ServerError,
    "ServerTimeout": ServerError,
}
# Reasons that exist upstream but have no subclass here: their code must not re-classify them
# (apimachinery's knownReasons check), e.g. 405 MethodNotAllowed stays a plain ApiError.
_OTHER_KNOWN_REASONS = frozenset(
    {"MethodNotAllowed", "NotAcceptable", "RequestEntityTooLarge", "UnsupportedMediaType", "StoreReadError"}
)
_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}

# Upstream NewGenericServerResponse: (reason, message) for bodies that are not a Status.
_GENERIC: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "the server has asked for the client to provide credentials"),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    406: ("NotAcceptable", "the server was unable to respond with a content type that the client supports"),
    409: ("Conflict", "the server reported a conflict"),
    422: ("Invalid", "the server rejected our request due to an error in our request"),
    429: ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: (
        "Timeout",
        "the server was unable to return a response in the time allotted,"
        " but may still be processing the request",
    ),
}
GENERIC_UNKNOWN = "the server responded with the status code {code} but did not return more information"
GENERIC_SERVER_ERROR = 'an error on the server ("{body}") has prevented the request from succeeding'


def error_from_status(status: Mapping[str, Any], *, retry_after: float | None = None) -> ApiError:
    """The :class:`ApiError` subclass for a Status dict (reason first, then code)."""
    reason = str(status.get("reason", "") or "")
    code = status.get("code", 0)
    cls = _BY_REASON.get(reason)
    if cls is None and reason not in _OTHER_KNOWN_REASONS and isinstance(code, int):
        cls = _BY_CODE.get(code) or (ServerError if code >= 500 else None)
    if cls is Conflict and reason == "AlreadyExists":
        cls = AlreadyExists
    if retry_after is None:
        seconds = (status.get("details") or {}).get("retryAfterSeconds")
        if isinstance(seconds, int) and seconds > 0:
            retry_after = float(seconds)
    return (cls or ApiError)(status, retry_after=retry_after)


def raise_for_status(resp: wire.Response, *, method: str = "") -> None:
    """Raise the matching :class:`ApiError` unless ``resp`` is a 2xx.

    ``method`` only matters for a 409 without a Status body: upstream reads it as AlreadyExists
    for a POST and Conflict otherwise.
    """
    if 200 <= resp.status < 300:
        return
    status = _decode_status(resp.body)
    if status is None:
        status = _generic_status(resp.status, body=resp.body, method=method)
    elif not isinstance(status.get("code"), int) or status.get("code") == 0:
        status["code"] = resp.status
    raise error_from_status(status, retry_after=_retry_after(resp.headers))


def _decode_status(body: bytes) -> dict[str, Any] | None:
    if not body:
        return None
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(decoded, dict) and decoded.get("kind") == "Status":
        return decoded
    return None


def _generic_status(code: int, *, body: bytes, method: str) -> dict[str, Any]:
    text = body.decode("utf-8", "replace").strip()
    if code == 409 and method.upper() == "POST":
        reason, message = "AlreadyExists", _GENERIC[409][1]
    elif code in _GENERIC:
        reason, message = _GENERIC[code]
    elif code == 403:
        reason, message = "Forbidden", text
    elif code >= 500:
        reason, message = "InternalError", GENERIC_SERVER_ERROR.format(body=text)
    else:
        reason, message = "", GENERIC_UNKNOWN.format(code=code)
    status: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "code": code,
    }
    if reason:
        status["reason"] = reason
    if text:
        status["details"] = {"causes": [{"reason": "UnexpectedServerResponse", "message": text}]}
    return status


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = int(value.strip())
    except ValueError:
        return None
    return float(seconds) if seconds >= 0 else None
