"""The request and response shapes shared by the API server and the in-process client transport,
and the memo that lets in-process watchers share one decode of each watch event.

The API server's pipeline is one coroutine, ``handle(Request) -> Response``. The HTTP adapter
turns aiohttp requests into :class:`Request` and streams :class:`Response` back; the client's
in-process transport calls ``handle`` directly, so single-process and multi-process runs go
through the same validation, defaulting, admission and storage code, without sockets.

Header names are lower-case. ``query`` keeps repeated parameters as lists (``?a=1&a=2``).
A watch response has ``stream`` set (an async iterator of byte chunks, one JSON document plus
``\\n`` per event) and an empty ``body``.

A JSON response may carry its object instead of bytes (``Response(status, headers, obj=...)``) when
the server made that object for this response alone (nothing on the server keeps a reference):
``body`` then encodes it on first read (the HTTP adapter), and the in-process client takes the
object itself (:meth:`Response.take_object`), so a request made in one process pays neither the
encode nor the decode. What the client gets is what decoding ``body`` would give:
:data:`VERIFY_SHARED_OBJECTS` checks that the object survives a JSON round trip unchanged.

Shared watch events (:class:`SharedLines`, one per process: :data:`SHARED_LINES`). The API server
builds each watch event's line once and hands the same ``bytes`` object to every watcher
(``apiserver/watch.py`` ``SharedEvents``); in one process the in-process transport passes that very
object to each client. The server registers each such line here; the client's decode path, given a
chunk that *is* a registered line (identity, not equality), decodes it once and every later watcher
gets the same event dict. This is upstream's watch cache idea carried one step further
(``staging/src/k8s.io/apiserver/pkg/storage/cacher/caching_object.go`` serialises once per encoding;
client-go's shared informers hand every handler the same object). The memo is an identity-keyed ring
of the most recent :data:`SHARED_EVENT_LINES` lines: each entry holds its line, so an ``id`` is never
reused while remembered; a watcher lagging further behind, or an HTTP client (whose chunks are fresh
objects), just decodes its own copy. Nothing here is tracked by time, so memory is bounded whatever
the watchers do.

Shared events are read-only by contract, as client-go requires of informer objects
(``tools/cache/shared_informer.go``: "must be treated as read-only"). :data:`VERIFY_SHARED_OBJECTS`
(off by default; tests switch it on, or :data:`VERIFY_ENV` ``=1`` in the environment) makes the memo keep a digest of every shared event (its JSON
with sorted keys) and compare it when the entry leaves the ring, at interpreter exit and on demand
(:meth:`SharedLines.check`): a mutation is logged as an error and raised as
:class:`SharedObjectMutated` by :meth:`~SharedLines.check`.
"""

from __future__ import annotations

import atexit
import collections
import copy
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "SHARED_EVENT_LINES",
    "SHARED_LINES",
    "VERIFY_ENV",
    "Request",
    "Response",
    "SharedLines",
    "SharedObjectMutated",
    "clone_json",
]

log = logging.getLogger(__name__)


def clone_json(obj: Any) -> Any:
    """A deep copy of a JSON-shaped value (what informer caches and events hold): an orjson round
    trip, several times faster than ``copy.deepcopy``."""
    try:
        return orjson.loads(orjson.dumps(obj))
    except TypeError:  # not JSON-shaped after all (a tuple, a big int...): the slow general copy
        return copy.deepcopy(obj)


#: Watch event lines remembered with their decoded event (a ring: the oldest is forgotten first). The
#: in-process watchers of a resource take each committed batch in turn, so a few batches' worth is
#: enough (a 1,000-node DaemonSet rollout shares as much with 256 as with 2,048); every decoded event
#: it holds lives longer than its watchers need, which costs the cyclic GC.
SHARED_EVENT_LINES = 512
#: Environment variable that turns verification on in a process (e.g. a ``kubeds up`` started by tests).
VERIFY_ENV = "KUBEDS_VERIFY_SHARED_OBJECTS"
#: When true, shared events are digested and re-checked for in-place mutation (tests turn it on).
VERIFY_SHARED_OBJECTS = os.environ.get(VERIFY_ENV, "") not in ("", "0")
MSG_MUTATED = (
    "a shared watch event was mutated in place (objects from watches and informers are read-only): {event}"
)
MAX_REPORTED = 20


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


