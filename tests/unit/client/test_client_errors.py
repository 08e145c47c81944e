"""Status → exception mapping and the generic messages for bodies that are not a Status."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kubeds import wire
from kubeds.client import errors


# Reason first, code only for an unknown reason: the decision table of apimachinery's
# IsNotFound/IsConflict/IsGone/... (staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go and the
# reason/code combinations of its errors_test.go TestErrorNew/TestReasonForError).
@pytest.mark.parametrize(
    ("reason", "code", "expected"),
    [
        ("NotFound", 404, errors.NotFound),
        ("", 404, errors.NotFound),
        ("SomethingNew", 404, errors.NotFound),
        ("MethodNotAllowed", 404, errors.ApiError),
        ("AlreadyExists", 409, errors.AlreadyExists),
        ("Conflict", 409, errors.Conflict),
        ("", 409, errors.Conflict),
        ("Invalid", 422, errors.Invalid),
        ("Invalid", 400, errors.Invalid),
        ("Expired", 410, errors.Gone),
        ("Gone", 410, errors.Gone),
        ("", 410, errors.Gone),
        ("TooManyRequests", 429, errors.TooManyRequests),
        ("", 429, errors.TooManyRequests),
        ("Unauthorized", 401, errors.Unauthorized),
        ("Forbidden", 403, errors.Forbidden),
        ("BadRequest", 400, errors.BadRequest),
        ("InternalError", 500, errors.ServerError),
        ("Timeout", 504, errors.ServerError),
        ("ServerTimeout", 500, errors.ServerError),
        ("", 502, errors.ServerError),
        ("NotAcceptable", 406, errors.ApiError),
        ("", 418, errors.ApiError),
    ],
)
def test_error_from_status(reason: str, code: int, expected: type[errors.ApiError]) -> None:
    err = errors.error_from_status({"kind": "Status", "reason": reason, "code": code, "message": "x"})
    assert type(err) is expected
    assert (err.code, err.reason, err.message) == (code, reason, "x")


def test_retry_after_from_details() -> None:
    status = {"kind": "Status", "reason": "ServerTimeout", "code": 500, "details": {"retryAfterSeconds": 3}}
    assert errors.error_from_status(status).retry_after == 3.0
    assert errors.error_from_status(status).details == {"retryAfterSeconds": 3}


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_success_does_not_raise(status: int) -> None:
    errors.raise_for_status(wire.Response(status, body=b"not even json"))


def test_status_body_is_kept_and_code_filled_from_http() -> None:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": "NotFound",
        "message": "gone",
    }
    with pytest.raises(errors.NotFound) as caught:
        errors.raise_for_status(wire.Response(404, body=orjson.dumps(body)))
    assert caught.value.status == {**body, "code": 404}


def test_retry_after_header() -> None:
    body = orjson.dumps({"kind": "Status", "reason": "TooManyRequests", "code": 429})
    with pytest.raises(errors.TooManyRequests) as caught:
        errors.raise_for_status(wire.Response(429, {"retry-after": "5"}, body))
    assert caught.value.retry_after == 5.0


# The messages of upstream NewGenericServerResponse for bodies that are not a Status.
@pytest.mark.parametrize(
    ("code", "method", "body", "expected", "reason", "message"),
    [
        (
            404,
            "GET",
            b"404 page not found",
            errors.NotFound,
            "NotFound",
            "the server could not find the requested resource",
        ),
        (409, "POST", b"", errors.AlreadyExists, "AlreadyExists", "the server reported a conflict"),
        (409, "PUT", b"", errors.Conflict, "Conflict", "the server reported a conflict"),
        (
            400,
            "GET",
            b"",
            errors.BadRequest,
            "BadRequest",
            "the server rejected our request for an unknown reason",
        ),
        (
            401,
            "GET",
            b"",
            errors.Unauthorized,
            "Unauthorized",
            "the server has asked for the client to provide credentials",
        ),
        (403, "GET", b"nope", errors.Forbidden, "Forbidden", "nope"),
        (
            422,
            "POST",
            b"",
            errors.Invalid,
            "Invalid",
            "the server rejected our request due to an error in our request",
        ),
        (
            500,
            "GET",
            b"boom",
            errors.ServerError,
            "InternalError",
            'an error on the server ("boom") has prevented the request from succeeding',
        ),
        (
            503,
            "GET",
            b"<html>",
            errors.ServerError,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        (
            418,
            "GET",
            b"",
            errors.ApiError,
            "",
            "the server responded with the status code 418 but did not return more information",
        ),
        (
            404,
            "GET",
            b'{"kind":"Pod"}',
            errors.NotFound,
            "NotFound",
            "the server could not find the requested resource",
        ),
    ],
)
def test_generic_messages_for_non_status_bodies(
    code: int, method: str, body: bytes, expected: type[errors.ApiError], reason: str, message: str
) -> None:
    with pytest.raises(errors.ApiError) as caught:
        errors.raise_for_status(wire.Response(code, body=body), method=method)
    err: Any = caught.value
    assert type(err) is expected
    assert (err.code, err.reason, err.message) == (code, reason, message)
    if body:
        assert err.details["causes"] == [{"reason": "UnexpectedServerResponse", "message": body.decode()}]


def test_exception_tree() -> None:
    for cls in (
        errors.BadRequest,
        errors.Unauthorized,
        errors.Forbidden,
        errors.NotFound,
        errors.AlreadyExists,
        errors.Conflict,
        errors.Gone,
        errors.Invalid,
        errors.TooManyRequests,
        errors.ServerError,
    ):
        assert issubclass(cls, errors.ApiError)
    assert not issubclass(errors.TransportError, errors.ApiError)
    assert not issubclass(errors.AlreadyExists, errors.Conflict)
