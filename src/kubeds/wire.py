"""The request and response shapes shared by the API server and the in-process client transport.

The API server's pipeline is one coroutine, ``handle(Request) -> Response``. The HTTP adapter
turns aiohttp requests into :class:`Request` and streams :class:`Response` back; the client's
in-process transport calls ``handle`` directly, so single-process and multi-process runs go
through the same validation, defaulting, admission and storage code, without sockets.

Header names are lower-case. ``query`` keeps repeated parameters as lists (``?a=1&a=2``).
A watch response has ``stream`` set (an async iterator of byte chunks, one JSON document plus
``\\n`` per event) and an empty ``body``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

__all__ = ["Request", "Response"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    user: str = ""  # set by authentication; empty means anonymous

    def param(self, name: str, default: str = "") -> str:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
