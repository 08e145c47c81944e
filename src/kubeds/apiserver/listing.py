"""LIST: selectors, resourceVersion semantics and ``limit``/``continue`` pagination.

Mirrors ``k8s.io/apiserver/pkg/storage/etcd3/store.go`` (``GetList``: a consistent read at one
revision, keys in order, fetching more pages while filtering until ``limit`` matching items are
found) and ``k8s.io/apiserver/pkg/storage/continue.go`` (the opaque continue token: URL-safe
base64 of ``{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key>\\u0000"}``), with the
resourceVersion rules of ``k8s.io/apiserver/pkg/storage/cacher``:

* ``resourceVersion`` unset: the current state, paginated;
* ``"0"``: any state (served "from the cache"): ``limit`` is ignored and no continue is returned;
* ``"N"`` with ``resourceVersionMatch=Exact`` (or unset with a ``limit``): the state at N, 410 when
  compacted; ``NotOlderThan`` (or unset without ``limit``): the current state.

Field selectors only accept the labels the kind's strategy lists; anything else is 400
``field label not supported: <label>`` (``pkg/apis/*/v1/conversion.go``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson

from kubeds.apiserver import errors
from kubeds.apiserver.registry import Strategy, strategy_for
from kubeds.apiserver.resources import Resource, storage_prefix
from kubeds.apiserver.store import Store
from kubeds.models.fields import FieldSelector, parse_field_selector
from kubeds.models.labels import LabelSelector, SelectorError, parse_selector
from kubeds.storage import errors as serr

__all__ = ["Filter", "ListPage", "build_filter", "decode_continue", "encode_continue", "list_objects"]

MSG_FIELD_LABEL = "field label not supported: {label}"
MSG_CONTINUE_INVALID = "continue key is not valid: {detail}"
MSG_CONTINUE_WITH_RV = "specifying resource version is not allowed when using continue"
MSG_CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)
MSG_RV_MATCH = 'resourceVersionMatch: Unsupported value: "{value}": supported values: "Exact", "NotOlderThan"'
MSG_RV_MATCH_NEEDS_RV = "resourceVersionMatch is forbidden unless resourceVersion is provided"
MSG_RV_MATCH_EXACT_ZERO = 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
MSG_BAD_RV = 'invalid resource version "{rv}"'
TOKEN_VERSION = "meta.k8s.io/v1"
PAGE = 500


@dataclass(frozen=True)
class Filter:
    strategy: Strategy
    labels: LabelSelector
    fields: FieldSelector

    @property
    def everything(self) -> bool:
        return self.labels.empty and self.fields.empty

    def matches(self, obj: dict[str, Any]) -> bool:
        if not self.labels.empty and not self.labels.matches((obj.get("metadata") or {}).get("labels") or {}):
            return False
        return self.fields.empty or self.fields.matches(self.strategy.field_set(obj))


def build_filter(resource: Resource, label_selector: str = "", field_selector: str = "") -> Filter:
    strategy = strategy_for(resource.kind)
    try:
        labels = parse_selector(label_selector)
        fields = parse_field_selector(field_selector)
    except SelectorError as exc:
        raise errors.bad_request(str(exc)) from None
    supported = set(strategy.field_labels)
    for label, _, _ in fields.requirements:
        if label not in supported:
            raise errors.bad_request(MSG_FIELD_LABEL.format(label=label))
    return Filter(strategy, labels, fields)


def encode_continue(revision: int, key_suffix: str) -> str:
    raw = orjson.dumps({"v": TOKEN_VERSION, "rv": revision, "start": key_suffix})
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise errors.bad_request(MSG_CONTINUE_INVALID.format(detail=exc)) from None
    if not isinstance(data, dict) or data.get("v") != TOKEN_VERSION:
        raise errors.bad_request(
            MSG_CONTINUE_INVALID.format(detail="server does not recognize this encoded key")
        )
    rv, start = data.get("rv"), data.get("start")
    if not isinstance(rv, int) or rv <= 0 or not isinstance(start, str):
        raise errors.bad_request(
            MSG_CONTINUE_INVALID.format(detail="incorrect encoded start resourceVersion")
        )
    if start.startswith("/") or ".." in start.split("/"):
        raise errors.bad_request(MSG_CONTINUE_INVALID.format(detail="path traversal attempt detected"))
    return rv, start


@dataclass
class ListPage:
    items: list[dict[str, Any]]
    revision: int
    continue_token: str = ""
    raw_items: list[bytes] | None = None  # set instead of ``items`` by ``list_objects(raw=True)``


def parse_rv(rv: str) -> int:
    try:
        value = int(rv)
    except ValueError:
        raise errors.bad_request(MSG_BAD_RV.format(rv=rv)) from None
    if value < 0:
        raise errors.bad_request(MSG_BAD_RV.format(rv=rv))
    return value


async def list_objects(
    store: Store,
    resource: Resource,
    namespace: str,
    *,
    flt: Filter,
    limit: int = 0,
    continue_token: str = "",
    resource_version: str = "",
    resource_version_match: str = "",
    raw: bool = False,
) -> ListPage:
    """One page of objects matching ``flt``.

    With ``raw=True`` and a filter that selects everything, items are returned as JSON bytes in
    ``raw_items`` (see :meth:`Store.list_item_bytes`) instead of decoded dicts.
    """
    prefix = storage_prefix(resource, namespace or None)
    start = prefix
    revision = 0
    expired_message = ""
    if resource_version_match and resource_version_match not in ("Exact", "NotOlderThan"):
        raise errors.bad_request(MSG_RV_MATCH.format(value=resource_version_match))
    if continue_token:
        if resource_version not in ("", "0"):
            raise errors.bad_request(MSG_CONTINUE_WITH_RV)
        revision, suffix = decode_continue(continue_token)
        start = prefix + suffix
        expired_message = MSG_CONTINUE_EXPIRED
    elif resource_version == "":
        if resource_version_match:
            raise errors.bad_request(MSG_RV_MATCH_NEEDS_RV)
    elif resource_version == "0":
        if resource_version_match == "Exact":
            raise errors.bad_request(MSG_RV_MATCH_EXACT_ZERO)
        limit = 0
    else:
        wanted = parse_rv(resource_version)
        exact = resource_version_match == "Exact" or (not resource_version_match and limit > 0)
        current = await store.backend.current_revision()
        if exact:
            revision = wanted
        elif wanted > current:
            raise errors.from_storage(
                serr.FutureRevision(wanted, current), group=resource.group, resource=resource.plural, name=""
            )
    items: list[dict[str, Any]] = []
    raw_items: list[bytes] | None = [] if raw and flt.everything else None
    count = 0
    next_key = ""
    while True:
        try:
            batch = await store.backend.list(prefix, revision=revision, start=start, limit=PAGE)
        except serr.Compacted as exc:
            if expired_message:
                raise errors.expired(expired_message) from None
            raise errors.from_storage(exc, group=resource.group, resource=resource.plural, name="") from None
        except serr.StorageError as exc:
            raise errors.from_storage(exc, group=resource.group, resource=resource.plural, name="") from None
        revision = batch.revision
        for i, kv in enumerate(batch.kvs):
            if raw_items is not None:
                raw_items.append(store.list_item_bytes(kv))
            else:
                obj = store.decode(kv)
                if not flt.matches(obj):
                    continue
                items.append(obj)
            count += 1
            if limit and count >= limit:
                if i + 1 < len(batch.kvs) or batch.more:
                    next_key = kv.key
                break
        if (limit and count >= limit) or not batch.more or not batch.kvs:
            break
        start = batch.kvs[-1].key + "\x00"
    token = encode_continue(revision, next_key[len(prefix) :] + "\x00") if next_key else ""
    return ListPage(items, revision, token, raw_items)


def list_body_bytes(resource: Resource, page: ListPage) -> bytes:
    """The ``<Kind>List`` JSON for a page listed with ``raw=True``."""
    meta: dict[str, Any] = {"resourceVersion": str(page.revision)}
    if page.continue_token:
        meta["continue"] = page.continue_token
    head = orjson.dumps({"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": meta})
    return head[:-1] + b',"items":[' + b",".join(page.raw_items or ()) + b"]}"


def list_body(resource: Resource, page: ListPage) -> dict[str, Any]:
    """The ``<Kind>List`` object; items carry no kind/apiVersion, as upstream serialises typed lists."""
    meta: dict[str, Any] = {"resourceVersion": str(page.revision)}
    if page.continue_token:
        meta["continue"] = page.continue_token
    items = []
    for obj in page.items:
        item = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
        items.append(item)
    return {"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": meta, "items": items}
