"""Rate limits per key (``API_RATE_LIMIT``, e.g. ``600/min``): over it, 429 with Retry-After."""

from rest_framework.throttling import SimpleRateThrottle


class PerKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_cache_key(self, request, view):
        key = request.auth
        if key is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": key.pk}
