from __future__ import annotations

import pytest

from kubeds.apiserver.apply.fieldpath import from_fields_v1, path_string, to_fields_v1

# Rendering of paths in messages, as structured-merge-diff fieldpath.PathElement.String()
# (cases in the spirit of fieldpath/path_test.go TestPathString).
PATH_STRINGS = [
    (("f:spec", "f:replicas"), ".spec.replicas"),
    (
        ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"kube-proxy"}', "f:image"),
        '.spec.template.spec.containers[name="kube-proxy"].image',
    ),
    (
        ("f:spec", "f:containers", 'k:{"containerPort":80,"protocol":"TCP"}'),
        '.spec.containers[containerPort=80,protocol="TCP"]',
    ),
    (("f:metadata", "f:finalizers", 'v:"foregroundDeletion"'), '.metadata.finalizers[="foregroundDeletion"]'),
    (("f:spec", "f:podCIDRs", 'v:"10.0.0.0/24"'), '.spec.podCIDRs[="10.0.0.0/24"]'),
    (("f:list", "i:3"), ".list[3]"),
    (("f:metadata", "f:labels", "f:app.kubernetes.io/name"), ".metadata.labels.app.kubernetes.io/name"),
]


@pytest.mark.parametrize(("path", "expected"), PATH_STRINGS)
def test_path_string(path: tuple[str, ...], expected: str) -> None:
    assert path_string(path) == expected


def test_fields_v1_marks_members_with_children_and_orders_like_upstream() -> None:
    paths = {
        ("f:spec", "f:containers", 'k:{"name":"b"}'),
        ("f:spec", "f:containers", 'k:{"name":"b"}', "f:name"),
        ("f:spec", "f:containers", 'k:{"name":"a"}'),
        ("f:spec", "f:containers", 'k:{"name":"a"}', "f:name"),
        ("f:spec", "f:containers", 'k:{"name":"a"}', "f:image"),
        ("f:metadata", "f:labels", "f:x"),
        ("f:spec", "f:hostNetwork"),
    }
    tree = to_fields_v1(paths)
    assert tree == {
        "f:metadata": {"f:labels": {"f:x": {}}},
        "f:spec": {
            "f:containers": {
                'k:{"name":"a"}': {".": {}, "f:image": {}, "f:name": {}},
                'k:{"name":"b"}': {".": {}, "f:name": {}},
            },
            "f:hostNetwork": {},
        },
    }
    # Field elements sort before key elements; "." comes first.
    assert list(tree["f:spec"]) == ["f:containers", "f:hostNetwork"]
    assert list(tree["f:spec"]["f:containers"]['k:{"name":"a"}']) == [".", "f:image", "f:name"]
    assert from_fields_v1(tree) == paths


@pytest.mark.parametrize("bad", [{"f:spec": []}, {"x:spec": {}}, {"f:spec": {"f:a": "nope"}}])
def test_from_fields_v1_rejects_malformed(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        from_fields_v1(bad)
