"""The UIDs the store gives new objects: RFC 4122 version 4 text, never repeated, fresh in a forked child."""

from __future__ import annotations

import os
import uuid

from kubeds.apiserver.store import new_uid


def test_uids_are_version_4_uuids_in_canonical_text() -> None:
    for _ in range(600):  # more than one 4 KiB chunk of randomness
        text = new_uid()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_uids_do_not_repeat() -> None:
    uids = [new_uid() for _ in range(10_000)]
    assert len(set(uids)) == len(uids)


def test_a_forked_child_does_not_hand_out_the_parents_next_uids() -> None:
    new_uid()  # the pool holds unread bytes now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next UIDs and leave at once
        os.close(read)
        os.write(write, ",".join(new_uid() for _ in range(3)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split(",")
    os.waitpid(pid, 0)
    parent = [new_uid() for _ in range(3)]
    assert len(child) == 3
    assert not set(child) & set(parent)
