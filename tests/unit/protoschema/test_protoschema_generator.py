"""scripts/gen_proto_schema.py: the .proto parser, the Go struct-tag reader and the committed output."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from kubeds.apiserver import resources
from kubeds.apiserver.protoschema import load_schema

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "gen_proto_schema.py"
SCHEMA_JSON = (
    Path(__file__).resolve().parents[3] / "src" / "kubeds" / "apiserver" / "protoschema" / "schema.json"
)


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_proto_schema", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_proto_schema"] = module
    spec.loader.exec_module(module)
    return module


PROTO = """
// header comment
syntax = "proto2";
package k8s.io.api.demo.v1;
import "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto";
option go_package = "k8s.io/api/demo/v1";
/* a block
   comment with message Fake { } inside */
message Widget {
  // metadata, with a "quoted" word
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated Part parts = 2;
  map<string, .k8s.io.apimachinery.pkg.api.resource.Quantity> limits = 3;
  optional int32 count = 4;
  message Inner {
    optional Part part = 1;
  }
  optional Inner inner = 5;
}
message Part {
  optional string name = 1;
  map<string, bytes> blobs = 2;
}
"""


def test_parse_proto(gen: ModuleType) -> None:
    package, messages = gen.parse_proto(PROTO)
    assert package == "k8s.io.api.demo.v1"
    assert sorted(messages) == [
        "k8s.io.api.demo.v1.Part",
        "k8s.io.api.demo.v1.Widget",
        "k8s.io.api.demo.v1.Widget.Inner",
    ]
    widget = {f.number: (f.name, f.type, f.label) for f in messages["k8s.io.api.demo.v1.Widget"]}
    assert widget == {
        1: ("metadata", "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta", ""),
        2: ("parts", "k8s.io.api.demo.v1.Part", "repeated"),
        3: ("limits", ("string", "k8s.io.apimachinery.pkg.api.resource.Quantity"), "map"),
        4: ("count", "int32", ""),
        5: ("inner", "k8s.io.api.demo.v1.Widget.Inner", ""),
    }
    (inner,) = messages["k8s.io.api.demo.v1.Widget.Inner"]
    assert inner.type == "k8s.io.api.demo.v1.Part"  # resolved outward from the nested scope


GO = """
type Widget struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Replicas *int32 `json:"replicas,omitempty" protobuf:"varint,2,opt,name=replicas"`
	Paused bool `json:"paused,omitempty" protobuf:"varint,3,opt,name=paused"`
	Value int32 `json:"value" protobuf:"varint,4,opt,name=value"`
	VolumeSource `json:"" protobuf:"bytes,5,opt,name=volumeSource"`
	ProbeHandler `json:",inline" protobuf:"bytes,6,opt,name=handler"`
	Secret string `json:"-" protobuf:"bytes,7,opt,name=secret"`
	// Old *string `json:"old,omitempty" protobuf:"bytes,8,opt,name=old"`
	Raw []byte `protobuf:"bytes,9,opt,name=raw"`
	NotProto string `json:"notProto"`
}

type Other struct {
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
}
"""


def test_parse_go_structs(gen: ModuleType) -> None:
    structs = gen.parse_go_structs(GO)
    widget = {n: (f.json_name, f.flags) for n, f in structs["Widget"].items()}
    assert widget == {
        1: ("metadata", "o"),
        2: ("replicas", "p"),
        3: ("paused", "o"),
        4: ("value", ""),
        5: ("", "i"),
        6: ("", "i"),
        7: ("-", "-"),
        9: ("Raw", ""),
    }
    assert {n: f.json_name for n, f in structs["Other"].items()} == {1: "name"}


def test_roots_cover_every_served_kind(gen: ModuleType) -> None:
    roots = gen.root_messages()
    for res in resources.RESOURCES:
        assert roots[f"{res.api_version}/{res.kind}"].endswith(f".{res.version}.{res.kind}")
    assert roots["autoscaling/v1/Scale"] == "k8s.io.api.autoscaling.v1.Scale"
    assert roots["policy/v1/Eviction"] == "k8s.io.api.policy.v1.Eviction"
    assert roots["v1/Binding"] == "k8s.io.api.core.v1.Binding"
    assert roots["coordination.k8s.io/v1/Lease"] == "k8s.io.api.coordination.v1.Lease"


def test_committed_schema_covers_the_served_kinds() -> None:
    schema = load_schema()
    for res in resources.RESOURCES:
        name = schema.message_for(res.api_version, res.kind)
        assert name is not None and name in schema.messages, res.kind
    # every referenced message type is present (or is a well-known type with its own decoder)
    from kubeds.apiserver.protoschema.wellknown import SPECIAL_TYPES

    for specs in schema.messages.values():
        for spec in specs.values():
            if "." in spec.type:
                assert spec.type in schema.messages or spec.type in SPECIAL_TYPES, spec.type


def test_committed_schema_is_what_the_generator_writes(gen: ModuleType, tmp_path: Path) -> None:
    committed = json.loads(SCHEMA_JSON.read_text())
    api, machinery = gen.DEFAULT_API, gen.DEFAULT_APIMACHINERY
    if not (api.exists() and machinery.exists()):
        pytest.skip("upstream mirrors are not on this machine")
    if (gen.git_head(api), gen.git_head(machinery)) != (
        committed["source"]["kubernetes/api"],
        committed["source"]["kubernetes/apimachinery"],
    ):
        pytest.skip("the mirrors are at other commits than the committed schema")
    out = tmp_path / "schema.json"
    assert gen.main(["--out", str(out)]) == 0
    assert out.read_text() == SCHEMA_JSON.read_text()
