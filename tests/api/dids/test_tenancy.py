"""Every /v3/ route of the numbers part that takes an id, with each kind of key: the owner's
full and read-only keys, a stranger's, the owner's reseller's and another reseller's. A new
route of ``api.urls_dids`` with an id and no expectations here fails the last test."""

import pytest
from django.urls import URLPattern, reverse

from api import urls_dids
from api.services_exports import export_create, export_write
from inventory.models import DID
from tests.api.conftest import jsonapi_client, key_for
from tests.api.dids.conftest import buy
from tests.billing.factories import fund
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

KEYS = ("owner", "owner_read_only", "stranger", "reseller", "other_reseller")

# route name → method → expected status per key (in KEYS order).
EXPECTED = {
    "dids-detail": {
        "GET": (200, 200, 404, 200, 404),
        "PATCH": (200, 403, 404, 200, 404),
    },
    "customers-detail": {"GET": (404, 404, 404, 200, 404)},
    "exports-detail": {"GET": (200, 200, 404, 404, 404)},
    "exports-file": {"GET": (200, 200, 404, 404, 404)},
}


@pytest.fixture
def world(munich):
    reseller = AccountFactory(kind="reseller", name="Reseller")
    customer = AccountFactory(kind="customer", parent=reseller, name="Customer")
    owner = UserFactory(account=customer, role="customer_admin")
    fund(reseller, "100.00")
    fund(customer, "100.00")
    order = buy(owner, "+4989555000", token="tenancy")
    rental = order.items.get().subscription
    key, _secret = key_for(owner)
    export = export_create(key=key, user=owner, export_type="dids", filters={})
    export_write(export_id=export.pk)
    other_reseller = AccountFactory(kind="reseller", name="Other reseller")
    clients = {
        "owner": jsonapi_client(owner),
        "owner_read_only": jsonapi_client(owner, read_only=True),
        "stranger": jsonapi_client(UserFactory(account=AccountFactory(), role="customer_admin")),
        "reseller": jsonapi_client(UserFactory(account=reseller, role="reseller_admin")),
        "other_reseller": jsonapi_client(
            UserFactory(account=other_reseller, role="reseller_admin")
        ),
    }
    ids = {
        "dids-detail": rental.did_id,
        "customers-detail": customer.pk,
        "exports-detail": export.pk,
        "exports-file": export.pk,
    }
    return clients, ids


PATHS = {
    "dids-detail": "/v3/dids/{}",
    "customers-detail": "/v3/customers/{}",
    "exports-detail": "/v3/exports/{}",
    "exports-file": "/v3/exports/{}.csv.gz",
}


@pytest.mark.parametrize(
    ("route", "method"),
    [(route, method) for route, methods in EXPECTED.items() for method in methods],
)
def test_each_key_reaches_only_what_it_may(world, route, method):
    clients, ids = world
    path = PATHS[route].format(ids[route])
    got = []
    for name in KEYS:
        client = clients[name]
        if method == "PATCH":
            body = {
                "data": {"type": "dids", "id": str(ids[route]), "attributes": {"description": name}}
            }
            got.append(client.patch(path, body).status_code)
        else:
            got.append(client.get(path).status_code)
    assert tuple(got) == EXPECTED[route][method], dict(zip(KEYS, got, strict=True))
    if method == "PATCH":
        # Only the keys that were let in wrote, the last of them last.
        assert DID.objects.get(pk=ids[route]).description == "reseller"


def test_every_route_with_an_id_is_walked():
    names = {
        entry.name
        for entry in urls_dids.urlpatterns
        if isinstance(entry, URLPattern) and entry.pattern.regex.groups
    }
    assert names == EXPECTED.keys() == PATHS.keys()
    assert all(reverse(f"api:{name}", args=[1]).startswith("/v3/") for name in names)
