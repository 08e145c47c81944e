"""The generic registry: Kubernetes object semantics over the key-value Backend.

Mirrors ``k8s.io/apiserver/pkg/registry/generic/registry/store.go`` together with
``k8s.io/apiserver/pkg/registry/rest/{create,update,delete}.go``:

* keys are ``resources.storage_prefix(resource, namespace) + name``; values are the object as
  compact JSON *without* ``metadata.resourceVersion``, which is filled in from the key's
  ``mod_revision`` on every read (as the etcd3 store's versioner does);
* create (``BeforeCreate``): defaults, mutating admission, ``PrepareForCreate``, system fields
  (``uid``, ``creationTimestamp``, ``generateName``), validation (422), managed fields, then a
  create-if-absent write (409 AlreadyExists);
* update (``BeforeUpdate`` inside ``GuaranteedUpdate``): optimistic concurrency on
  ``resourceVersion`` (409 Conflict), system fields kept from the old object, the kind's
  ``PrepareForUpdate`` (status kept on the main resource, only status through ``/status``,
  generation bumps), validation, managed fields; a no-op write is skipped; an object that is being
  deleted and loses its last finalizer is deleted (``shouldDeleteDuringUpdate``);
* delete (``BeforeDelete`` + ``updateForGracefulDeletionAndFinalizers``): preconditions, the
  kind's graceful period (pods), the ``orphan``/``foregroundDeletion`` finalizers from the
  propagation policy, and ``deletionTimestamp`` while finalizers or a grace period remain;
* ``dryRun=All`` runs everything but the write.

Copies are cheap ones: the object a mutation works on is a second decode of the stored bytes (a
PUT, which replaces the object without reading it, gets none), a retried PUT starts from a
:func:`codec.clone` of the body, and the object returned after a write is the one written
(:meth:`Store.written_form`), not a decode of the bytes just stored. The old object an update reads is
the store's own: the strategies take the sections they keep from it by reference
(``registry/base.py``, "Ownership on update"), and the no-op test compares in place
(:func:`_same_stored`) instead of building the two stored forms.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from kubeds.apiserver import codec, errors, hooks
from kubeds.apiserver.registry import strategy_for
from kubeds.apiserver.resources import Resource, storage_prefix
from kubeds.clock import Clock, format_time
from kubeds.models.fielderrors import FieldError
from kubeds.storage import errors as serr
from kubeds.storage.interface import Backend, KeyValue

__all__ = ["Admission", "DeleteOptions", "Store", "WriteContext"]

FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND = "foregroundDeletion"
GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
GENERATE_SUFFIX_LEN = 5
MAX_GENERATED_BASE = 63 - GENERATE_SUFFIX_LEN
# Upstream GuaranteedUpdate retries until it wins; N writers racing on one key need up to N rounds.
MAX_UPDATE_RETRIES = 10_000
MSG_RV_ON_CREATE = "resourceVersion should not be set on objects to be created"
MSG_NAME_MISMATCH = "the name of the object ({obj}) does not match the name on the URL ({url})"
MSG_NS_MISMATCH = "the namespace of the provided object does not match the namespace sent on the request"
MSG_NAME_REQUIRED = "name or generateName is required"
MSG_UID_PRECONDITION = "Precondition failed: UID in precondition: {want}, UID in object meta: {have}"
MSG_RV_PRECONDITION = (
    "Precondition failed: ResourceVersion in precondition: {want}, ResourceVersion in object meta: {have}"
)


@dataclass
class WriteContext:
    """Per-request write options and the warnings to return as ``Warning`` headers."""

    dry_run: bool = False
    field_manager: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class DeleteOptions:
    grace_period_seconds: int | None = None
    propagation_policy: str = ""  # "", Background, Foreground, Orphan
    orphan_dependents: bool | None = None
    precondition_uid: str = ""
    precondition_rv: str = ""


class Admission(Protocol):
    async def admit_create(self, resource: Resource, obj: dict[str, Any]) -> None: ...

    async def admit_delete(self, resource: Resource, obj: dict[str, Any]) -> None: ...


Mutator = Callable[[dict[str, Any]], Awaitable[dict[str, Any]] | dict[str, Any]]


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


def _without_rv(obj: dict[str, Any]) -> dict[str, Any]:
    """The stored form: no resourceVersion (it is the storage revision), keys in upstream's order.

    ``apiVersion``, ``kind`` and ``metadata`` always come first, so :meth:`Store.list_item_bytes`
    can find the top-level ``metadata`` without parsing.
    """
    meta = dict(obj.get("metadata") or {})
    meta.pop("resourceVersion", None)
    out: dict[str, Any] = {}
    for k in ("apiVersion", "kind"):
        if k in obj:
            out[k] = obj[k]
    out["metadata"] = meta
    for k, v in obj.items():
        if k not in out:
            out[k] = v
    return out


_ABSENT: Any = object()


def _same_stored(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """``_without_rv(new) == _without_rv(old)``, without building either.

    Values compare as dict equality compares them: the same object is equal to itself (a NaN too).
    """
    if len(new) - ("metadata" in new) != len(old) - ("metadata" in old):
        return False
    for key, value in new.items():
        if key != "metadata" and not _same_value(value, old.get(key, _ABSENT)):
            return False
    new_meta, old_meta = new.get("metadata") or {}, old.get("metadata") or {}
    if len(new_meta) - ("resourceVersion" in new_meta) != len(old_meta) - ("resourceVersion" in old_meta):
        return False
    for key, value in new_meta.items():
        if key != "resourceVersion" and not _same_value(value, old_meta.get(key, _ABSENT)):
            return False
    return True


def _deletion_marks(meta: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The metadata a delete may change: finalizers, deletionTimestamp, deletionGracePeriodSeconds."""
    return meta.get("finalizers"), meta.get("deletionTimestamp"), meta.get("deletionGracePeriodSeconds")


