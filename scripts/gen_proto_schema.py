"""Generate ``src/kubeds/apiserver/protoschema/schema.json``: the protobuf layout of every served kind.

Inputs are bare git mirrors of upstream ``kubernetes/api`` and ``kubernetes/apimachinery`` (read
with ``git show HEAD:<path>``; nothing upstream is copied into this repository):

* the ``generated.proto`` files written by upstream's ``go-to-protobuf``
  (``k8s.io/code-generator/cmd/go-to-protobuf``) give message names, field numbers and types;
* the Go structs of the same packages (``types.go`` and friends) give what the proto files do not
  say: each field's JSON name (the ``json:"..."`` tag, matched to the proto field by the number in
  the ``protobuf:"..."`` tag), whether JSON inlines it (embedded structs such as
  ``Volume.VolumeSource`` or ``Probe.ProbeHandler``), whether it is hidden from JSON (``json:"-"``),
  and whether a scalar is a plain value with ``omitempty`` (the decoder then drops its zero value,
  as ``encoding/json`` does) or a pointer (presence on the wire is kept, so ``replicas: 0`` stays).

The walk starts from every kind in :data:`kubeds.apiserver.resources.RESOURCES`, their subresource
kinds (Binding, Eviction, Scale) and ``meta.v1.DeleteOptions``, and stops at the well-known types
that have their own JSON form (:data:`kubeds.apiserver.protoschema.wellknown.SPECIAL_TYPES`).

Output (compact JSON)::

    {"source": {...commits...},
     "kinds": {"apps/v1/Deployment": "k8s.io.api.apps.v1.Deployment", ...},
     "messages": {"k8s.io.api.apps.v1.DeploymentSpec": [[1, "replicas", "int32", "", "p"], ...]}}

Each field is ``[number, jsonName, type, label, flags]``: ``type`` is a proto scalar name or a
message full name (for ``label == "map"`` it is ``[keyType, valueType]``); ``label`` is ``""``,
``"repeated"`` or ``"map"``; ``flags`` holds ``p`` (Go pointer: keep presence), ``o`` (value with
``omitempty``: drop the zero value), ``i`` (inline into the parent), ``-`` (not in JSON).

Run: ``.venv/bin/python scripts/gen_proto_schema.py [--api GITDIR] [--apimachinery GITDIR]``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kubeds.apiserver import resources  # noqa: E402
from kubeds.apiserver.protoschema.wellknown import SPECIAL_TYPES  # noqa: E402

OUT = ROOT / "src" / "kubeds" / "apiserver" / "protoschema" / "schema.json"
DEFAULT_API = Path("/work/.mirror/kubernetes+api/repo")
DEFAULT_APIMACHINERY = Path("/work/.mirror/kubernetes+apimachinery/repo")

API_PACKAGE = "k8s.io.api."
APIMACHINERY_PACKAGE = "k8s.io.apimachinery."
META_V1 = "k8s.io.apimachinery.pkg.apis.meta.v1"
EXTRA_ROOTS = (f"{META_V1}.DeleteOptions",)

SCALARS = frozenset(
    {
        "double",
        "float",
        "int32",
        "int64",
        "uint32",
        "uint64",
        "sint32",
        "sint64",
        "fixed32",
        "fixed64",
        "sfixed32",
        "sfixed64",
        "bool",
        "string",
        "bytes",
    }
)

_COMMENT_LINE = re.compile(r"//[^\n]*")
_COMMENT_BLOCK = re.compile(r"/\*.*?\*/", re.S)
_TOKEN = re.compile(r"[A-Za-z_.][\w.]*|\d+|\"[^\"]*\"|[{}<>;=,\[\]()]")
_GO_STRUCT = re.compile(r"^type (\w+) struct \{\s*$")
_GO_FIELD = re.compile(r"^\s*([\w.*\[\]]+)(?:\s+([\w.*\[\]]+))?\s+`([^`]*)`")
_GO_TAG = re.compile(r'(\w+):"([^"]*)"')


@dataclass
class ProtoField:
    number: int
    name: str
    type: str | tuple[str, str]
    label: str  # "", "repeated" or "map"


@dataclass
class GoField:
    json_name: str
    flags: str


@dataclass
class Universe:
    messages: dict[str, list[ProtoField]] = field(default_factory=dict)
    go_fields: dict[str, dict[int, GoField]] = field(default_factory=dict)  # message name -> number -> info


# ---------------------------------------------------------------------------------------------
# Reading the mirrors


def git_show(git_dir: Path, path: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], check=True, capture_output=True, text=True
    ).stdout


def git_ls(git_dir: Path, folder: str) -> list[str]:
    out = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "--name-only", "HEAD", f"{folder}/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()


def git_head(git_dir: Path) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def package_location(package: str, api: Path, apimachinery: Path) -> tuple[Path, str]:
    """``k8s.io.api.core.v1`` -> (api mirror, ``core/v1``); apimachinery likewise."""
    if package.startswith(API_PACKAGE):
        return api, package[len(API_PACKAGE) :].replace(".", "/")
    if package.startswith(APIMACHINERY_PACKAGE):
        return apimachinery, package[len(APIMACHINERY_PACKAGE) :].replace(".", "/")
    raise SystemExit(f"unknown proto package {package}")


# ---------------------------------------------------------------------------------------------
# A small .proto parser (enough for go-to-protobuf output)


def parse_proto(text: str) -> tuple[str, dict[str, list[ProtoField]]]:
    """Return ``(package, {full message name: fields})``; nested messages are supported."""
    text = _COMMENT_BLOCK.sub(" ", _COMMENT_LINE.sub(" ", text))
    tokens = _TOKEN.findall(text)
    package = ""
    messages: dict[str, list[ProtoField]] = {}
    scope: list[str] = []
    pending_types: list[tuple[str, ProtoField]] = []  # (scope prefix, field) resolved after parsing
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "package":
            package = tokens[i + 1]
            i += 3
        elif tok in ("syntax", "import", "option"):
            while tokens[i] != ";":
                i += 1
            i += 1
        elif tok == "message":
            scope.append(tokens[i + 1])
            messages[".".join([package, *scope])] = []
            i += 3
        elif tok == "}":
            scope.pop()
            i += 1
        elif tok in ("optional", "repeated", "required") or tok == "map":
            owner = ".".join([package, *scope])
            if tok == "map":  # map < K , V > name = N ;
                key, value, name, number = tokens[i + 2], tokens[i + 4], tokens[i + 6], int(tokens[i + 8])
                pf = ProtoField(number, name, (key, value), "map")
                i += 10
            else:
                ftype, name, number = tokens[i + 1], tokens[i + 2], int(tokens[i + 4])
                pf = ProtoField(number, name, ftype, "repeated" if tok == "repeated" else "")
                i += 6
            messages[owner].append(pf)
            pending_types.append((owner, pf))
        else:
            raise SystemExit(f"unexpected token {tok!r} in package {package}")
    for owner, pf in pending_types:
        if isinstance(pf.type, tuple):
            pf.type = (resolve(pf.type[0], owner, messages), resolve(pf.type[1], owner, messages))
        else:
            pf.type = resolve(pf.type, owner, messages)
    return package, messages


def resolve(name: str, owner: str, local: dict[str, list[ProtoField]]) -> str:
    """Scalars stay; ``.a.b.C`` is absolute; otherwise search outward from the owner's scope."""
    if name in SCALARS:
        return name
    if name.startswith("."):
        return name[1:]
    parts = owner.split(".")
    while parts:
        candidate = ".".join([*parts, name])
        if candidate in local:
            return candidate
        parts.pop()
    raise SystemExit(f"cannot resolve type {name} in {owner}")


