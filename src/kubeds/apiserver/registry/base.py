"""The per-kind strategy hooks of the generic registry.

Mirrors the ``rest.RESTCreateStrategy`` / ``RESTUpdateStrategy`` / ``RESTGracefulDeleteStrategy``
interfaces of ``k8s.io/apiserver/pkg/registry/rest`` and the strategies under
``pkg/registry/<group>/<kind>/strategy.go``. A :class:`Strategy` says, for one kind:

* how ``PrepareForCreate`` resets fields users may not set (usually ``status``) and whether the
  kind tracks ``metadata.generation`` (set to 1 on create, bumped when the spec changes);
* how ``PrepareForUpdate`` keeps ``status`` on the main resource, and how the ``/status``
  subresource keeps everything *but* ``status`` (``metav1.ResetObjectMetaForStatus``);
* which field labels a field selector may use (``<kind>ToSelectableFields`` plus the
  conversion functions registered in ``pkg/apis/<group>/v1/conversion.go``);
* the graceful-deletion period (only pods have one).

Subclasses override the small hooks; everything is plain dict manipulation.

Ownership on update: ``old`` is the store's private decode of the stored object, which it only
reads afterwards (validation, the no-op test) and then drops, so the update hooks take what they
keep from it by reference instead of copying it (``status`` on the main resource, everything but
``status`` through ``/status``). ``metadata`` is the exception: the store and the hooks write into
the new object's metadata afterwards, so it gets a shallow copy of its own. After the hooks,
nothing may write below the top level of ``new`` or of its metadata.
"""

from __future__ import annotations

from typing import Any

__all__ = ["META_FIELDS", "Strategy", "field_str", "nested_str"]

META_FIELDS = ("metadata.name", "metadata.namespace")


def field_str(value: Any) -> str:
    """A value rendered as a field-selector string (``""`` for None, ``true``/``false`` for booleans)."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return value if type(value) is str else str(value)


def nested_str(obj: dict[str, Any], *path: str) -> str:
    """The value at ``path`` rendered as a field-selector string (``""`` when absent)."""
    cur: Any = obj
    for p in path:
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
    return field_str(cur)


class Strategy:
    """Default behaviour: no status subresource, no generation, metadata field labels only."""

    kind: str = ""
    has_status: bool = False  # the kind has a /status subresource: main writes keep status
    tracks_generation: bool = False
    extra_field_labels: tuple[str, ...] = ()
    return_deleted_object: bool = False

    # ---- create -----------------------------------------------------------------------------
    def initial_status(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The status a new object starts with; ``None`` keeps whatever the client sent."""
        return {} if self.has_status else None

    def prepare_for_create(self, obj: dict[str, Any]) -> None:
        status = self.initial_status(obj)
        if status is not None:
            if status:
                obj["status"] = status
            else:
                obj.pop("status", None)
        meta = obj.setdefault("metadata", {})
        if self.tracks_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)

    # ---- update -----------------------------------------------------------------------------
    def spec_of(self, obj: dict[str, Any]) -> dict[str, Any]:
        """What counts as the spec for generation purposes: everything but metadata and status."""
        return {k: v for k, v in obj.items() if k not in ("metadata", "status", "kind", "apiVersion")}

    def spec_changed(self, new: dict[str, Any], old: dict[str, Any]) -> bool:
        return self.spec_of(new) != self.spec_of(old)

    def prepare_for_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        if self.has_status:
            if "status" in old:
                new["status"] = old["status"]  # shared: see "Ownership on update" above
            else:
                new.pop("status", None)
        meta = new.setdefault("metadata", {})
        old_gen = old.get("metadata", {}).get("generation")
        if self.tracks_generation:
            gen = int(old_gen or 1)
            meta["generation"] = gen + 1 if self.spec_changed(new, old) else gen
        elif old_gen is not None:
            meta["generation"] = old_gen
        else:
            meta.pop("generation", None)

    def prepare_for_status_update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        """Only ``status`` changes through /status (``ResetObjectMetaForStatus`` + spec from old).

        ``new`` takes ``old``'s sections by reference and a shallow copy of its metadata (see
        "Ownership on update" above).
        """
        status = new.get("status")
        new.clear()
        new.update(old)
        old_meta = old.get("metadata")
        if isinstance(old_meta, dict):
            new["metadata"] = dict(old_meta)
        if status is None:
            new.pop("status", None)
        else:
            new["status"] = status

    # ---- selectors --------------------------------------------------------------------------
    @property
    def field_labels(self) -> tuple[str, ...]:
        return META_FIELDS + self.extra_field_labels

    def field_set(self, obj: dict[str, Any]) -> dict[str, str]:
        meta = obj.get("metadata", {})
        fields = {
            "metadata.name": str(meta.get("name", "")),
            "metadata.namespace": str(meta.get("namespace", "")),
        }
        fields.update(self.extra_fields(obj))
        return fields

    def extra_fields(self, obj: dict[str, Any]) -> dict[str, str]:
        return {label: nested_str(obj, *parts) for label, parts in self._label_parts()}

    def _label_parts(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        # Split once per strategy class: field sets are computed for every watch event.
        cls = type(self)
        parts: tuple[tuple[str, tuple[str, ...]], ...] | None = cls.__dict__.get("_split_labels")
        if parts is None:
            parts = tuple((label, tuple(label.split("."))) for label in cls.extra_field_labels)
            cls._split_labels = parts  # type: ignore[attr-defined]
        return parts

    # ---- delete -----------------------------------------------------------------------------
    def grace_period(self, obj: dict[str, Any], requested: int | None) -> int:
        """Seconds of graceful deletion (0: delete at once). Only pods are graceful upstream."""
        del obj, requested
        return 0
