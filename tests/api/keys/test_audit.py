"""Every write through the API is recorded (``ApiWrite``), whatever its answer; history rows
written during an API request name the key's user; every /v3/ view that writes is built on
the base classes that record."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from api import views_docs
from api.base import ApiMixin
from api.models import ApiWrite
from inventory.models import DID
from tests.api.conftest import jsonapi_client, key_for
from tests.inventory.factories import DIDFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.keys.urls_audit")]


def body(kind, attributes, pk=None):
    data = {"type": kind, "attributes": attributes}
    if pk is not None:
        data["id"] = str(pk)
    return {"data": data}


@pytest.fixture
def owned(customer_admin):
    return DIDFactory(owner=customer_admin.account, status="active", ever_sold=True)


def test_a_created_resource_is_recorded_with_its_type_and_id(customer_admin):
    key, secret = key_for(customer_admin)
    client = jsonapi_client()
    response = client.post(
        "/v3/audit-notes",
        body("notes", {"text": "hello"}),
        HTTP_API_KEY=secret,
        REMOTE_ADDR="203.0.113.5",
    )
    assert response.status_code == 201
    (write,) = ApiWrite.objects.all()
    assert (write.key, write.user, write.method, write.path) == (
        key,
        customer_admin,
        "POST",
        "/v3/audit-notes",
    )
    assert (write.status_code, write.resource_type, write.resource_id) == (201, "notes", "77")
    assert write.ip_address == "203.0.113.5"


def test_refusals_are_recorded_too(customer_admin, stranger, owned):
    key, secret = key_for(customer_admin)
    reader, reader_secret = key_for(customer_admin, read_only=True)
    client = jsonapi_client()
    refused = client.post("/v3/audit-notes", body("notes", {"text": "no"}), HTTP_API_KEY=secret)
    assert refused.status_code == 422
    forbidden = client.patch(
        f"/v3/audit-dids/{owned.pk}",
        body("dids", {"tag": "x"}, owned.pk),
        HTTP_API_KEY=reader_secret,
    )
    assert forbidden.status_code == 403
    _other, other_secret = key_for(stranger)
    missing = client.delete(f"/v3/audit-dids/{owned.pk}", HTTP_API_KEY=other_secret)
    assert missing.status_code == 404
    rows = {(w.key_id, w.method, w.status_code, w.resource_id) for w in ApiWrite.objects.all()}
    assert rows == {
        (key.pk, "POST", 422, ""),
        (reader.pk, "PATCH", 403, str(owned.pk)),
        (_other.pk, "DELETE", 404, str(owned.pk)),
    }
    owned.refresh_from_db()
    assert owned.tag == ""


def test_reads_and_keyless_requests_write_no_row(customer_admin):
    jsonapi_client(customer_admin).get("/v3/balance")
    assert jsonapi_client().post("/v3/audit-notes", body("notes", {})).status_code == 401
    bad = jsonapi_client().post("/v3/audit-notes", body("notes", {}), HTTP_API_KEY="dpk_no")
    assert bad.status_code == 401
    assert not ApiWrite.objects.exists()


def test_history_rows_name_the_keys_user_not_the_browser_session(
    client, customer_admin, customer_member, owned
):
    key, secret = key_for(customer_admin)
    client.force_login(customer_member)  # a browser session on the same client
    response = client.patch(
        f"/v3/audit-dids/{owned.pk}",
        body("dids", {"tag": "billing"}, owned.pk),
        content_type="application/vnd.api+json",
        HTTP_API_KEY=secret,
    )
    assert response.status_code == 200
    latest = DID.history.filter(id=owned.pk).latest("history_date")
    assert latest.tag == "billing"
    assert latest.history_user == customer_admin
    (write,) = ApiWrite.objects.all()
    assert (write.method, write.status_code, write.resource_type) == ("PATCH", 200, "dids")


def _v3_views(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _v3_views(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("v3/"):
            yield route, entry.callback


WRITES = {"post", "put", "patch", "delete"}


def _writes(callback) -> bool:
    actions = getattr(callback, "actions", None)  # a viewset's {method: action}
    if actions is not None:
        return bool(WRITES & set(actions))
    if callback is views_docs.docs:
        return False  # the browsable docs page: a template, never writes
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:
        return True  # a plain function: assume it may write
    return any(hasattr(view, method) for method in WRITES)


@pytest.mark.urls("didportal.urls")
def test_every_v3_view_that_writes_records_its_writes():
    """A view added to /v3/ that can write must be built on ``api.base`` (ApiView,
    ModelViewSet…), whose ``finalize_response`` records the write; a plain Django view or
    a bare DRF APIView would escape the audit."""
    views = list(_v3_views(get_resolver().url_patterns))
    assert any(route == "v3/balance" for route, _ in views)
    escaping = [
        route
        for route, callback in views
        if _writes(callback) and not issubclass(getattr(callback, "cls", type(None)), ApiMixin)
    ]
    assert escaping == []


def test_the_walker_catches_a_view_outside_the_base_classes():
    from rest_framework.views import APIView  # noqa: PLC0415

    class Bare(APIView):
        def post(self, request):
            return None

    callback = Bare.as_view()
    assert _writes(callback) and not issubclass(callback.cls, ApiMixin)
    assert not _writes(type("ReadOnly", (APIView,), {"get": lambda s, r: None}).as_view())
