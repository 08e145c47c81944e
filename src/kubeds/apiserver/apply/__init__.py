"""Server-side apply and managedFields (see :mod:`kubeds.apiserver.apply.fieldmanager`)."""

from __future__ import annotations

from kubeds.apiserver.apply.conflict import ApplyConflict
from kubeds.apiserver.apply.fieldmanager import LAST_APPLIED, apply, fields_v1, track_update

__all__ = ["LAST_APPLIED", "ApplyConflict", "apply", "fields_v1", "track_update"]
