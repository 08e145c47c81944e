"""Namespace deletion: ``Terminating``, then the namespace's content, then the namespace.

Mirrors ``pkg/registry/core/namespace/storage/storage.go`` (``Delete``: a namespace with
``spec.finalizers`` is not removed but gets ``deletionTimestamp`` and phase ``Terminating``) and,
in-process, the namespace controller's deleter (``pkg/controller/namespace/deletion``): every
namespaced resource in the namespace is deleted through the normal store path (pods bound to a
node terminate gracefully, so the loop waits for their node agent), and once nothing is left the
``kubernetes`` finalizer is dropped and the namespace deleted. A server restart resumes the work
for namespaces that are still ``Terminating``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from typing import Any

from kubeds.apiserver import errors
from kubeds.apiserver.listing import build_filter, list_objects
from kubeds.apiserver.registry.cluster import NAMESPACE_FINALIZER
from kubeds.apiserver.resources import RESOURCES, lookup
from kubeds.apiserver.store import DeleteOptions, Store, WriteContext
from kubeds.clock import Clock, format_time

__all__ = ["NamespaceDeleter"]

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
NAMESPACES = lookup("", "v1", "namespaces")


class NamespaceDeleter:
    def __init__(self, store: Store, *, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def delete(
        self, name: str, *, ctx: WriteContext, options: DeleteOptions
    ) -> tuple[dict[str, Any], bool]:
        assert NAMESPACES is not None
        obj = await self.store.get(NAMESPACES, "", name)
        if not (obj.get("spec") or {}).get("finalizers"):
            return await self.store.delete(NAMESPACES, "", name, ctx=ctx, options=options)
        if self.store.admission is not None:
            await self.store.admission.admit_delete(NAMESPACES, obj)
        now = format_time(self.clock.now())
        out = await self._mark_terminating(name, now, ctx=ctx, options=options)
        if not ctx.dry_run:
            self.start_finalizing(name)
        return out, False

    async def _mark_terminating(
        self, name: str, now: str, *, ctx: WriteContext, options: DeleteOptions
    ) -> dict[str, Any]:
        assert NAMESPACES is not None
        obj, kv = await self.store.read(NAMESPACES, "", name)
        uid_want, rv_want = options.precondition_uid, options.precondition_rv
        meta = obj.setdefault("metadata", {})
        if uid_want and uid_want != meta.get("uid"):
            raise errors.conflict(
                "",
                "namespaces",
                name,
                f"Precondition failed: UID in precondition: {uid_want}, "
                f"UID in object meta: {meta.get('uid')}",
            )
        if rv_want and rv_want != meta.get("resourceVersion"):
            raise errors.conflict(
                "",
                "namespaces",
                name,
                "Precondition failed: ResourceVersion in precondition: "
                f"{rv_want}, ResourceVersion in object meta: {meta.get('resourceVersion')}",
            )
        if meta.get("deletionTimestamp") and (obj.get("status") or {}).get("phase") == "Terminating":
            return obj
        new = copy.deepcopy(obj)
        new["metadata"].setdefault("deletionTimestamp", now)
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        new.setdefault("status", {})["phase"] = "Terminating"
        if ctx.dry_run:
            return new
        _, written = await self.store.storage_call(
            self.store.cas_update(NAMESPACES, kv, new), NAMESPACES, name
        )
        return self.store.decode(written)

    def start_finalizing(self, name: str) -> None:
        task = self._tasks.get(name)
        if task is None or task.done():
            self._tasks[name] = asyncio.get_running_loop().create_task(self._finalize(name))

    async def resume(self) -> None:
        assert NAMESPACES is not None
        page = await list_objects(self.store, NAMESPACES, "", flt=build_filter(NAMESPACES))
        for ns in page.items:
            if (ns.get("metadata") or {}).get("deletionTimestamp"):
                self.start_finalizing(ns["metadata"]["name"])

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t

    async def _finalize(self, name: str) -> None:
        try:
            while not await self._round(name):
                await self.clock.sleep(RETRY_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the server alive; the next restart resumes
            log.exception("finalizing namespace %s failed", name)

    async def _round(self, name: str) -> bool:
        """Delete what is left in the namespace; True once the namespace itself is gone."""
        remaining = 0
        ctx = WriteContext(field_manager="namespace-controller")
        for resource in RESOURCES:
            if not resource.namespaced:
                continue
            page = await list_objects(self.store, resource, name, flt=build_filter(resource))
            for obj in page.items:
                remaining += 1
                if (obj.get("metadata") or {}).get("deletionTimestamp"):
                    continue
                with contextlib.suppress(errors.StatusError):
                    await self.store.delete(
                        resource, name, obj["metadata"]["name"], ctx=ctx, options=DeleteOptions()
                    )
        if remaining:
            return False
        assert NAMESPACES is not None

        def drop_finalizer(ns: dict[str, Any]) -> dict[str, Any]:
            spec = ns.setdefault("spec", {})
            spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != NAMESPACE_FINALIZER]
            if not spec["finalizers"]:
                spec.pop("finalizers")
            return ns

        try:
            ns, kv = await self.store.read(NAMESPACES, "", name)
        except errors.StatusError:
            return True
        ns = drop_finalizer(ns)
        if ns.get("metadata", {}).get("finalizers"):
            await self.store.storage_call(self.store.cas_update(NAMESPACES, kv, ns), NAMESPACES, name)
            return False
        with contextlib.suppress(errors.StatusError):
            await self.store.storage_call(self.store.cas_delete(NAMESPACES, kv), NAMESPACES, name)
        return True