def _restore_finalizers(meta: dict[str, Any], finalizers: Any) -> None:
    if finalizers is None:
        meta.pop("finalizers", None)
    else:
        meta["finalizers"] = finalizers


def _same_value(a: Any, b: Any) -> bool:
    return a is b or (b is not _ABSENT and bool(a == b))


_META_OPEN = b'"metadata":{'
_RV_FIELD = b'"resourceVersion"'
_NAME_RANDOM = random.Random()  # seeded from the OS, and again in a forked child
os.register_at_fork(after_in_child=_NAME_RANDOM.seed)


class _UidSource:
    """Random (version 4) UUIDs as text, from the OS's randomness read 4 KiB at a time.

    ``str(uuid.uuid4())`` makes one ``getrandom`` call per UID; a plane creating thousands of pods a
    second paid more for those calls than for the rest of the UID. A forked child starts afresh,
    so parent and child never hand out the same bytes.
    """

    CHUNK = 4096

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self._pool, self._at = b"", 0

    def __call__(self) -> str:
        at = self._at
        if at + 16 > len(self._pool):
            self._pool, at = os.urandom(self.CHUNK), 0
        raw = bytearray(self._pool[at : at + 16])
        self._at = at + 16
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
        raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_uid = _UidSource()


class Store:
    def __init__(self, backend: Backend, *, clock: Clock) -> None:
        self.backend = backend
        self.clock = clock
        self.admission: Admission | None = None
        #: Told ``(resource, value, obj)`` before each write of an object (``value`` its stored bytes),
        #: so watch selectors need not decode it again (:meth:`kubeds.apiserver.watch.SharedEvents.written`).
        self.on_write: Callable[[Resource, bytes, dict[str, Any]], None] | None = None
        #: Told ``(value, kv)`` once that write is stored: ``kv`` names it by key and revision, which is
        #: how a backend whose watch hands out other bytes (etcd) delivers it.
        self.on_commit: Callable[[bytes, KeyValue], None] | None = None
        #: Writes and deletions of each kind made through this Store (:meth:`encode_for`,
        #: :meth:`cas_delete`): a cache of stored objects (admission's default PriorityClass) sees
        #: this server's own changes at once.
        self.changes: collections.Counter[str] = collections.Counter()

    def committed(self, value: bytes, kv: KeyValue) -> KeyValue:
        """A write of ``value`` was stored as ``kv``: tell :attr:`on_commit`; returns ``kv``."""
        if self.on_commit is not None:
            self.on_commit(value, kv)
        return kv

    def encode_for(self, resource: Resource, obj: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """:meth:`encode_stored` of ``obj`` about to be written, told to :attr:`on_write`."""
        stored, value = self.encode_stored(obj)
        self.changes[resource.kind] += 1
        if self.on_write is not None:
            self.on_write(resource, value, stored)
        return stored, value

    async def cas_update(
        self, resource: Resource, kv: KeyValue, obj: dict[str, Any]
    ) -> tuple[dict[str, Any], KeyValue]:
        """Write ``obj`` over ``kv`` if it is still the stored version; ``(stored form, written)``.

        Raises the backend's errors (:class:`~kubeds.storage.errors.Conflict` when someone wrote
        in between); :meth:`written_form` of the pair is the object as a read would return it.
        """
        stored, value = self.encode_for(resource, obj)
        written = await self.backend.update(kv.key, value, expected_revision=kv.mod_revision)
        return stored, self.committed(value, written)

    async def cas_delete(self, resource: Resource, kv: KeyValue) -> KeyValue:
        """Delete ``kv``'s key if ``kv`` is still the stored version; the deleted value, at the
        deletion's revision. Raises the backend's errors, as :meth:`cas_update`."""
        self.changes[resource.kind] += 1
        return await self.backend.delete(kv.key, expected_revision=kv.mod_revision)

    # ---- encoding -----------------------------------------------------------------------------
    @staticmethod
    def key(resource: Resource, namespace: str, name: str) -> str:
        return storage_prefix(resource, namespace if resource.namespaced else None) + name

    @staticmethod
    def encode(obj: dict[str, Any]) -> bytes:
        return bytes(orjson.dumps(_without_rv(obj)))

    @staticmethod
    def decode(kv: KeyValue) -> dict[str, Any]:
        obj: dict[str, Any] = orjson.loads(kv.value)
        _meta(obj)["resourceVersion"] = str(kv.mod_revision)
        return obj

    @staticmethod
    def encode_stored(obj: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """``(stored form, its bytes)``: :meth:`encode`, keeping the form for :meth:`written_form`."""
        stored = _without_rv(obj)
        return stored, bytes(orjson.dumps(stored))

    @staticmethod
    def written_form(stored: dict[str, Any], kv: KeyValue) -> dict[str, Any]:
        """:meth:`written` of the object whose stored form (from :meth:`encode_stored`) was written;
        takes ``stored`` over."""
        stored["metadata"]["resourceVersion"] = str(kv.mod_revision)
        return stored

    @staticmethod
    def written(obj: dict[str, Any], kv: KeyValue) -> dict[str, Any]:
        """What :meth:`decode` would make of ``kv``, the write of ``obj``, without decoding it.

        The stored key order, then the revision; the values are ``obj``'s own (the caller hands
        ``obj`` over), which encode to the same JSON as the stored ones.
        """
        out = _without_rv(obj)
        out["metadata"]["resourceVersion"] = str(kv.mod_revision)
        return out

    @staticmethod
    def object_bytes(value: bytes, revision: int) -> bytes | None:
        """The JSON of a stored ``value`` served at ``revision`` (a watch event's object), by splicing
        ``metadata.resourceVersion`` into the stored bytes; None when they cannot be spliced safely
        (another key order, or a ``"resourceVersion"`` already somewhere in the value): decode then.
        """
        i = value.find(_META_OPEN)
        if i < 0 or value.count(b"{", 0, i) != 1 or _RV_FIELD in value:
            return None
        j = i + len(_META_OPEN)
        sep = b"" if value[j : j + 1] == b"}" else b","
        return value[:j] + b'"resourceVersion":"' + str(revision).encode() + b'"' + sep + value[j:]

    @staticmethod
    def list_item_bytes(kv: KeyValue) -> bytes:
        """The JSON of a list item, built from the stored bytes without decoding them.

        Lists are the largest responses (an informer's first LIST of 10,000 pods); splicing the
        resourceVersion into the stored JSON skips a decode and re-encode of every object. Items
        carry no kind/apiVersion, as upstream serialises typed lists. Values stored in another key
        order are decoded the slow way.
        """
        value = kv.value
        i = value.find(_META_OPEN)
        if i < 0 or value.count(b"{", 0, i) != 1:
            obj = Store.decode(kv)
            obj.pop("kind", None)
            obj.pop("apiVersion", None)
            return bytes(orjson.dumps(obj))
        j = i + len(_META_OPEN)
        sep = b"" if value[j : j + 1] == b"}" else b","
        return b'{"metadata":{"resourceVersion":"' + str(kv.mod_revision).encode() + b'"' + sep + value[j:]

    def now(self) -> dt.datetime:
        return self.clock.now()

    # ---- reads --------------------------------------------------------------------------------
    async def read(self, resource: Resource, namespace: str, name: str) -> tuple[dict[str, Any], KeyValue]:
        kv = await self.storage_call(self.backend.get(self.key(resource, namespace, name)), resource, name)
        if kv is None:
            raise errors.not_found(resource.group, resource.plural, name)
        return self.decode(kv), kv

    async def _current(
        self, resource: Resource, namespace: str, name: str, *, known: KeyValue | None
    ) -> tuple[dict[str, Any], KeyValue]:
        """The stored object: ``known`` (the value a CAS conflict reported) when given, else read."""
        if known is None:
            return await self.read(resource, namespace, name)
        return self.decode(known), known

    async def get(self, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
        return (await self.read(resource, namespace, name))[0]

    async def storage_call(self, aw: Awaitable[Any], resource: Resource, name: str) -> Any:
        try:
            return await aw
        except serr.StorageError as exc:
            raise errors.from_storage(
                exc, group=resource.group, resource=resource.plural, name=name
            ) from None

    # ---- create -------------------------------------------------------------------------------
    async def create(
        self,
        resource: Resource,
        namespace: str,
        obj: dict[str, Any],
        *,
        ctx: WriteContext,
        track: bool = True,
    ) -> dict[str, Any]:
        obj["kind"] = resource.kind
        obj["apiVersion"] = resource.api_version
        meta = _meta(obj)
        if meta.get("resourceVersion"):
            raise errors.bad_request(MSG_RV_ON_CREATE)
        if resource.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        hooks.apply_defaults(resource.kind, obj)
        if track:
            hooks.track_update(
                None,
                obj,
                manager=ctx.field_manager,
                operation="Update",
                api_version=resource.api_version,
                now=format_time(self.now()),
            )
        if self.admission is not None:
            await self.admission.admit_create(resource, obj)
        meta = _meta(obj)
        meta.pop("deletionTimestamp", None)
        meta.pop("deletionGracePeriodSeconds", None)
        strategy_for(resource.kind).prepare_for_create(obj)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = format_time(self.now())
        generate = str(meta.get("generateName") or "")
        if not meta.get("name") and generate:
            meta["name"] = self._generate_name(generate)
        errs = self._validate_name(obj)
        errs.extend(
            e for e in hooks.validate_create(resource.kind, obj) if str(e) not in {str(x) for x in errs}
        )
        if errs:
            raise errors.invalid(resource.group, resource.kind, str(meta.get("name", "")), errs)
        if ctx.dry_run:
            return obj
        for attempt in range(8):
            key = self.key(resource, namespace, str(meta["name"]))
            try:
                stored, value = self.encode_for(resource, obj)
                kv = self.committed(value, await self.backend.create(key, value))
            except serr.KeyExists:
                if generate and attempt < 7:
                    meta["name"] = self._generate_name(generate)
                    continue
                raise errors.already_exists(resource.group, resource.plural, str(meta["name"])) from None
            except serr.StorageError as exc:
                raise errors.from_storage(
                    exc, group=resource.group, resource=resource.plural, name=str(meta["name"])
                ) from None
            return self.written_form(stored, kv)
        raise errors.already_exists(resource.group, resource.plural, str(meta["name"]))  # pragma: no cover

    @staticmethod
    def _generate_name(base: str) -> str:
        """``names.SimpleNameGenerator``: five characters of upstream's alphabet from a non-crypto
        generator (upstream's ``utilrand.String`` is ``math/rand``), which needs no system call."""
        suffix = "".join(_NAME_RANDOM.choices(GENERATE_ALPHABET, k=GENERATE_SUFFIX_LEN))
        return base[:MAX_GENERATED_BASE] + suffix

    @staticmethod
    def _validate_name(obj: dict[str, Any]) -> list[FieldError]:
        meta = _meta(obj)
        if not meta.get("name") and not meta.get("generateName"):
            return [FieldError.required("metadata.name", MSG_NAME_REQUIRED)]
        return []

    # ---- update -------------------------------------------------------------------------------
    def check_identity(self, resource: Resource, namespace: str, name: str, obj: dict[str, Any]) -> None:
        """400 when the body names another object than the URL (``checkName`` in handlers/rest.go)."""
        meta = _meta(obj)
        obj_name = str(meta.get("name") or "")
        if obj_name != name:
            raise errors.bad_request(MSG_NAME_MISMATCH.format(obj=obj_name, url=name))
        obj_ns = str(meta.get("namespace") or "")
        if resource.namespaced and obj_ns and obj_ns != namespace:
            raise errors.bad_request(MSG_NS_MISMATCH)

    def prepare_update(
        self,
        resource: Resource,
        old: dict[str, Any],
        new: dict[str, Any],
        *,
        ctx: WriteContext,
        subresource: str = "",
        track: bool = True,
    ) -> dict[str, Any]:
        """``BeforeUpdate``: system fields, strategy, defaults, validation, managed fields."""
        strategy = strategy_for(resource.kind)
        old_meta = old.get("metadata") or {}
        name = str(old_meta.get("name", ""))
        new["kind"] = resource.kind
        new["apiVersion"] = resource.api_version
        meta = _meta(new)
        want_uid = meta.get("uid")
        if want_uid and want_uid != old_meta.get("uid"):
            detail = MSG_UID_PRECONDITION.format(want=want_uid, have=old_meta.get("uid"))
            raise errors.conflict(resource.group, resource.plural, name, detail)
        meta["name"] = name
        if resource.namespaced:
            meta["namespace"] = old_meta.get("namespace", "")
        for system in ("uid", "creationTimestamp", "deletionTimestamp"):
            if system in old_meta:
                meta[system] = old_meta[system]
            else:
                meta.pop(system, None)
        if "deletionGracePeriodSeconds" in old_meta:
            meta["deletionGracePeriodSeconds"] = old_meta["deletionGracePeriodSeconds"]
        else:
            meta.pop("deletionGracePeriodSeconds", None)
        hooks.apply_defaults(resource.kind, new, status_write=subresource == "status")
        if track:
            hooks.track_update(
                old,
                new,
                manager=ctx.field_manager,
                operation="Update",
                api_version=resource.api_version,
                now=format_time(self.now()),
                subresource=subresource,
            )
        managed = _meta(new).get("managedFields")
        if subresource == "status":
            strategy.prepare_for_status_update(new, old)
            if managed is None:
                _meta(new).pop("managedFields", None)
            else:
                _meta(new)["managedFields"] = managed
            errs = hooks.validate_status_update(resource.kind, new, old)
        else:
            strategy.prepare_for_update(new, old)
            errs = hooks.validate_update(resource.kind, new, old)
        if errs:
            raise errors.invalid(resource.group, resource.kind, name, errs)
        return new

    async def update(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        obj: dict[str, Any],
        *,
        ctx: WriteContext,
        subresource: str = "",
    ) -> dict[str, Any]:
        """PUT: replace the object (409 if ``resourceVersion`` is stale; 404 if it is absent)."""
        self.check_identity(resource, namespace, name, obj)
        # With a resourceVersion the write is attempted once (a conflict is final), so the body
        # itself can be prepared; without one a retry needs the body as it was sent.
        pristine = None if _meta(obj).get("resourceVersion") else codec.clone(obj)

        def replace(current: dict[str, Any]) -> dict[str, Any]:
            del current
            body: dict[str, Any] = obj if pristine is None else codec.clone(pristine)
            return body

        return await self.guaranteed_update(
            resource, namespace, name, replace, ctx=ctx, subresource=subresource, reads_current=False
        )

    async def guaranteed_update(
        self,
        resource: Resource,
        namespace: str,
        name: str,
        mutate: Mutator,
        *,
        ctx: WriteContext,
        subresource: str = "",
        track: bool = True,
        reads_current: bool = True,
    ) -> dict[str, Any]:
        """Read, ``mutate`` a copy, prepare and CAS-write; retry on a storage conflict.

        A ``metadata.resourceVersion`` in the mutated object that differs from the stored one is a
        precondition failure (409), and then no retry happens, as upstream's ``GuaranteedUpdate``.
        ``reads_current=False`` says ``mutate`` ignores its argument (a PUT): it gets the old
        object itself instead of a private copy, and must not write into it.
        """
        known: KeyValue | None = None  # what a conflict reported as stored: no need to read it again
        for _ in range(MAX_UPDATE_RETRIES):
            old, kv = await self._current(resource, namespace, name, known=known)
            # A private copy for the mutation (decoding is cheaper than copying), unless unread.
            result = mutate(self.decode(kv) if reads_current else old)
            new = await result if isinstance(result, Awaitable) else result
            want_rv = str(_meta(new).get("resourceVersion") or "")
            if want_rv and want_rv != str(kv.mod_revision):
                raise errors.conflict(resource.group, resource.plural, name)
            new = self.prepare_update(resource, old, new, ctx=ctx, subresource=subresource, track=track)
            if _same_stored(new, old):
                return old
            if ctx.dry_run:
                return new
            try:
                if self._should_delete_during_update(new):
                    out = await self.cas_delete(resource, kv)
                    deleted = self.decode(out)
                    return deleted
                stored, written = await self.cas_update(resource, kv, new)
            except serr.Conflict as exc:
                # Someone wrote in between: re-run ``mutate`` on what the conflict says is stored now
                # (upstream's etcd3 GuaranteedUpdate takes it from the failed transaction's get, not
                # from another read). A request that carried its own resourceVersion (PUT) then fails
                # the precondition above; a patch, re-applied to the fresh object, goes through.
                known = exc.current
                continue
            except serr.StorageError as exc:
                raise errors.from_storage(
                    exc, group=resource.group, resource=resource.plural, name=name
                ) from None
            return self.written_form(stored, written)
        raise errors.conflict(resource.group, resource.plural, name)

    @staticmethod
    def _should_delete_during_update(obj: dict[str, Any]) -> bool:
        meta = _meta(obj)
        return (
            bool(meta.get("deletionTimestamp"))
            and not meta.get("finalizers")
            and not (meta.get("deletionGracePeriodSeconds") or 0)
        )

    # ---- delete -------------------------------------------------------------------------------
    async def delete(
        self, resource: Resource, namespace: str, name: str, *, ctx: WriteContext, options: DeleteOptions
    ) -> tuple[dict[str, Any], bool]:
        """Delete or mark for deletion; returns ``(object, deleted_now)``."""
        strategy = strategy_for(resource.kind)
        known: KeyValue | None = None
        for _ in range(MAX_UPDATE_RETRIES):
            obj, kv = await self._current(resource, namespace, name, known=known)
            meta = _meta(obj)
            self._check_preconditions(resource, name, meta, options)
            if self.admission is not None:
                await self.admission.admit_delete(resource, obj)
            grace = strategy.grace_period(obj, options.grace_period_seconds)
            if grace > 0 and meta.get("deletionTimestamp"):
                existing_grace = meta.get("deletionGracePeriodSeconds")
                if existing_grace is not None and existing_grace <= grace:
                    return obj, False  # already terminating with a shorter or equal period
            # ``obj`` was decoded for this request alone: mark it in place. The policy replaces the
            # finalizers list, never edits it, so ``marks`` keeps what was stored.
            marks = _deletion_marks(meta)
            self._apply_gc_finalizers(meta, options)
            if grace <= 0 and not meta.get("finalizers"):
                # Deleted now: the last state as stored, at the deletion's revision.
                _restore_finalizers(meta, marks[0])
                if ctx.dry_run:
                    return obj, True
                try:
                    out = await self.cas_delete(resource, kv)
                except serr.Conflict as exc:
                    known = exc.current
                    continue
                except serr.StorageError as exc:
                    raise errors.from_storage(
                        exc, group=resource.group, resource=resource.plural, name=name
                    ) from None
                meta["resourceVersion"] = str(out.mod_revision)
                return obj, True
            if grace > 0:
                meta["deletionTimestamp"] = format_time(self.now() + dt.timedelta(seconds=grace))
                meta["deletionGracePeriodSeconds"] = grace
            else:  # finalizers stay: mark for deletion
                meta.setdefault("deletionTimestamp", format_time(self.now()))
                meta["deletionGracePeriodSeconds"] = 0
            if _deletion_marks(meta) == marks or ctx.dry_run:
                return obj, False
            try:
                stored, written = await self.cas_update(resource, kv, obj)
            except serr.Conflict as exc:
                known = exc.current
                continue
            except serr.StorageError as exc:
                raise errors.from_storage(
                    exc, group=resource.group, resource=resource.plural, name=name
                ) from None
            return self.written_form(stored, written), False
        raise errors.conflict(resource.group, resource.plural, name)

    @staticmethod
    def _check_preconditions(
        resource: Resource, name: str, meta: dict[str, Any], options: DeleteOptions
    ) -> None:
        if options.precondition_uid and options.precondition_uid != meta.get("uid"):
            detail = MSG_UID_PRECONDITION.format(want=options.precondition_uid, have=meta.get("uid"))
            raise errors.conflict(resource.group, resource.plural, name, detail)
        if options.precondition_rv and options.precondition_rv != meta.get("resourceVersion"):
            detail = MSG_RV_PRECONDITION.format(
                want=options.precondition_rv, have=meta.get("resourceVersion")
            )
            raise errors.conflict(resource.group, resource.plural, name, detail)

    @staticmethod
    def _apply_gc_finalizers(meta: dict[str, Any], options: DeleteOptions) -> None:
        """``deletionFinalizersForGarbageCollection``: the policy decides orphan/foreground finalizers."""
        policy = options.propagation_policy
        if not policy and options.orphan_dependents is not None:
            policy = "Orphan" if options.orphan_dependents else "Background"
        if not policy:
            return
        finalizers = [
            f for f in meta.get("finalizers") or [] if f not in (FINALIZER_ORPHAN, FINALIZER_FOREGROUND)
        ]
        if policy == "Orphan":
            finalizers.append(FINALIZER_ORPHAN)
        elif policy == "Foreground":
            finalizers.append(FINALIZER_FOREGROUND)
        if finalizers:
            meta["finalizers"] = finalizers
        else:
            meta.pop("finalizers", None)
