"""API fixtures: keys, a test client that speaks JSON:API with a key, and the official
DIDWW SDK pointed at a live test server."""

import pytest
from rest_framework.test import APIClient

from api.services import api_key_create
from billing.services import topup_record


def key_for(user, *, read_only=False, allowed_networks=""):
    """A new key acting as ``user``: returns ``(ApiKey, secret)``."""
    return api_key_create(
        user=user, name="test key", read_only=read_only, allowed_networks=allowed_networks
    )


class JsonApiClient(APIClient):
    """``APIClient`` sending ``Api-Key`` and JSON:API's media type on every request."""

    def __init__(self, secret=None, **kwargs):
        super().__init__(**kwargs)
        self.secret = secret

    def generic(self, method, path, data="", content_type=None, secure=False, **extra):
        if self.secret:
            extra.setdefault("HTTP_API_KEY", self.secret)
        extra.setdefault("HTTP_ACCEPT", "application/vnd.api+json")
        if content_type is None and method in ("POST", "PATCH", "PUT"):
            content_type = "application/vnd.api+json"
        return super().generic(method, path, data, content_type, secure=secure, **extra)


def jsonapi_client(user=None, **key_options) -> JsonApiClient:
    """A client with a fresh key for ``user`` (none: no key at all)."""
    if user is None:
        return JsonApiClient()
    _key, secret = key_for(user, **key_options)
    return JsonApiClient(secret)


@pytest.fixture
def api_client(customer_admin):
    """A full-access key of a direct customer's admin."""
    return jsonapi_client(customer_admin)


def sdk_for(live_server, secret):
    """The official SDK (``didww`` on PyPI), unmodified, against ``live_server``."""
    from didww.client import DidwwClient  # noqa: PLC0415

    return DidwwClient(api_key=secret, base_url=f"{live_server.url}/v3")


def fund(account, amount):
    """Credit ``account`` by a bank transfer recorded by a job."""
    topup_record(
        account=account,
        amount=amount,
        external_reference=f"T-{account.pk}-{amount}",
        actor=None,
        job="test",
    )
