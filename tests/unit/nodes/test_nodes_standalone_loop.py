"""The standalone simulator runs on uvloop (a declared dependency): its steady load is HTTP client
work, which uvloop's sockets and TLS make about 10 % cheaper (docs/benchmarks.md, idle nodes)."""

from __future__ import annotations

import argparse
import asyncio

import pytest
import uvloop

from kubeds.nodes import standalone


def test_simulator_loop_is_uvloop() -> None:
    assert standalone._loop_factory() is uvloop.new_event_loop


def test_run_serves_on_that_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[type] = []

    async def fake_serve(args: argparse.Namespace) -> int:
        seen.append(type(asyncio.get_running_loop()))
        return 7

    monkeypatch.setattr(standalone, "serve", fake_serve)
    assert standalone.run(argparse.Namespace()) == 7
    assert seen == [uvloop.Loop]
