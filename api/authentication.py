"""``Api-Key: <secret>``: DIDWW's header. The key acts as the user who created it."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.throttles import client_ip

from .keys import secret_hash
from .models import ApiKey
from .services import api_key_used
from .throttling import bad_key_attempt

HEADER = "HTTP_API_KEY"


class ApiKeyAuthentication(BaseAuthentication):
    """Sets ``request.user`` to the key's creator and ``request.auth`` to the ``ApiKey``.
    A missing, unknown or revoked key, an inactive user or account, or a source address
    outside the key's ranges answers 401 with one message (nothing tells a guesser which);
    too many of those from one address, 429 (``throttling.bad_key_attempt``)."""

    def authenticate(self, request):
        secret = request.META.get(HEADER, "").strip()
        if not secret:
            raise exceptions.NotAuthenticated("Send your API key in the Api-Key header.")
        key = (
            ApiKey.objects.select_related("account", "created_by", "created_by__account")
            .filter(key_hash=secret_hash(secret), revoked_at__isnull=True)
            .first()
        )
        address = client_ip(request)
        if key is None or not self._usable(key, address):
            bad_key_attempt(address)  # 429 instead, once an address sent too many
            raise exceptions.AuthenticationFailed("This API key is not valid.")
        api_key_used(key=key, ip_address=address or None)
        return key.created_by, key

    @staticmethod
    def _usable(key, address) -> bool:
        user = key.created_by
        return (
            user.is_active
            and user.account_id == key.account_id
            and key.account.is_active
            and key.allows_address(address)
        )

    def authenticate_header(self, request):
        return "Api-Key"
