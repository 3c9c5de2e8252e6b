"""Rate limits.

Per key (``API_RATE_LIMIT``, e.g. ``600/min``): over it, 429 with ``Retry-After`` (whole
seconds) and a JSON:API error. The count lives in the cache — Redis in production, shared by
every process and server — as a *sliding window counter*: one counter per key and fixed
window, incremented atomically (Redis ``INCR``, with its expiry set in the same pipeline),
and the request is weighed against this window's count plus the previous window's count
scaled by how much of it still overlaps the last ``period`` seconds. Concurrent requests
each get their own count from Redis, so no two pass on one slot; a refused request is
taken back out (``DECR``), so a script that keeps knocking while limited is not locked out
longer than its real traffic warrants. Without Redis (development) the local-memory cache's
``add``/``incr`` do the same within one process. If the cache cannot be reached the request
is let through and a warning logged: an outage of the rate limiter must not stop the API.

Bad keys per source address (``API_BAD_KEYS_PER_IP`` wrong ``Api-Key`` headers within
``API_BAD_KEY_WINDOW_SECONDS``): counted in the database by ``accounts.throttles.
throttle_hit`` (one upsert per failure, exactly as sign-up and password-reset limits are);
past it, 429 instead of 401 until the window ends. Only failures count, so valid keys
sharing that address (a NAT) keep working, and secrets are 256 random bits anyway: the
limit is against noise and load, not a real chance of guessing.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.throttles import throttle_hit

logger = logging.getLogger(__name__)

BAD_KEY_SCOPE = "api-bad-key"


def parse_rate(rate) -> tuple[int, int] | None:
    """``"600/min"`` → ``(600, 60)``; DRF's format (s, m, h, d); None means no limit."""
    if not rate:
        return None
    return SimpleRateThrottle.parse_rate(None, rate)


def _redis_client(key):
    """The raw Redis client behind the default cache, or None for another backend."""
    backend = getattr(cache, "_cache", None)
    if backend is None or not hasattr(backend, "get_client"):
        return None
    return backend.get_client(key, write=True)


def _window_hit(key, previous_key, ttl) -> tuple[int, int]:
    """Count one hit on ``key``: returns (hits in this window, hits in the previous one)."""
    client = _redis_client(cache.make_key(key))
    if client is not None:
        pipe = client.pipeline()
        pipe.incr(cache.make_key(key))
        pipe.expire(cache.make_key(key), ttl)
        pipe.get(cache.make_key(previous_key))
        hits, _expiry, previous = pipe.execute()
        return int(hits), int(previous or 0)
    for _attempt in range(3):  # local memory: add and incr each hold the cache's lock
        cache.add(key, 0, ttl)
        try:
            hits = cache.incr(key)
        except ValueError:  # expired between add and incr: add it again
            continue
        return hits, int(cache.get(previous_key) or 0)
    return 1, 0


def _window_undo(key) -> None:
    try:
        cache.decr(key)
    except ValueError:
        pass


class PerKeyRateThrottle(BaseThrottle):
    """``API_RATE_LIMIT`` requests per period per key (see the module's notes)."""

    scope = "api_key"

    def __init__(self):
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        self.rate = parse_rate(rates.get(self.scope))
        self.retry_after = None

    def allow_request(self, request, view):
        key = request.auth
        if self.rate is None or key is None:
            return True
        limit, period = self.rate
        now = time.time()
        window = int(now // period)
        elapsed = now - window * period
        this_key = f"api-rate:{key.pk}:{period}:{window}"
        try:
            hits, previous = _window_hit(
                this_key, f"api-rate:{key.pk}:{period}:{window - 1}", 2 * period + 1
            )
        except Exception:  # noqa: BLE001 (the cache is down: let the request through)
            logger.warning("API rate limit not checked: the cache is unreachable", exc_info=True)
            return True
        weight = 1 - elapsed / period
        if previous * weight + hits <= limit:
            return True
        try:
            _window_undo(this_key)
        except Exception:  # noqa: BLE001
            logger.warning("API rate limit: could not take a refused hit back", exc_info=True)
        self.retry_after = retry_after(
            limit=limit, period=period, elapsed=elapsed, current=hits - 1, previous=previous
        )
        return False

    def wait(self):
        return self.retry_after


def retry_after(*, limit, period, elapsed, current, previous) -> int:
    """Whole seconds until one more request fits: while this window's own count leaves room,
    until enough of the previous window has slid out; otherwise into the next window, until
    enough of this one has."""
    if current + 1 <= limit and previous > 0:
        needed = period * (1 - (limit - current - 1) / previous)
        seconds = needed - elapsed
    else:
        needed = period * (1 - (limit - 1) / current) if current else 0
        seconds = (period - elapsed) + max(needed, 0)
    return max(1, math.ceil(seconds))


# --- Bad keys per source address ------------------------------------------------------------


def bad_key_limit() -> tuple[int, int]:
    return settings.API_BAD_KEYS_PER_IP, settings.API_BAD_KEY_WINDOW_SECONDS


def bad_key_attempt(address) -> None:
    """Count one wrong ``Api-Key`` from ``address``; past the limit, raise DRF's
    ``Throttled`` (429 with ``Retry-After``: the seconds left in the window)."""
    if not address:
        return
    limit, window = bad_key_limit()
    if throttle_hit(scope=BAD_KEY_SCOPE, value=address, limit=limit, window_seconds=window):
        return
    left = window - int(time.time()) % window
    raise exceptions.Throttled(
        wait=left,
        detail=(
            "Too many requests with a wrong API key from your address. "
            f"Try again in {left} seconds, with a valid key."
        ),
    )