# ---------------------------------------------------------------------------------------------
# Go struct tags


def parse_go_structs(text: str) -> dict[str, dict[int, GoField]]:
    """Struct name -> proto field number -> JSON name and flags, from the struct tags."""
    out: dict[str, dict[int, GoField]] = {}
    current: dict[int, GoField] | None = None
    for line in text.splitlines():
        m = _GO_STRUCT.match(line)
        if m:
            current = out.setdefault(m.group(1), {})
            continue
        if line.startswith("}"):
            current = None
            continue
        if current is None or line.lstrip().startswith("//"):
            continue
        fm = _GO_FIELD.match(line)
        if not fm:
            continue
        tags = dict(_GO_TAG.findall(fm.group(3)))
        proto_tag = tags.get("protobuf")
        if not proto_tag or proto_tag == "-":
            continue
        number = int(proto_tag.split(",")[1])
        embedded = fm.group(2) is None
        go_type = fm.group(1) if embedded else fm.group(2)
        assert go_type is not None
        json_tag = tags.get("json")
        json_name, _, options = (json_tag or "").partition(",")
        flags = ""
        if json_name == "-":
            flags += "-"
        elif json_tag is None and not embedded:
            json_name = fm.group(1)  # encoding/json uses the Go field name
        elif not json_name and (embedded or "inline" in options):
            flags += "i"
        if go_type.startswith("*"):
            flags += "p"
        elif "omitempty" in options.split(","):
            flags += "o"
        current[number] = GoField(json_name, flags)
    return out


