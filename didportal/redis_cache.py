"""The shared cache on Redis, used as a cache: a Redis that is down is a miss, not a 500.

Django's ``RedisCache`` raises redis-py's ``ConnectionError`` from every call while Redis is
unreachable, and the brand-host middleware reads the cache on every request, so a Redis
outage turned every page into an error page. Here a read of an unreachable Redis misses
(the caller computes the value from the database, as on a cold cache) and a write is
skipped, each logged. Counters (``incr``/``decr``) still raise: a caller counting something
decides what an outage means (the API rate limit lets the request through).

After a failure the process leaves Redis alone for ``retry_after`` seconds (an option in
``CACHES``), so a Redis that stopped answering costs one socket timeout per process in that
time rather than one per cache call; the first call after that tries Redis again.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class CacheUnreachable(RedisConnectionError):
    """Raised by counters while the cache is known to be down (no new attempt yet)."""


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self._retry_after = float(options.pop("retry_after", 5.0))
        super().__init__(server, {**params, "OPTIONS": options})
        self._down_until = 0.0
        self._lock = threading.Lock()

    # --- the outage window ---------------------------------------------------------------

    def _skipping(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, operation, exc) -> None:
        with self._lock:
            first = not self._skipping()
            self._down_until = time.monotonic() + self._retry_after
        if first:
            logger.warning(
                "cache unreachable (%s: %s): reads miss and writes are skipped for %.0f s",
                operation,
                exc,
                self._retry_after,
            )

    def _guarded(self, operation, call, fallback):
        if self._skipping():
            return fallback
        try:
            return call()
        except UNREACHABLE as exc:
            self._failed(operation, exc)
            return fallback

    # --- reads miss ------------------------------------------------------------------------

    def get(self, key, default=None, version=None):
        parent = super()
        return self._guarded("get", lambda: parent.get(key, default, version), default)

    def get_many(self, keys, version=None):
        parent = super()
        return self._guarded("get_many", lambda: parent.get_many(keys, version), {})

    def has_key(self, key, version=None):
        parent = super()
        return self._guarded("has_key", lambda: parent.has_key(key, version), False)

    # --- writes are skipped ----------------------------------------------------------------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._guarded("add", lambda: parent.add(key, value, timeout, version), False)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._guarded("set", lambda: parent.set(key, value, timeout, version), None)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._guarded(
            "set_many", lambda: parent.set_many(data, timeout, version), list(data)
        )

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._guarded("touch", lambda: parent.touch(key, timeout, version), False)

    def delete(self, key, version=None):
        parent = super()
        return self._guarded("delete", lambda: parent.delete(key, version), False)

    def delete_many(self, keys, version=None):
        parent = super()
        return self._guarded("delete_many", lambda: parent.delete_many(keys, version), None)

    def clear(self):
        parent = super()
        return self._guarded("clear", parent.clear, False)

    # --- counters raise --------------------------------------------------------------------

    def incr(self, key, delta=1, version=None):
        if self._skipping():
            raise CacheUnreachable("the cache is unreachable")
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as exc:
            self._failed("incr", exc)
            raise
