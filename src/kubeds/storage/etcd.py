"""The etcd backend: the storage contract served by a real etcd cluster (v3 API, over gRPC).

The mapping is the one kube-apiserver uses (``staging/src/k8s.io/apiserver/pkg/storage/etcd3/``
``store.go``, ``watcher.go`` and ``event.go``); etcd does the MVCC, so this module only translates:

* ``create`` is a transaction ``create_revision(key) == 0 -> put``; a failed compare is
  :class:`~kubeds.storage.errors.KeyExists`;
* ``update``/``delete`` are transactions ``mod_revision(key) == expected -> put/delete (prev_kv)``
  ``else -> get``, so a failed compare reports what is stored (:class:`~kubeds.storage.errors.Conflict`
  with the current value, or :class:`~kubeds.storage.errors.KeyNotFound`); ``expected=0`` compares
  ``create_revision > 0`` instead (unconditional, but the key must exist). The revision of a write
  is the transaction's header revision; a delete returns the last value at that revision;
* ``list``/``get``/``count`` are range reads (linearizable, etcd's default) at a revision, with a
  limit and etcd's own ``more``; concurrent current-revision ``get`` calls go to etcd together
  as one read-only transaction (:mod:`kubeds.storage.etcdreads`);
* ``watch`` is etcd's watch from ``revision + 1`` with ``prev_kv``. A put whose ``create_revision``
  equals its ``mod_revision`` is a CREATE, any other put an UPDATE, and a delete is reported with
  the previous value at the delete's revision (upstream's ``parseEvent``). One etcd watch response
  (all events of one revision, etcd keeps a transaction's events together) is one batch. All
  watches of a backend with prefixes under one prefix share one etcd watch, on a gRPC stream of its
  own (:mod:`kubeds.storage.etcdwatch`); when that stream breaks its watches end with
  :class:`~kubeds.storage.errors.Unavailable` and their clients watch again from the last revision
  they saw, as client-go's reflector does;
* ``compact`` is etcd's compaction (not physical). etcd does not publish its compacted revision,
  so it is tracked: set by our own compactions, learnt from watch responses that carry
  ``compact_revision``, and on start (or after an ``ErrCompacted``) found by bisecting with range
  reads, which etcd refuses below the compacted revision.

Several API servers may share one etcd: every write goes through etcd's transactions and every
watch sees every change in revision order, whoever made it (etcd's watch guarantees).

Endpoints are ``http://host:port`` URLs. The backend talks to one at a time; when one fails with
``UNAVAILABLE`` it moves to the next. Reads are retried there (they are idempotent); writes are
not, because the failed one may have been applied (clientv3's ``retry.go`` draws the same line),
so the caller gets :class:`~kubeds.storage.errors.Unavailable` and retries through the API; the
exception is a write that was never sent because the endpoint refused the connection (a member
that is down): that one is retried on the next endpoint, as clientv3 does.

Keys are kubeds strings stored as UTF-8 bytes, optionally under a ``prefix`` so that several
independent stores (for example tests) can share one etcd; the prefix never shows in results.

aetcd provides the generated gRPC stubs (``aetcd.rpc``); the calls are made directly on them
because its high-level client has no range revision/limit and delivers watch events one by one.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from typing import Any

import grpc  # type: ignore[import-untyped]
from aetcd import rpc  # type: ignore[import-untyped]

from kubeds.storage import errors
from kubeds.storage.broadcaster import DEFAULT_MAX_PENDING
from kubeds.storage.etcdreads import ReadBatcher
from kubeds.storage.etcdwatch import MSG_CLOSED, MSG_WATCH_BROKEN, WatchHub
from kubeds.storage.interface import Event, EventType, KeyValue, ListResult, WatchStream

__all__ = ["MSG_UNREACHABLE", "EtcdBackend", "parse_endpoint"]

log = logging.getLogger(__name__)

MSG_UNREACHABLE = "cannot reach etcd at {urls}: is it running? start it or pass --etcd-endpoints"
# etcd's error texts (server/mvcc/kvstore.go ErrCompacted, ErrFutureRev).
ETCD_ERR_COMPACTED = "required revision has been compacted"
ETCD_ERR_FUTURE = "required revision is a future revision"

DEFAULT_REQUEST_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
# etcd answers ranges of any size (its server limit is MaxInt32); gRPC's default 4 MiB would not.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
]
_ALL_KEYS = b"\0"  # as a range end: every key from the start key on

# gRPC's status details when no connection to the endpoint could be made, so nothing was sent.
GRPC_NOT_CONNECTED = "failed to connect to all addresses"

_PUT, _DELETE = 0, 1  # mvccpb.Event.EventType
# Errors after which another member may answer: the member is down or cut off, or the call was
# on a channel that a failover (or close) is shutting down.
_FAILOVER_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
)


def parse_endpoint(url: str) -> str:
    """``http://127.0.0.1:2379`` (or ``127.0.0.1:2379``) -> the gRPC target ``127.0.0.1:2379``."""
    if url.startswith("https://"):
        raise ValueError(f"etcd endpoint {url}: TLS is not supported yet; use an http:// endpoint")
    target = url.removeprefix("http://").rstrip("/")
    if not target or "/" in target:
        raise ValueError(f"etcd endpoint {url!r} is not of the form http://host:port")
    return target if ":" in target else f"{target}:2379"