# ---------------------------------------------------------------------------------------------
# Loading and walking


def load_package(universe: Universe, package: str, api: Path, apimachinery: Path, seen: set[str]) -> None:
    if package in seen:
        return
    seen.add(package)
    git_dir, folder = package_location(package, api, apimachinery)
    text = git_show(git_dir, f"{folder}/generated.proto")
    parsed_package, messages = parse_proto(text)
    assert parsed_package == package, (parsed_package, package)
    universe.messages.update(messages)
    structs: dict[str, dict[int, GoField]] = {}
    for name in git_ls(git_dir, folder):
        if name.endswith(".go") and not name.endswith("_test.go") and "generated" not in name:
            structs.update(parse_go_structs(git_show(git_dir, name)))
    for full in messages:
        short = full[len(package) + 1 :]
        if short in structs:
            universe.go_fields[full] = structs[short]


def root_messages() -> dict[str, str]:
    """``apiVersion/kind`` -> message name for every served kind and subresource kind."""
    kinds: dict[str, str] = {}
    for res in resources.RESOURCES:
        pairs = [(res.group, res.version, res.kind)]
        for sub in res.subresources:
            pairs.append(
                (sub.group if sub.group is not None else res.group, sub.version or res.version, sub.kind)
            )
        for group, version, kind in pairs:
            short_group = group.split(".")[0] if group else "core"
            api_version = f"{group}/{version}" if group else version
            kinds[f"{api_version}/{kind}"] = f"{API_PACKAGE}{short_group}.{version}.{kind}"
    return kinds


def build(api: Path, apimachinery: Path) -> dict[str, object]:
    universe = Universe()
    seen_packages: set[str] = set()
    kinds = root_messages()
    out_messages: dict[str, list[list[object]]] = {}
    todo = [*kinds.values(), *EXTRA_ROOTS]
    while todo:
        name = todo.pop()
        if name in out_messages or name in SPECIAL_TYPES:
            continue
        load_package(universe, name.rsplit(".", 1)[0], api, apimachinery, seen_packages)
        if name not in universe.messages:
            raise SystemExit(f"message {name} not found")
        go = universe.go_fields.get(name, {})
        rows: list[list[object]] = []
        for pf in sorted(universe.messages[name], key=lambda f: f.number):
            info = go.get(pf.number, GoField(pf.name, ""))
            rows.append(
                [
                    pf.number,
                    info.json_name,
                    list(pf.type) if isinstance(pf.type, tuple) else pf.type,
                    pf.label,
                    info.flags,
                ]
            )
            for t in pf.type if isinstance(pf.type, tuple) else (pf.type,):
                if t not in SCALARS:
                    todo.append(t)
        out_messages[name] = rows
    return {
        "source": {
            "kubernetes/api": git_head(api),
            "kubernetes/apimachinery": git_head(apimachinery),
        },
        "kinds": dict(sorted(kinds.items())),
        "messages": dict(sorted(out_messages.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", type=Path, default=DEFAULT_API, help="bare git dir of kubernetes/api")
    parser.add_argument(
        "--apimachinery",
        type=Path,
        default=DEFAULT_APIMACHINERY,
        help="bare git dir of kubernetes/apimachinery",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    doc = build(args.api, args.apimachinery)
    text = json.dumps(doc, separators=(",", ":"))
    # one message per line keeps diffs of the committed file readable
    text = text.replace('],"k8s.io', '],\n"k8s.io').replace('"messages":{', '"messages":{\n')
    args.out.write_text(text + "\n")
    print(f"wrote {args.out}: {len(doc['messages'])} messages, {len(doc['kinds'])} kinds")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
