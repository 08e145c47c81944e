"""Bodies recorded from the real kubectl: 1.33 sends protobuf, 1.31 sent JSON for the same command.

Each ``fixtures/kubectl-1.33-NAME.pb`` was captured from ``kubectl.1.33 create ...`` and the
matching ``kubectl-1.31-NAME.json`` from ``kubectl.1.31`` with the same arguments (both against
kubeds). Decoding the protobuf must give exactly the object the JSON body carried.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeds.apiserver import codec, errors
from kubeds.apiserver.protoschema import decode_object

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = sorted(p.name.removeprefix("kubectl-1.33-").removesuffix(".pb") for p in FIXTURES.glob("*.pb"))


def test_every_recorded_command_is_present() -> None:
    assert NAMES == [
        "configmap",
        "deployment-command-port",
        "deployment-replicas0",
        "namespace",
        "pdb",
        "priorityclass",
        "serviceaccount",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_protobuf_body_decodes_to_the_json_body(name: str) -> None:
    pb = (FIXTURES / f"kubectl-1.33-{name}.pb").read_bytes()
    want = json.loads((FIXTURES / f"kubectl-1.31-{name}.json").read_text())
    assert decode_object(pb) == want


def test_codec_accepts_protobuf_and_turns_errors_into_400() -> None:
    pb = (FIXTURES / "kubectl-1.33-deployment-replicas0.pb").read_bytes()
    obj = codec.decode_object(pb, "application/vnd.kubernetes.protobuf")
    assert obj["spec"]["replicas"] == 0
    with pytest.raises(errors.StatusError) as info:
        codec.decode_object(pb[:-3], "application/vnd.kubernetes.protobuf")
    status = info.value.status()
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
    assert status["message"].startswith("unable to decode protobuf body: ")