def _range_end(prefix: bytes) -> bytes:
    """etcd's prefix range end: the prefix with its last byte below 0xff incremented."""
    p = bytearray(prefix)
    while p:
        if p[-1] < 0xFF:
            p[-1] += 1
            return bytes(p)
        p.pop()
    return _ALL_KEYS


class EtcdBackend:
    """:class:`~kubeds.storage.interface.Backend` on etcd; see the module docstring."""

    def __init__(
        self,
        endpoints: list[str],
        *,
        prefix: str = "",
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if not endpoints:
            raise ValueError("the etcd backend needs at least one endpoint (--etcd-endpoints)")
        self._urls = list(endpoints)
        self._targets = [parse_endpoint(u) for u in endpoints]
        self._prefix = prefix.encode()
        self._timeout = request_timeout
        self._max_pending = max_pending
        self._index = 0
        self._channel: Any = None
        self._kv: Any = None
        self._watch: WatchHub | None = None
        self._compacted = 0
        self._open = False
        self._closing: set[asyncio.Task[None]] = set()  # channels left behind by a failover
        self._reads = ReadBatcher(self._send_ranges)

    # -- connection -------------------------------------------------------------------------

    async def start(self) -> None:
        for i in range(len(self._targets)):
            self._connect((self._index + i) % len(self._targets))
            try:
                await self._kv.Range(
                    rpc.RangeRequest(key=self._prefix or _ALL_KEYS, count_only=True),
                    timeout=CONNECT_TIMEOUT_S,
                )
            except grpc.aio.AioRpcError as exc:
                log.debug("etcd at %s: %s", self._urls[self._index], exc.details())
                continue
            self._open = True
            self._compacted = await self._find_compacted(low=0)
            return
        await self._disconnect()
        raise errors.Unavailable(MSG_UNREACHABLE.format(urls=", ".join(self._urls)))

    async def close(self) -> None:
        self._open = False
        await self._disconnect()

    def _connect(self, index: int) -> None:
        old = self._channel
        self._index = index
        self._channel = grpc.aio.insecure_channel(self._targets[index], options=CHANNEL_OPTIONS)
        self._kv = rpc.KVStub(self._channel)
        if self._watch is not None:
            self._watch.fail(errors.Unavailable(MSG_WATCH_BROKEN.format(reason="switched etcd endpoint")))
            self._watch = None
        if old is not None:
            task = asyncio.get_running_loop().create_task(old.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _disconnect(self) -> None:
        if self._watch is not None:
            await self._watch.aclose()
            self._watch = None
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _check_open(self) -> None:
        if not self._open:
            raise errors.Unavailable(MSG_CLOSED)

    async def _call(self, method: str, request: Any, *, retry: bool) -> Any:
        """One unary KV call; ``UNAVAILABLE`` moves to the next endpoint (and retries reads there).

        A write is retried there too when it was never sent: the endpoint refused the connection
        (clientv3's ``isSafeRetryMutableRPC``: "there is no address available").
        """
        self._check_open()
        attempts = len(self._targets)
        for attempt in range(attempts):
            channel = self._channel
            try:
                return await getattr(self._kv, method)(request, timeout=self._timeout)
            except grpc.aio.AioRpcError as exc:
                code, details = exc.code(), exc.details() or ""
                if code == grpc.StatusCode.OUT_OF_RANGE:  # compacted or future revision
                    raise _EtcdError(code, details) from exc
                if code in _FAILOVER_CODES:
                    if self._open and channel is self._channel and len(self._targets) > 1:
                        self._connect((self._index + 1) % len(self._targets))
                    never_sent = code == grpc.StatusCode.UNAVAILABLE and GRPC_NOT_CONNECTED in details
                    if self._open and attempt + 1 < attempts and (retry or never_sent):
                        continue
                unavailable = errors.Unavailable(f"etcd at {self._urls[self._index]}: {code.name}: {details}")
                raise unavailable from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- key mapping ------------------------------------------------------------------------

    def _key(self, key: str) -> bytes:
        return self._prefix + key.encode()

    def _unkey(self, raw: bytes) -> str:
        return raw[len(self._prefix) :].decode()

    def _kv_of(self, kv: Any) -> KeyValue:
        return KeyValue(self._unkey(kv.key), kv.value, kv.create_revision, kv.mod_revision)

    # -- writes -----------------------------------------------------------------------------

    async def create(self, key: str, value: bytes) -> KeyValue:
        k = self._key(key)
        resp = await self._call(
            "Txn",
            rpc.TxnRequest(
                compare=[_compare(k, target=rpc.Compare.CREATE, result=rpc.Compare.EQUAL, create_revision=0)],
                success=[rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value))],
            ),
            retry=False,
        )
        if not resp.succeeded:
            raise errors.KeyExists(key)
        rev = resp.header.revision
        return KeyValue(key, value, rev, rev)

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> KeyValue:
        k = self._key(key)
        put = rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value, prev_kv=True))
        resp = await self._cas(key, k, put, expected_revision)
        prev = resp.responses[0].response_put.prev_kv
        return KeyValue(key, value, prev.create_revision, resp.header.revision)

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        k = self._key(key)
        op = rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=k, prev_kv=True))
        resp = await self._cas(key, k, op, expected_revision)
        prevs = resp.responses[0].response_delete_range.prev_kvs
        if not prevs:  # pragma: no cover - the compare guaranteed the key existed
            raise errors.KeyNotFound(key)
        prev = prevs[0]
        return KeyValue(key, prev.value, prev.create_revision, resp.header.revision)

    async def _cas(self, key: str, k: bytes, op: Any, expected: int) -> Any:
        if expected:
            cmp = _compare(k, target=rpc.Compare.MOD, result=rpc.Compare.EQUAL, mod_revision=expected)
        else:
            cmp = _compare(k, target=rpc.Compare.CREATE, result=rpc.Compare.GREATER, create_revision=0)
        resp = await self._call(
            "Txn",
            rpc.TxnRequest(
                compare=[cmp], success=[op], failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=k))]
            ),
            retry=False,
        )
        if resp.succeeded:
            return resp
        kvs = resp.responses[0].response_range.kvs
        current = self._kv_of(kvs[0]) if kvs else None
        if not expected and current is None:
            raise errors.KeyNotFound(key)
        raise errors.Conflict(key, expected, current)

    # -- reads ------------------------------------------------------------------------------

    async def _range(self, request: Any, *, revision: int) -> Any:
        try:
            return await self._call("Range", request, retry=True)
        except _EtcdError as exc:
            raise await self._revision_error(exc, revision) from exc

    async def _revision_error(self, exc: _EtcdError, revision: int) -> errors.StorageError:
        if ETCD_ERR_COMPACTED in exc.details:
            self._compacted = max(self._compacted, await self._find_compacted(low=revision + 1))
            return errors.Compacted(revision, self._compacted)
        if ETCD_ERR_FUTURE in exc.details:
            return errors.FutureRevision(revision, await self.current_revision())
        return errors.Unavailable(f"etcd: {exc.details}")

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        request = rpc.RangeRequest(key=self._key(key), revision=revision)
        if revision:
            resp = await self._range(request, revision=revision)
        else:  # the common case, read with whatever else is being read now (etcdreads)
            resp = await self._reads.range(request)
        return self._kv_of(resp.kvs[0]) if resp.kvs else None

    async def _send_ranges(self, requests: builtins.list[Any]) -> builtins.list[Any]:
        """Current-revision range reads: one ``Range``, or several in one read-only ``Txn``."""
        if len(requests) == 1:
            return [await self._range(requests[0], revision=0)]
        txn = rpc.TxnRequest(success=[rpc.RequestOp(request_range=r) for r in requests])
        try:
            resp = await self._call("Txn", txn, retry=True)  # read only: safe to retry elsewhere
        except _EtcdError as exc:
            raise await self._revision_error(exc, 0) from exc
        return [r.response_range for r in resp.responses]

    async def list(self, prefix: str, *, revision: int = 0, start: str = "", limit: int = 0) -> ListResult:
        begin = self._key(max(prefix, start))
        end = _range_end(self._key(prefix))
        resp = await self._range(
            rpc.RangeRequest(key=begin, range_end=end, revision=revision, limit=limit), revision=revision
        )
        kvs = [self._kv_of(kv) for kv in resp.kvs]
        return ListResult(kvs, revision or resp.header.revision, bool(resp.more))

    async def count(self, prefix: str) -> int:
        k = self._key(prefix)
        resp = await self._range(
            rpc.RangeRequest(key=k, range_end=_range_end(k), count_only=True), revision=0
        )
        return int(resp.count)

    async def current_revision(self) -> int:
        resp = await self._call(
            "Range", rpc.RangeRequest(key=self._prefix or _ALL_KEYS, count_only=True), retry=True
        )
        return int(resp.header.revision)

    async def compacted_revision(self) -> int:
        self._check_open()
        return self._compacted

    async def compact(self, revision: int) -> None:
        try:
            await self._call("Compact", rpc.CompactionRequest(revision=revision), retry=False)
        except _EtcdError as exc:
            err = await self._revision_error(exc, revision)
            if not isinstance(err, errors.Compacted):  # already compacted there: nothing to do
                raise err from exc
            return
        self._compacted = max(self._compacted, revision)

    async def _find_compacted(self, *, low: int) -> int:
        """The smallest revision >= ``low`` that etcd still serves (its compacted revision, or 0)."""

        async def served(rev: int) -> bool:
            try:
                await self._call(
                    "Range", rpc.RangeRequest(key=_ALL_KEYS, revision=rev, count_only=True), retry=True
                )
            except _EtcdError as exc:
                if ETCD_ERR_COMPACTED in exc.details:
                    return False
                raise errors.Unavailable(f"etcd: {exc.details}") from exc
            return True

        lo, hi = max(low, 1), await self.current_revision()
        if await served(lo):
            return 0 if lo <= 1 else lo
        while lo < hi:  # invariant: lo is not served, hi is (the current revision always is)
            mid = (lo + hi) // 2
            if mid == lo:
                break
            if await served(mid):
                hi = mid
            else:
                lo = mid
        return hi

    # -- watch ------------------------------------------------------------------------------

    async def watch(self, prefix: str, *, revision: int) -> WatchStream:
        self._check_open()
        if revision < self._compacted:
            raise errors.Compacted(revision, self._compacted)
        if revision:
            try:  # etcd would only say so later on the stream; find out now, as the contract asks
                await self._call(
                    "Range", rpc.RangeRequest(key=_ALL_KEYS, revision=revision, count_only=True), retry=True
                )
            except _EtcdError as exc:
                err = await self._revision_error(exc, revision)
                if not isinstance(err, errors.FutureRevision):  # a future revision is fine to watch from
                    raise err from exc
        if self._watch is None or self._watch.broken:
            self._watch = WatchHub(
                rpc.WatchStub(self._channel),
                events=self._events,
                learn_compacted=self._learn_compacted,
                key_range=self._key_range,
                max_pending=self._max_pending,
                timeout=self._timeout,
            )
        return await self._watch.add(prefix, after=revision)

    def _key_range(self, prefix: str) -> tuple[bytes, bytes]:
        k = self._key(prefix)
        return k or _ALL_KEYS, _range_end(k)

    def _events(self, resp: Any) -> builtins.list[Event]:
        out: builtins.list[Event] = []
        for ev in resp.events:
            prev = self._kv_of(ev.prev_kv) if ev.HasField("prev_kv") else None
            if ev.type == _DELETE:
                key = self._unkey(ev.kv.key)
                value, created = (prev.value, prev.create_revision) if prev else (b"", 0)
                out.append(Event(EventType.DELETE, KeyValue(key, value, created, ev.kv.mod_revision), prev))
            elif ev.kv.create_revision == ev.kv.mod_revision:
                out.append(Event(EventType.CREATE, self._kv_of(ev.kv), None))
            else:
                out.append(Event(EventType.UPDATE, self._kv_of(ev.kv), prev))
        return out

    def _learn_compacted(self, revision: int) -> None:
        self._compacted = max(self._compacted, revision)

    @property
    def endpoint(self) -> str:
        """The URL currently in use."""
        return self._urls[self._index]


class _EtcdError(Exception):
    """An etcd error other than unavailability; callers map it to a storage error."""

    def __init__(self, code: Any, details: str) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details


def _compare(key: bytes, *, target: int, result: int, **value: int) -> Any:
    return rpc.Compare(key=key, target=target, result=result, **value)
