"""client-go's machinery for kubeds components: informers, caches, work queues, expectations, leases, events.

Modules (each mirrors one part of client-go or ``pkg/controller``; see their docstrings):

* :mod:`.workqueue` / :mod:`.ratelimit`: deduplicating, delaying, rate-limited work queues;
* :mod:`.cache`: the indexed local store and its key and index functions;
* :mod:`.informer`: list + watch into the store, event handlers, the shared informer factory;
* :mod:`.expectations`: create/delete expectations guarding against a stale cache;
* :mod:`.controller`: the worker loop base class;
* :mod:`.leaderelection`: Lease-based leader election;
* :mod:`.events` / :mod:`.eventcorrelator`: the event recorder with upstream's aggregation.

The package reaches the API only through :mod:`kubeds.client` (never ``storage`` or ``apiserver``).
"""

from __future__ import annotations

from kubeds.machinery.cache import (
    Indexer,
    index_by_controller_uid,
    index_by_namespace,
    index_by_node_name,
    meta_namespace_key,
    split_meta_namespace_key,
)
from kubeds.machinery.controller import Controller
from kubeds.machinery.events import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING, EventRecorder
from kubeds.machinery.expectations import ControllerExpectations, UIDTrackingControllerExpectations
from kubeds.machinery.informer import Informer, SharedInformerFactory
from kubeds.machinery.leaderelection import LeaderElector
from kubeds.machinery.ratelimit import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)
from kubeds.machinery.workqueue import RateLimitingQueue, ShutDown

__all__ = [
    "EVENT_TYPE_NORMAL",
    "EVENT_TYPE_WARNING",
    "BucketRateLimiter",
    "Controller",
    "ControllerExpectations",
    "EventRecorder",
    "Indexer",
    "Informer",
    "ItemExponentialFailureRateLimiter",
    "LeaderElector",
    "MaxOfRateLimiter",
    "RateLimiter",
    "RateLimitingQueue",
    "SharedInformerFactory",
    "ShutDown",
    "UIDTrackingControllerExpectations",
    "default_controller_rate_limiter",
    "index_by_controller_uid",
    "index_by_namespace",
    "index_by_node_name",
    "meta_namespace_key",
    "split_meta_namespace_key",
]
