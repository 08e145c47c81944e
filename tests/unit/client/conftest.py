"""Fixtures for the client tests: an aiohttp HTTPS server that authenticates with kubeds' PKI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from kubeds.apiserver import certs

Serve = Callable[[certs.Pki], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an aiohttp HTTPS server that answers with the authenticated user (or 401)."""
    runners: list[web.AppRunner] = []

    async def start(pki: certs.Pki) -> str:
        async def whoami(request: web.Request) -> web.StreamResponse:
            peer = request.transport.get_extra_info("peercert") if request.transport else None
            user = certs.authenticate(request.headers, peer, pki)
            if user is None:
                return web.json_response(
                    {"kind": "Status", "code": 401, "reason": "Unauthorized"}, status=401
                )
            if request.query.get("watch") == "true":
                resp = web.StreamResponse()
                await resp.prepare(request)
                # Split documents across writes so the client must re-assemble lines.
                await resp.write(b'{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MOD')
                await resp.write(b'IFIED","object":{"metadata":{"name":"' + user.encode() + b'"}}}\n')
                await resp.write_eof()
                return resp
            return web.json_response({"user": user, "path": request.path, "query": request.query_string})

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", whoami)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=certs.server_ssl_context(pki))
        await site.start()
        port = runner.addresses[0][1]
        return f"https://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()
