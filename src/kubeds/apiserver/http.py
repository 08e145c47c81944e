"""The aiohttp adapter: HTTP(S) in front of :meth:`APIServer.handle`.

Mirrors what ``k8s.io/apiserver/pkg/server`` does around the handler chain:

* authentication (``filters/authentication.go``) with :func:`kubeds.apiserver.certs.authenticate`
  (a verified client certificate or the bearer token); no or bad credentials are 401
  ``Unauthorized`` as a Status. Without a PKI (plain HTTP) every request is anonymous-allowed;
* the request-size limit (``maxRequestBodyBytes``, 3 MiB) is enforced from ``Content-Length``
  before reading, and while reading chunked bodies, so a huge body is never buffered;
* watch responses are streamed with chunked transfer encoding, each event flushed as written;
  the stream is closed when the client goes away;
* HTTP/1.1 keep-alive and concurrent requests come from aiohttp's low-level server.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from typing import Any

from aiohttp import web

from kubeds.apiserver import errors
from kubeds.apiserver.handler import APIServer
from kubeds.wire import Request, Response

__all__ = ["serve"]

log = logging.getLogger(__name__)
READ_CHUNK = 64 * 1024
STREAM_CONTENT_HEADERS = ("content-type",)


def _status(exc: errors.StatusError) -> web.Response:
    import orjson

    return web.Response(
        status=exc.code, body=bytes(orjson.dumps(exc.status())), headers={"Content-Type": "application/json"}
    )


async def _read_body(request: web.BaseRequest) -> bytes | None:
    """The body, or None when it exceeds the limit (then the rest is not read)."""
    limit = errors.MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _headers(request: web.BaseRequest) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in request.headers.items():
        k = key.lower()
        out[k] = f"{out[k]}, {value}" if k in out else value
    return out


def _peer_cert(request: web.BaseRequest) -> dict[str, Any] | None:
    transport = request.transport
    if transport is None:
        return None
    cert = transport.get_extra_info("peercert")
    return cert if isinstance(cert, dict) and cert else None


async def _write_stream(request: web.BaseRequest, resp: Response) -> web.StreamResponse:
    assert resp.stream is not None
    out = web.StreamResponse(status=resp.status)
    for key, value in resp.headers.items():
        if key.lower() != "transfer-encoding":
            out.headers[key] = value
    out.enable_chunked_encoding()
    stream = resp.stream
    try:
        await out.prepare(request)
        async for chunk in stream:
            await out.write(chunk)
        await out.write_eof()
    except (ConnectionResetError, ConnectionError):
        log.debug("watch client went away: %s", request.path)
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    return out


def make_handler(api: APIServer) -> Any:
    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        headers = _headers(request)
        user = ""
        if api.pki is not None:
            from kubeds.apiserver import certs

            authenticated = certs.authenticate(headers, _peer_cert(request), api.pki)
            if authenticated is None:
                return _status(errors.unauthorized())
            user = authenticated
        body = await _read_body(request)
        if body is None:
            return _status(errors.request_entity_too_large())
        query: dict[str, list[str]] = {}
        for key in request.query:
            if key not in query:
                query[key] = list(request.query.getall(key))
        req = Request(request.method, request.path, query, headers, body, user)
        resp = await api.handle(req)
        if resp.stream is not None:
            return await _write_stream(request, resp)
        return web.Response(status=resp.status, body=resp.body, headers=resp.headers)

    return handler


async def serve(
    api: APIServer, *, host: str, port: int, ssl_context: ssl.SSLContext | None
) -> tuple[web.ServerRunner, int]:
    """Start serving; returns the runner (``await runner.cleanup()`` stops it) and the bound port."""
    server = web.Server(make_handler(api))
    runner = web.ServerRunner(server, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    actual = port
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            actual = int(addr[1])
            break
    return runner, actual
