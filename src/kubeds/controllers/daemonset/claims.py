"""Claiming pods and ControllerRevisions for a DaemonSet: adopt matching orphans, release strays.

Mirrors upstream ``pkg/controller/controller_ref_manager.go`` (``ClaimObject``, ``ClaimPods``,
``ClaimControllerRevisions``, ``AdoptPod``/``ReleasePod`` and their ControllerRevision twins,
``RecheckDeletionTimestamp``) as the DaemonSet controller uses it. Which action an object gets is
decided by :func:`kubeds.controllers.daemonset.pods.claim_action`; this module performs it:

* adopt: a strategic-merge PATCH adding the controller reference, with ``metadata.uid`` as a
  precondition. Before the first adoption of a claim the DaemonSet is re-read *uncached*: if it is
  gone, has another UID (``original DaemonSet ns/name is gone: got uid X, wanted Y``) or is being
  deleted (``ns/name has just been deleted at T``), adoption fails with that error, for every orphan
  of this claim (upstream's ``sync.Once``);
* release: a strategic-merge PATCH deleting the ownerReference with the DaemonSet's UID; a 404 or 422
  (the object is gone or was recreated) is ignored;
* an object that vanished (404) during adoption is simply not claimed.

Errors of individual objects are collected; the claim returns what it could claim and the sync fails
with the aggregate (``couldn't get node to daemon pod mapping ...``), so nothing is created or deleted
on the strength of a partial claim. Owned objects that still match (the steady state) are recognised
without any request and without re-parsing the selector.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kubeds.client import errors
from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.pods import CLAIM_ADOPT, CLAIM_OWN, CLAIM_RELEASE, claim_action
from kubeds.controllers.daemonset.podtemplate import controller_ref
from kubeds.models.labels import SelectorError, selector_from_dict

__all__ = ["ClaimError", "Rechecker", "adopt_patch", "claim", "release_patch"]

log = logging.getLogger(__name__)

MSG_CANNOT_ADOPT = "can't adopt {kind} {namespace}/{name} ({uid}): {error}"
MSG_JUST_DELETED = "{namespace}/{name} has just been deleted at {timestamp}"

Obj = Mapping[str, Any]
Patcher = Callable[[str, str, dict[str, Any]], Awaitable[Any]]


class ClaimError(Exception):
    """Adoption was refused (the DaemonSet is gone or going)."""


def adopt_patch(ds: Obj, obj_uid: str) -> dict[str, Any]:
    """``ownerRefControllerPatch``: add the controller reference, guarded by the object's UID."""
    return {"metadata": {"ownerReferences": [controller_ref(ds)], "uid": obj_uid}}


def release_patch(ds: Obj, obj_uid: str) -> dict[str, Any]:
    """``GenerateDeleteOwnerRefStrategicMergeBytes``: drop the DaemonSet's ownerReference."""
    owner_uid = (ds.get("metadata") or {}).get("uid")
    return {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": owner_uid}], "uid": obj_uid}}


class Rechecker:
    """``RecheckDeletionTimestamp`` under a ``sync.Once``: one uncached GET per claim, at most."""

    def __init__(self, ds: Obj, fetch: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._ds = ds
        self._fetch = fetch
        self._done = False
        self._error: BaseException | None = None

    async def check(self) -> None:
        if not self._done:
            self._done = True
            self._error = await self._recheck()
        if self._error is not None:
            raise self._error

    async def _recheck(self) -> BaseException | None:
        meta = self._ds.get("metadata") or {}
        try:
            fresh = await self._fetch()
        except (errors.ApiError, errors.TransportError) as err:
            return err
        fresh_meta = fresh.get("metadata") or {}
        if fresh_meta.get("uid") != meta.get("uid"):
            return ClaimError(
                c.MSG_DS_GONE.format(
                    namespace=meta.get("namespace"),
                    name=meta.get("name"),
                    got=fresh_meta.get("uid"),
                    wanted=meta.get("uid"),
                )
            )
        if fresh_meta.get("deletionTimestamp"):
            return ClaimError(
                MSG_JUST_DELETED.format(
                    namespace=meta.get("namespace"),
                    name=meta.get("name"),
                    timestamp=fresh_meta["deletionTimestamp"],
                )
            )
        return None


async def claim(
    ds: Obj,
    objs: Sequence[Obj],
    *,
    kind: str,
    patch: Patcher,
    recheck: Rechecker,
) -> tuple[list[Obj], list[BaseException]]:
    """``(claimed, errors)`` over ``objs`` (every pod or revision of the DaemonSet's namespace)."""
    meta = ds.get("metadata") or {}
    ds_uid = meta.get("uid")
    try:
        selector = selector_from_dict((ds.get("spec") or {}).get("selector"))
    except SelectorError:
        selector = None
    claimed: list[Obj] = []
    failures: list[BaseException] = []
    for obj in objs:
        obj_meta = obj.get("metadata") or {}
        ref = _controller_ref(obj_meta)
        if ref is not None and ref.get("uid") != ds_uid:
            continue  # another controller's
        if ref is not None and selector is not None and selector.matches(obj_meta.get("labels") or {}):
            claimed.append(obj)  # the steady state, decided without another selector parse
            continue
        action = claim_action(ds, obj)
        name = str(obj_meta.get("name") or "")
        namespace = str(obj_meta.get("namespace") or "")
        uid = str(obj_meta.get("uid") or "")
        if action == CLAIM_OWN:
            claimed.append(obj)
        elif action == CLAIM_RELEASE:
            try:
                await patch(namespace, name, release_patch(ds, uid))
            except (errors.NotFound, errors.Invalid):
                pass  # gone, or recreated with another UID: nothing to release
            except (errors.ApiError, errors.TransportError) as err:
                failures.append(err)
        elif action == CLAIM_ADOPT:
            try:
                await recheck.check()
            except Exception as err:
                failures.append(
                    ClaimError(
                        MSG_CANNOT_ADOPT.format(kind=kind, namespace=namespace, name=name, uid=uid, error=err)
                    )
                )
                continue
            try:
                await patch(namespace, name, adopt_patch(ds, uid))
            except errors.NotFound:
                continue
            except (errors.ApiError, errors.TransportError) as err:
                failures.append(err)
                continue
            claimed.append(obj)
    return claimed, failures


def _controller_ref(meta: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None
