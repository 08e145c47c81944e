"""API errors as ``metav1.Status`` objects, with upstream's codes, reasons and message texts.

Mirrors ``k8s.io/apimachinery/pkg/api/errors/errors.go`` (``NewNotFound``, ``NewAlreadyExists``,
``NewConflict``, ``NewInvalid``, ``NewBadRequest``, ``NewResourceExpired``, ``NewMethodNotSupported``,
``NewTooManyRequests``, ``NewForbidden``, ``NewInternalError``) and the storage-error translation of
``k8s.io/apiserver/pkg/storage/errors.go`` (``InterpretGetError`` and friends). Storage exceptions
are mapped onto API errors in exactly one place, :func:`from_storage`.

Every handler raises :class:`StatusError`; the pipeline turns it into a JSON ``Status`` body with
the same HTTP code. ``details.kind`` is the *resource* (``daemonsets``) for 404/409 and the *Kind*
(``DaemonSet``) for 422, as upstream does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubeds.models.fielderrors import FieldError
from kubeds.storage import errors as serr

__all__ = [
    "StatusError",
    "already_exists",
    "bad_request",
    "conflict",
    "expired",
    "forbidden",
    "from_storage",
    "internal",
    "invalid",
    "method_not_supported",
    "not_found",
    "request_entity_too_large",
    "resource_not_found",
    "status_success",
    "too_many_requests",
    "unauthorized",
    "unsupported_media_type",
]

MSG_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"
MSG_NOT_FOUND_RESOURCE = "the server could not find the requested resource"
MSG_UNAUTHORIZED = "Unauthorized"
MAX_BODY_BYTES = 3 * 1024 * 1024
ACCEPTED_MEDIA_TYPES = (
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
)


class StatusError(Exception):
    """An API error carrying everything a ``Status`` needs."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        retry_after: int = 0,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.retry_after = retry_after

    def status(self) -> dict[str, Any]:
        """The ``metav1.Status`` JSON object."""
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            out["details"] = self.details
        out["code"] = self.code
        return out


def _details(group: str, kind: str, name: str = "", **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    if kind:
        d["kind"] = kind
    d.update({k: v for k, v in extra.items() if v})
    return d


def _qualified(group: str, resource: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(group: str, resource: str, name: str) -> StatusError:
    msg = (
        f'{_qualified(group, resource)} "{name}" not found'
        if name
        else f"{_qualified(group, resource)} not found"
    )
    return StatusError(404, "NotFound", msg, _details(group, resource, name))


def resource_not_found() -> StatusError:
    """The route itself is unknown (upstream's plain 404 from the mux)."""
    return StatusError(404, "NotFound", MSG_NOT_FOUND_RESOURCE, {})


def already_exists(group: str, resource: str, name: str) -> StatusError:
    msg = f'{_qualified(group, resource)} "{name}" already exists'
    return StatusError(409, "AlreadyExists", msg, _details(group, resource, name))


def conflict(group: str, resource: str, name: str, detail: str = MSG_MODIFIED) -> StatusError:
    msg = f'Operation cannot be fulfilled on {_qualified(group, resource)} "{name}": {detail}'
    return StatusError(409, "Conflict", msg, _details(group, resource, name))


def _aggregate(errors: Sequence[FieldError]) -> str:
    if len(errors) == 1:
        return str(errors[0])
    return "[" + ", ".join(str(e) for e in errors) + "]"


def invalid(group: str, kind: str, name: str, errors: Sequence[FieldError]) -> StatusError:
    """422 as ``NewInvalid``: ``DaemonSet.apps "x" is invalid: <aggregate>``."""
    qualified_kind = f"{kind}.{group}" if group else kind
    msg = f'{qualified_kind} "{name}" is invalid: {_aggregate(errors)}'
    details = _details(group, kind, name)
    details["causes"] = [e.cause() for e in errors]
    return StatusError(422, "Invalid", msg, details)


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def expired(message: str) -> StatusError:
    """410 Gone with reason ``Expired`` (``NewResourceExpired``)."""
    return StatusError(410, "Expired", message)


def method_not_supported(group: str, resource: str, action: str) -> StatusError:
    msg = f'{action} is not supported on resources of kind "{_qualified(group, resource)}"'
    return StatusError(405, "MethodNotAllowed", msg, _details(group, resource))


def unsupported_media_type(content_type: str) -> StatusError:
    msg = "the body of the request was in an unknown format - accepted media types include: " + ", ".join(
        ACCEPTED_MEDIA_TYPES
    )
    del content_type
    return StatusError(415, "UnsupportedMediaType", msg)


def request_entity_too_large(limit: int = MAX_BODY_BYTES) -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def unauthorized(message: str = MSG_UNAUTHORIZED) -> StatusError:
    return StatusError(401, "Unauthorized", message)


def forbidden(
    group: str, resource: str, name: str, detail: str, *, causes: list[dict[str, str]] | None = None
) -> StatusError:
    q = _qualified(group, resource)
    msg = f'{q} "{name}" is forbidden: {detail}' if name else f"{q} is forbidden: {detail}"
    details = _details(group, resource, name)
    if causes:
        details["causes"] = causes
    return StatusError(403, "Forbidden", msg, details)


def too_many_requests(
    message: str, *, causes: list[dict[str, str]] | None = None, retry_after: int = 0
) -> StatusError:
    details: dict[str, Any] = {}
    if causes:
        details["causes"] = causes
    if retry_after:
        details["retryAfterSeconds"] = retry_after
    return StatusError(429, "TooManyRequests", message, details or None, retry_after=retry_after)


def internal(detail: str) -> StatusError:
    return StatusError(
        500, "InternalError", f"Internal error occurred: {detail}", {"causes": [{"message": detail}]}
    )


def service_unavailable(detail: str) -> StatusError:
    return StatusError(503, "ServiceUnavailable", detail)


def status_success(code: int = 200, details: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        out["details"] = details
    out["code"] = code
    return out


def too_old_message(requested: int, oldest: int) -> str:
    return f"too old resource version: {requested} ({oldest})"


def from_storage(exc: serr.StorageError, *, group: str, resource: str, name: str) -> StatusError:
    """The one translation of storage errors into API errors."""
    if isinstance(exc, serr.KeyExists):
        return already_exists(group, resource, name)
    if isinstance(exc, serr.KeyNotFound):
        return not_found(group, resource, name)
    if isinstance(exc, serr.Conflict):
        return conflict(group, resource, name)
    if isinstance(exc, serr.Compacted):
        return expired(too_old_message(exc.requested, exc.compacted + 1))
    if isinstance(exc, serr.FutureRevision):
        return StatusError(
            504,
            "Timeout",
            f"Too large resource version: {exc.requested}, current: {exc.current}",
            {
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            },
            retry_after=1,
        )
    if isinstance(exc, serr.Unavailable):
        return service_unavailable(str(exc) or "storage unavailable")
    return internal(str(exc))
