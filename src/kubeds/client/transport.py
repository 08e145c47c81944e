"""How the API client reaches an API server: over HTTPS, or by calling the handler in-process.

The seam is one coroutine, ``Transport.request(Request) -> Response`` with the shapes of
:mod:`kubeds.wire`, the way httpx separates its client from ``AsyncBaseTransport`` and client-go its
``rest.Interface`` from the ``http.RoundTripper``. Two implementations:

* :class:`HttpTransport`: aiohttp with one pooled ``ClientSession`` (HTTP/1.1 keep-alive, bounded
  connection pool), TLS verified against the cluster CA from the kubeconfig, and either a client
  certificate or ``Authorization: Bearer <token>``. Like client-go's ``transport.New`` it only sends
  credentials over TLS: with an ``http://`` server the token is not attached. A watch request
  (``watch=true``) gets no overall timeout, and its body becomes ``Response.stream``, re-split so
  each chunk is one JSON document plus ``\\n`` whatever the HTTP chunking was.
* :class:`InProcessTransport`: calls the API server's ``handle(Request)`` directly, stamping the
  authenticated user, so single-process runs go through the same pipeline without sockets. A watch
  stream is handed over as the server made it: each chunk is the very ``bytes`` object the server
  shared among its watchers (never sliced or joined), which lets the client take the one shared
  decode of it (:data:`kubeds.wire.SHARED_LINES`).

Connection-level failures are raised as :class:`kubeds.client.errors.TransportError`; HTTP error
statuses are returned as responses and turned into exceptions by the API client.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

import aiohttp
import yarl

from kubeds import wire
from kubeds.client import errors

__all__ = ["DEFAULT_USER", "HttpTransport", "InProcessTransport", "Transport"]

DEFAULT_USER = "kubeds-admin"
DEFAULT_POOL_SIZE = 100
DEFAULT_TIMEOUT_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 10.0
READ_CHUNK = 64 * 1024

Handler = Callable[[wire.Request], Awaitable[wire.Response]]


class Transport(Protocol):
    """Sends one API request and returns the response (watch bodies as ``Response.stream``)."""

    async def request(self, req: wire.Request) -> wire.Response: ...

    async def close(self) -> None: ...


class InProcessTransport:
    """Calls the API server's handler directly, as ``user`` (already authenticated)."""

    def __init__(self, handler: Handler, *, user: str = DEFAULT_USER) -> None:
        self._handler = handler
        self._user = user

    async def request(self, req: wire.Request) -> wire.Response:
        headers = {k.lower(): v for k, v in req.headers.items()}
        # The constructor, not dataclasses.replace (which inspects the fields on every call).
        return await self._handler(
            wire.Request(req.method, req.path, req.query, headers, req.body, self._user)
        )

    async def close(self) -> None:
        return None


class HttpTransport:
    """HTTPS (or plain HTTP) to a remote API server through one pooled aiohttp session."""

    def __init__(
        self,
        server: str,
        *,
        ca_pem: bytes | None,
        token: str | None,
        client_cert_pem: bytes | None = None,
        client_key_pem: bytes | None = None,
        insecure_skip_tls_verify: bool = False,
        pool_size: int = DEFAULT_POOL_SIZE,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._base = yarl.URL(server.rstrip("/"))
        self._secure = self._base.scheme == "https"
        self._token = token if self._secure else None
        self._pool_size = pool_size
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, sock_connect=CONNECT_TIMEOUT_SECONDS)
        self._watch_timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_SECONDS)
        self._ssl: ssl.SSLContext | None = None
        if self._secure:
            self._ssl = _client_ssl_context(
                ca_pem=ca_pem,
                client_cert_pem=client_cert_pem,
                client_key_pem=client_key_pem,
                insecure=insecure_skip_tls_verify,
            )
        self._session: aiohttp.ClientSession | None = None

    @property
    def server(self) -> str:
        return str(self._base)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=self._ssl or False)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self._session

    async def request(self, req: wire.Request) -> wire.Response:
        session = self._get_session()
        headers = dict(req.headers)
        if self._token and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = f"Bearer {self._token}"
        params = [(name, value) for name, values in req.query.items() for value in values]
        url = self._base.with_path(self._base.path.rstrip("/") + req.path)
        watching = req.param("watch") in ("true", "1")
        try:
            resp = await session.request(
                req.method,
                url,
                params=params,
                headers=headers,
                data=req.body or None,
                timeout=self._watch_timeout if watching else self._timeout,
            )
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise errors.TransportError(f"{req.method} {url}: {exc}") from exc
        response_headers = {k.lower(): v for k, v in resp.headers.items()}
        if watching and resp.status == 200:
            return wire.Response(status=resp.status, headers=response_headers, stream=_WatchBody(resp))
        try:
            body = await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise errors.TransportError(f"{req.method} {url}: {exc}") from exc
        finally:
            resp.release()
        return wire.Response(status=resp.status, headers=response_headers, body=body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _WatchBody:
    """A watch response body as newline-terminated documents.

    A class rather than an async generator so that ``aclose()`` releases the connection even when
    iteration never started (an unstarted generator would skip its ``finally``).
    """

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self._resp = resp
        self._chunks = resp.content.iter_chunked(READ_CHUNK)
        self._buffer = b""
        self._lines: list[bytes] = []
        self._eof = False

    def __aiter__(self) -> _WatchBody:
        return self

    async def __anext__(self) -> bytes:
        while not self._lines:
            if self._eof:
                await self.aclose()
                raise StopAsyncIteration
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._eof = True
                if self._buffer.strip():
                    self._lines.append(self._buffer + b"\n")
                self._buffer = b""
                continue
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                await self.aclose()
                raise errors.TransportError(f"watch stream {self._resp.url}: {exc}") from exc
            self._buffer += chunk
            *complete, self._buffer = self._buffer.split(b"\n")
            self._lines.extend(line + b"\n" for line in complete if line.strip())
        return self._lines.pop(0)

    async def aclose(self) -> None:
        self._eof = True
        self._lines.clear()
        self._resp.close()


def _client_ssl_context(
    *,
    ca_pem: bytes | None,
    client_cert_pem: bytes | None,
    client_key_pem: bytes | None,
    insecure: bool,
) -> ssl.SSLContext:
    """Verify the server against ``ca_pem`` (system roots if absent) and present the client cert, if any."""
    if ca_pem:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=ca_pem.decode("ascii"))
    else:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert_pem and client_key_pem:
        _load_client_cert(context, client_cert_pem=client_cert_pem, client_key_pem=client_key_pem)
    return context


def _load_client_cert(context: ssl.SSLContext, *, client_cert_pem: bytes, client_key_pem: bytes) -> None:
    # ssl only loads key material from files: use a private temporary directory that is removed
    # as soon as OpenSSL has read it.
    with tempfile.TemporaryDirectory(prefix="kubeds-client-") as tmp:
        cert_path, key_path = Path(tmp) / "client.crt", Path(tmp) / "client.key"
        for path, data in ((cert_path, client_cert_pem), (key_path, client_key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        context.load_cert_chain(certfile=cert_path, keyfile=key_path)
