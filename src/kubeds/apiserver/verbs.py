"""The resource verbs: get, list, watch, create, update, patch, delete, deletecollection.

Mirrors ``k8s.io/apiserver/pkg/endpoints/handlers/{get,create,update,patch,delete,watch}.go``:
each verb decodes its body and options, calls the generic store (:mod:`.store`) and encodes the
result, as JSON or, when the Accept header asks for it, as a ``meta.k8s.io/v1`` Table
(``handlers/response.go`` ``transformResponseObject``). Status codes: create 201, apply-create 201,
everything else 200; delete returns the object (pods, namespaces, or anything not deleted at
once) or a ``Status`` ``Success`` naming it (``finalizeDelete`` with ``ReturnDeletedObject``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeds.apiserver import codec, errors, fieldvalidation, listing, options, watch
from kubeds.apiserver.registry import strategy_for
from kubeds.apiserver.resources import Resource
from kubeds.apiserver.store import WriteContext
from kubeds.clock import format_time
from kubeds.models.fielderrors import FieldError
from kubeds.wire import Request, Response

if TYPE_CHECKING:
    from kubeds.apiserver.handler import APIServer
    from kubeds.apiserver.requestinfo import RequestInfo

__all__ = ["Call", "json_response"]

PATCH_REASONS = {400: "BadRequest", 409: "Conflict", 422: "Invalid", 415: "UnsupportedMediaType"}
INCLUDE_OBJECT_VALUES = ("", "None", "Metadata", "Object")


def warning_header(texts: list[str]) -> str:
    seen: list[str] = []
    for t in texts:
        if t not in seen:
            seen.append(t)
    return ", ".join('299 - "' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in seen)


def json_response(
    code: int, obj: Any, *, warnings: list[str] | None = None, private: bool = False
) -> Response:
    """``obj`` as JSON. ``private``: ``obj`` was made for this response and nothing else holds it,
    so it travels as the object (encoded only if read as bytes; see :class:`kubeds.wire.Response`)."""
    headers = {"content-type": codec.JSON}
    if warnings:
        headers["warning"] = warning_header(warnings)
    if private:
        return Response(code, headers, obj=obj)
    return Response(code, headers, codec.dumps(obj))


class Call:
    """One resource request: the parsed path, the resource and the server it runs on."""

    def __init__(self, api: APIServer, req: Request, info: RequestInfo, resource: Resource) -> None:
        self.api = api
        self.req = req
        self.info = info
        self.resource = resource
        self.namespace = info.namespace if resource.namespaced else ""
        self.name = info.name
        self.store = api.store
        self.table_version = codec.table_requested(req.headers.get("accept", ""))

    # ---- helpers ------------------------------------------------------------------------------
    def _render(
        self, objs: list[dict[str, Any]], *, rv: str, cont: str = "", headers: bool = True
    ) -> dict[str, Any]:
        from kubeds.apiserver import printers

        include = self.req.param("includeObject")
        if include not in INCLUDE_OBJECT_VALUES:
            raise errors.bad_request(
                f'includeObject: Unsupported value: "{include}": '
                'supported values: "Metadata", "None", "Object"'
            )
        return printers.build_table(
            self.resource.kind,
            objs,
            now=self.api.clock.now(),
            include_object=include or printers.INCLUDE_METADATA,
            resource_version=rv,
            continue_token=cont,
            api_version=self.resource.api_version,
            include_headers=headers,
        )

    def _object_response(self, code: int, obj: dict[str, Any], ctx: WriteContext | None = None) -> Response:
        warnings = ctx.warnings if ctx else None
        if self.table_version and self.info.verb == "get":
            rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
            return json_response(code, self._render([obj], rv=rv), warnings=warnings, private=True)
        return json_response(code, obj, warnings=warnings, private=True)

    def _filter(self) -> listing.Filter:
        field_selector = self.req.param("fieldSelector")
        if self.name:
            name_term = f"metadata.name={self.name}"
            field_selector = f"{field_selector},{name_term}" if field_selector else name_term
        return listing.build_filter(self.resource, self.req.param("labelSelector"), field_selector)

    def _body(self) -> dict[str, Any]:
        return codec.decode_object(self.req.body, self.req.headers.get("content-type", ""))

    def _check_type(self, obj: dict[str, Any], *, kind: str = "", api_version: str = "") -> None:
        kind = kind or self.resource.kind
        api_version = api_version or self.resource.api_version
        got_kind, got_version = obj.get("kind"), obj.get("apiVersion")
        if got_kind and got_kind != kind:
            raise errors.bad_request(
                f"the object provided is unrecognized (must be of type {kind}): "
                f'couldn\'t get version/kind; kind "{got_kind}" does not match "{kind}"'
            )
        if got_version and got_version != api_version:
            raise errors.bad_request(
                f"the API version in the data ({got_version}) does not match the expected API version "
                f"({api_version})"
            )

    def _ctx(self, params: options.WriteParams) -> WriteContext:
        return WriteContext(dry_run=params.dry_run, field_manager=params.field_manager)

    # ---- verbs --------------------------------------------------------------------------------
    async def get(self) -> Response:
        obj = await self.store.get(self.resource, self.namespace, self.name)
        return self._object_response(200, obj)

    async def list(self) -> Response:
        flt = self._filter()
        limit_raw = self.req.param("limit")
        try:
            limit = int(limit_raw) if limit_raw else 0
        except ValueError:
            raise errors.bad_request(f'limit: Invalid value: "{limit_raw}": must be an integer') from None
        page = await listing.list_objects(
            self.store,
            self.resource,
            self.namespace,
            flt=flt,
            limit=max(limit, 0),
            continue_token=self.req.param("continue"),
            resource_version=self.req.param("resourceVersion"),
            resource_version_match=self.req.param("resourceVersionMatch"),
            raw=not self.table_version,
        )
        if self.table_version:
            table = self._render(page.items, rv=str(page.revision), cont=page.continue_token)
            return json_response(200, table, private=True)
        if page.raw_items is not None:
            return Response(200, {"content-type": codec.JSON}, listing.list_body_bytes(self.resource, page))
        return json_response(200, listing.list_body(self.resource, page), private=True)

    async def watch(self) -> Response:
        timeout_raw = self.req.param("timeoutSeconds")
        try:
            timeout = float(timeout_raw) if timeout_raw else None
        except ValueError:
            raise errors.bad_request(f'timeoutSeconds: Invalid value: "{timeout_raw}"') from None
        table = None
        if self.table_version:
            table_call = self

            def render(objs: list[dict[str, Any]], headers: bool) -> dict[str, Any]:
                rv = str((objs[0].get("metadata") or {}).get("resourceVersion", "")) if objs else ""
                return table_call._render(objs, rv=rv, headers=headers)

            table = render
            self._render([], rv="")  # validate includeObject before the stream starts
        stream = await watch.open_watch(
            self.store,
            self.resource,
            self.namespace,
            flt=self._filter(),
            resource_version=self.req.param("resourceVersion"),
            allow_bookmarks=self.req.param("allowWatchBookmarks").lower() == "true",
            timeout_seconds=timeout,
            clock=self.api.clock,
            table=table,
            bookmark_interval=self.api.bookmark_interval,
        )
        content_type = codec.JSON
        if self.table_version:
            content_type = f"{codec.JSON};as=Table;v={self.table_version};g=meta.k8s.io"
        return Response(200, {"content-type": content_type, "transfer-encoding": "chunked"}, b"", stream)

    async def create(self) -> Response:
        params = options.write_params(self.req, kind="CreateOptions")
        obj = self._body()
        self._check_type(obj)
        ctx = self._ctx(params)
        fieldvalidation.check_unknown_fields(
            self.resource.kind,
            self.resource.version,
            obj,
            directive=params.field_validation,
            warnings=ctx.warnings,
        )
        meta = obj.get("metadata")
        if isinstance(meta, dict) and self.resource.namespaced:
            ns = meta.get("namespace")
            if ns and ns != self.namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
        created = await self.store.create(self.resource, self.namespace, obj, ctx=ctx)
        return json_response(201, created, warnings=ctx.warnings, private=True)

    async def update(self, subresource: str = "") -> Response:
        params = options.write_params(self.req, kind="UpdateOptions")
        obj = self._body()
        self._check_type(obj)
        ctx = self._ctx(params)
        fieldvalidation.check_unknown_fields(
            self.resource.kind,
            self.resource.version,
            obj,
            directive=params.field_validation,
            warnings=ctx.warnings,
        )
        updated = await self.store.update(
            self.resource, self.namespace, self.name, obj, ctx=ctx, subresource=subresource
        )
        return json_response(200, updated, warnings=ctx.warnings, private=True)

    async def patch(self, subresource: str = "") -> Response:
        content_type = codec.media_type(self.req.headers.get("content-type", ""))
        if content_type not in codec.PATCH_TYPES:
            raise errors.unsupported_media_type(content_type)
        params = options.write_params(self.req, kind="PatchOptions", patch_type=content_type)
        ctx = self._ctx(params)
        if content_type == codec.APPLY:
            doc = codec.decode_body(self.req.body, content_type, allowed=codec.PATCH_TYPES)
            return await self._apply(doc, params, ctx, subresource)
        doc = decode_patch(self.req.body, content_type, strict=params.field_validation != "Ignore")
        if content_type == codec.JSON_PATCH and not isinstance(doc, list):
            raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        if content_type != codec.JSON_PATCH and not isinstance(doc, dict):
            raise errors.bad_request(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            )
        kind = self.resource.kind

        def mutate(current: dict[str, Any]) -> dict[str, Any]:
            # ``current`` is the store's private decode of the stored object: patched in place.
            patched = apply_patch(kind, content_type, current, doc, owned=True)
            fieldvalidation.check_unknown_fields(
                kind,
                self.resource.version,
                patched,
                directive=params.field_validation,
                warnings=ctx.warnings,
                patch=doc,
            )
            return patched

        updated = await self.store.guaranteed_update(
            self.resource, self.namespace, self.name, mutate, ctx=ctx, subresource=subresource
        )
        return json_response(200, updated, warnings=ctx.warnings, private=True)

    async def _apply(
        self, doc: Any, params: options.WriteParams, ctx: WriteContext, subresource: str
    ) -> Response:
        from kubeds.apiserver import apply as ssa

        if not isinstance(doc, dict):
            raise errors.bad_request("error decoding YAML: the apply patch must be an object")
        self._check_type(doc)
        meta = doc.get("metadata") or {}
        if meta.get("name") and meta.get("name") != self.name:
            raise errors.bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({self.name})"
            )
        fieldvalidation.check_unknown_fields(
            self.resource.kind,
            self.resource.version,
            doc,
            directive=params.field_validation,
            warnings=ctx.warnings,
            patch=doc,
        )
        now = format_time(self.api.clock.now())

        def run(live: dict[str, Any] | None) -> dict[str, Any]:
            try:
                return ssa.apply(
                    live,
                    codec.clone(doc),
                    manager=params.field_manager,
                    force=params.force,
                    api_version=self.resource.api_version,
                    now=now,
                )
            except ssa.ApplyConflict as exc:
                raise apply_conflict(exc, self.resource) from None

        try:
            await self.store.get(self.resource, self.namespace, self.name)
        except errors.StatusError as exc:
            if exc.code != 404 or subresource:
                raise
            created_obj = run(None)
            created_meta = created_obj.setdefault("metadata", {})
            created_meta["name"] = self.name
            created = await self.store.create(
                self.resource, self.namespace, created_obj, ctx=ctx, track=False
            )
            return json_response(201, created, warnings=ctx.warnings, private=True)
        updated = await self.store.guaranteed_update(
            self.resource, self.namespace, self.name, run, ctx=ctx, subresource=subresource, track=False
        )
        return json_response(200, updated, warnings=ctx.warnings, private=True)

    async def delete(self) -> Response:
        opts, dry_run = options.delete_options(self.req)
        ctx = WriteContext(dry_run=dry_run)
        if self.resource.kind == "Namespace" and self.resource.group == "":
            obj, deleted = await self.api.namespaces.delete(self.name, ctx=ctx, options=opts)
        else:
            obj, deleted = await self.store.delete(
                self.resource, self.namespace, self.name, ctx=ctx, options=opts
            )
        if deleted and not strategy_for(self.resource.kind).return_deleted_object:
            meta = obj.get("metadata") or {}
            details = {"name": self.name, "kind": self.resource.plural, "uid": meta.get("uid", "")}
            if self.resource.group:
                details = {
                    "name": self.name,
                    "group": self.resource.group,
                    "kind": self.resource.plural,
                    "uid": meta.get("uid", ""),
                }
            return json_response(200, errors.status_success(200, details), private=True)
        return json_response(200, obj, private=True)

    async def delete_collection(self) -> Response:
        opts, dry_run = options.delete_options(self.req)
        ctx = WriteContext(dry_run=dry_run)
        flt = self._filter()
        page = await listing.list_objects(self.store, self.resource, self.namespace, flt=flt)
        deleted: list[dict[str, Any]] = []
        for obj in page.items:
            meta = obj.get("metadata") or {}
            try:
                out, _ = await self.store.delete(
                    self.resource,
                    str(meta.get("namespace") or ""),
                    str(meta.get("name")),
                    ctx=ctx,
                    options=opts,
                )
            except errors.StatusError as exc:
                if exc.code == 404:
                    continue
                raise
            deleted.append(out)
        page.items = deleted
        return json_response(200, listing.list_body(self.resource, page), private=True)


def apply_patch(
    kind: str, patch_type: str, current: dict[str, Any], doc: Any, *, owned: bool = False
) -> dict[str, Any]:
    """Apply a JSON, merge or strategic-merge patch; patch errors become Status errors.

    ``owned``: ``current`` is the caller's to give away, so it is patched in place, not copied.
    """
    from kubeds.apiserver import patch as patching

    try:
        if patch_type == codec.JSON_PATCH:
            result = patching.json_patch(current, doc, owned=owned)
        elif patch_type == codec.MERGE:
            result = patching.json_merge_patch(current, doc, owned=owned)
        else:
            result = patching.strategic_merge_patch(current, doc, kind=kind, owned=owned)
    except patching.PatchError as exc:
        raise errors.StatusError(exc.code, exc.reason, exc.message) from None
    if not isinstance(result, dict):
        raise errors.StatusError(
            422,
            "Invalid",
            "the patched object is not a JSON object",
        )
    return result


def apply_conflict(exc: Any, resource: Resource) -> errors.StatusError:
    """409 Conflict with ``FieldManagerConflict`` causes, from ``apply.ApplyConflict``."""
    del resource
    causes = list(getattr(exc, "causes", []) or [])
    return errors.StatusError(409, "Conflict", str(exc.message), {"causes": causes} if causes else None)


def decode_patch(body: bytes, patch_type: str, *, strict: bool) -> Any:
    from kubeds.apiserver import patch as patching

    try:
        return patching.decode_patch_body(body, patch_type=patch_type, strict=strict)
    except patching.PatchError as exc:
        raise errors.StatusError(exc.code, exc.reason, exc.message) from None


def invalid_options(kind: str, errs: list[FieldError]) -> errors.StatusError:
    return errors.invalid("meta.k8s.io", kind, "", errs)
