"""The one exception the patch engines raise, carrying the HTTP status upstream answers with.

Upstream decides the status of a failed PATCH in
``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go``:

* body that does not decode (``kjson.UnmarshalStrict``/``jsonpatch.DecodePatch``) -> **400 BadRequest**
  with the decoder's text, prefixed ``error decoding patch: `` for JSON and merge patches under
  ``fieldValidation=Strict|Warn`` (``applyJSPatch``); a merge patch that is ``null`` or a scalar is
  ``Invalid JSON Patch`` (``jsonpatch.ErrBadJSONPatch``), also 400;
* a JSON patch with more than 10000 operations -> **413 RequestEntityTooLarge**;
* a JSON patch operation that fails (``test`` mismatch, missing path, bad index) -> **422 Invalid**
  built with ``NewGenericServerResponse(422, ...)``, whose message is the generic
  ``the server rejected our request due to an error in our request``: the evanphx/json-patch text
  is *not* shown to the client. We keep it in :attr:`PatchError.detail` for logs;
* strategic merge patch errors go through ``interpretStrategicMergePatchError``: the
  ``mergepatch.ErrBadJSONDoc``/``ErrBadPatchFormatFor*``/``ErrUnsupportedStrategicMergePatchFormat``
  sentinels are 400 with their text, ``ErrNoListOfLists``/``ErrPatchContentNotMatchRetainKeys`` are
  422 with the generic text, and every other error (missing merge key, unknown ``$patch`` value,
  mismatched element types...) reaches the client as a **500** whose message is the error text.
  kubeds's design forbids a 500 for bad input, so those are answered as 400 BadRequest with the same
  text (:data:`UNCLASSIFIED_SMP_CODE`); flip that constant to get upstream's 500.
"""

from __future__ import annotations

__all__ = [
    "GENERIC_INVALID_MESSAGE",
    "UNCLASSIFIED_SMP_CODE",
    "PatchError",
    "bad_request",
    "invalid_generic",
    "smp_error",
]

# errors.NewGenericServerResponse(http.StatusUnprocessableEntity, ...) message text.
GENERIC_INVALID_MESSAGE = "the server rejected our request due to an error in our request"

# Upstream answers 500 (reason "") for strategic-merge errors that are not mergepatch sentinels.
UNCLASSIFIED_SMP_CODE = 400

REASON_BAD_REQUEST = "BadRequest"
REASON_INVALID = "Invalid"
REASON_TOO_LARGE = "RequestEntityTooLarge"
REASON_INTERNAL = "InternalError"


class PatchError(Exception):
    """A patch could not be applied.

    ``message`` is what upstream puts in the ``Status.message``; ``code`` and ``reason`` are the
    ``Status`` code and reason; ``detail`` is the underlying engine error text (equal to
    ``message`` except for the generic 422 answers, where upstream hides it).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int = 400,
        reason: str = REASON_BAD_REQUEST,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.detail = message if detail is None else detail

    def __repr__(self) -> str:
        return f"PatchError(code={self.code}, reason={self.reason!r}, message={self.message!r})"


def bad_request(message: str) -> PatchError:
    return PatchError(message, code=400, reason=REASON_BAD_REQUEST)


def invalid_generic(detail: str) -> PatchError:
    """422 as ``NewGenericServerResponse(422, ...)``: generic message, the cause kept as detail."""
    return PatchError(GENERIC_INVALID_MESSAGE, code=422, reason=REASON_INVALID, detail=detail)


def smp_error(message: str) -> PatchError:
    """A strategic-merge error upstream does not classify (a 500 upstream, see the module doc)."""
    reason = REASON_INTERNAL if UNCLASSIFIED_SMP_CODE >= 500 else REASON_BAD_REQUEST
    return PatchError(message, code=UNCLASSIFIED_SMP_CODE, reason=reason)
