"""The three PATCH engines of the API server: JSON patch, JSON merge patch, strategic merge patch.

Each takes the stored object (a JSON-shaped dict) and the decoded patch body, returns a new dict
and leaves its arguments untouched; failures raise :class:`PatchError`, whose ``code``/``reason``/
``message`` are the ``Status`` upstream answers with (see :mod:`.errors`). Server-side apply
(``application/apply-patch+yaml``) lives in ``kubeds.apiserver.apply``.
"""

from __future__ import annotations

from kubeds.apiserver.patch.decode import (
    JSON_PATCH,
    MERGE_PATCH,
    PATCH_TYPES,
    STRATEGIC_MERGE_PATCH,
    decode_patch_body,
)
from kubeds.apiserver.patch.errors import GENERIC_INVALID_MESSAGE, PatchError
from kubeds.apiserver.patch.jsonmerge import json_merge_patch
from kubeds.apiserver.patch.jsonpatch import MAX_JSON_PATCH_OPERATIONS, json_patch
from kubeds.apiserver.patch.schema import schema_for_kind
from kubeds.apiserver.patch.strategic import apply_strategic_patch, strategic_merge_patch

__all__ = [
    "GENERIC_INVALID_MESSAGE",
    "JSON_PATCH",
    "MAX_JSON_PATCH_OPERATIONS",
    "MERGE_PATCH",
    "PATCH_TYPES",
    "STRATEGIC_MERGE_PATCH",
    "PatchError",
    "apply_strategic_patch",
    "decode_patch_body",
    "json_merge_patch",
    "json_patch",
    "schema_for_kind",
    "strategic_merge_patch",
]