class Response:
    """One response: ``status``, lower-case ``headers``, and ``body`` bytes, ``stream`` or ``obj``.

    ``obj`` is a JSON-shaped value made for this response alone; ``body`` is its JSON, encoded when
    first read. :meth:`take_object` hands the value itself to the one receiver instead.
    """

    __slots__ = ("_body", "_obj", "headers", "status", "stream")

    def __init__(
        self,
        status: int,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        stream: AsyncIterator[bytes] | None = None,
        *,
        obj: Any = None,
    ) -> None:
        self.status = status
        self.headers = {} if headers is None else headers
        self.stream = stream
        self._obj = obj
        self._body: bytes | None = None if obj is not None else body

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = bytes(orjson.dumps(self._obj))
        return self._body

    @body.setter
    def body(self, value: bytes) -> None:
        self._body = value
        self._obj = None

    def take_object(self) -> Any:
        """The response's own object (None when it has none, or its body was already encoded).

        The caller owns what it gets and may change it: read ``body`` before, not after.
        """
        obj = self._obj
        if obj is None or self._body is not None:
            return None
        if VERIFY_SHARED_OBJECTS:
            _check_json_round_trip(obj)
        return obj

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Response):
            return NotImplemented
        return (self.status, self.headers, self.body, self.stream) == (
            other.status,
            other.headers,
            other.body,
            other.stream,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = "<obj>" if self._body is None else repr(self._body[:80])
        return f"Response(status={self.status}, headers={self.headers!r}, body={shown})"


def _check_json_round_trip(obj: Any) -> None:
    """``obj`` is what a client decoding its JSON would get: plain dicts, lists and scalars only."""
    try:
        again = orjson.loads(orjson.dumps(obj))
    except TypeError:  # not JSON-shaped at all (a non-string key, a set, ...)
        again = None
    if again != obj or not _same_types(again, obj):
        raise AssertionError(f"a response object does not survive a JSON round trip: {str(obj)[:200]}")


def _same_types(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return all(_same_types(v, b[k]) for k, v in a.items())
    if type(a) is list:
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True


class SharedObjectMutated(AssertionError):
    """A shared watch event (or the object in it) was changed in place."""


class _Entry:
    __slots__ = ("digest", "event", "line")

    def __init__(self, line: bytes, event: dict[str, Any] | None) -> None:
        self.line = line
        self.event = event
        self.digest: bytes | None = None


def _digest(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


def _describe(event: dict[str, Any]) -> str:
    obj = event.get("object")
    meta = (obj.get("metadata") or {}) if isinstance(obj, dict) else {}
    kind = obj.get("kind", "") if isinstance(obj, dict) else ""
    name = f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else meta.get("name")
    return f"{event.get('type')} {kind} {name} resourceVersion={meta.get('resourceVersion')}"


class SharedLines:
    """Identity-keyed ring of recent watch event lines and their one shared decode."""

    def __init__(self, *, capacity: int = SHARED_EVENT_LINES, verify: bool | None = None) -> None:
        self.capacity = capacity
        self._verify = verify
        self._entries: collections.OrderedDict[int, _Entry] = collections.OrderedDict()
        #: Descriptions of the mutated events found so far (cleared by :meth:`check`).
        self.violations: list[str] = []
        self.hits = 0

    @property
    def verifying(self) -> bool:
        return VERIFY_SHARED_OBJECTS if self._verify is None else self._verify

    def __len__(self) -> int:
        return len(self._entries)

    def share(self, line: bytes, event: dict[str, Any] | None = None) -> None:
        """Register ``line`` (one complete event plus ``\\n``), with its decoded ``event`` if known.

        ``event`` becomes shared: the caller must not change it afterwards.
        """
        entries = self._entries
        key = id(line)
        if key in entries:
            return  # this very line (an entry keeps its line alive, so no other object has its id)
        entry = entries[key] = _Entry(line, event)
        if event is not None and self.verifying:
            entry.digest = _digest(event)
        if len(entries) > self.capacity:
            self._verify_entry(entries.popitem(last=False)[1])

    def lookup(self, line: bytes) -> dict[str, Any] | None:
        """The shared event of exactly this ``line`` object, if it is registered and decoded."""
        entry = self._entries.get(id(line))
        if entry is None or entry.line is not line:
            return None
        return entry.event

    def decode(self, line: bytes, decoder: Callable[[bytes], dict[str, Any]]) -> dict[str, Any] | None:
        """The shared event of ``line`` (decoded with ``decoder`` the first time); None if not registered.

        A ``decoder`` that raises leaves the entry undecoded (the next watcher raises alike).
        """
        entry = self._entries.get(id(line))
        if entry is None or entry.line is not line:
            return None
        event = entry.event
        if event is None:
            event = entry.event = decoder(line)
            if self.verifying:
                entry.digest = _digest(event)
        else:
            self.hits += 1
        return event

    def check(self) -> None:
        """Re-check every remembered event; raise :class:`SharedObjectMutated` if any was ever mutated."""
        for entry in self._entries.values():
            self._verify_entry(entry)
        if self.violations:
            found, self.violations = self.violations, []
            shown = found[:MAX_REPORTED]
            more = f" (and {len(found) - len(shown)} more)" if len(found) > len(shown) else ""
            raise SharedObjectMutated(MSG_MUTATED.format(event="; ".join(shown)) + more)

    def clear(self) -> None:
        """Forget every line (checking each first, when verifying)."""
        while self._entries:
            self._verify_entry(self._entries.popitem(last=False)[1])

    def _verify_entry(self, entry: _Entry) -> None:
        if entry.digest is None or entry.event is None:
            return
        if _digest(entry.event) != entry.digest:
            described = _describe(entry.event)
            log.error(MSG_MUTATED.format(event=described))
            self.violations.append(described)
            entry.digest = _digest(entry.event)  # report each mutation once


#: The process-wide memo shared by the API server's watch and the API client's watch decode.
SHARED_LINES = SharedLines()


def _check_at_exit() -> None:
    if SHARED_LINES.verifying:
        try:
            SHARED_LINES.check()
        except SharedObjectMutated as exc:
            log.error("%s", exc)
            raise


atexit.register(_check_at_exit)
