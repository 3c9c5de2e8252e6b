"""Packages, customers' packages, and deactivating one (its numbers go on hold)."""

import datetime as dt

import pytest
from django.urls import reverse

from inventory.models import ClientPackage, Package
from inventory.selectors import stock_summary
from tests.inventory.factories import ClientPackageFactory, PackageFactory

pytestmark = pytest.mark.django_db

PACKAGES = reverse("inventory:packages")


@pytest.fixture
def admin_client(client, platform_admin):
    client.force_login(platform_admin)
    return client


def test_empty_states(admin_client):
    html = admin_client.get(PACKAGES).content.decode()
    assert "No packages yet" in html and "No customer has a package yet" in html


def test_package_create_and_edit(admin_client):
    response = admin_client.post(
        reverse("inventory:package_create"), {"name": "Starter", "max_dids": "5", "active": "on"}
    )
    assert response.status_code == 302
    package = Package.objects.get(name="Starter")
    assert (package.max_dids, package.active) == (5, True)
    admin_client.post(
        reverse("inventory:package_edit", args=[package.pk]), {"name": "Starter", "max_dids": "10"}
    )
    package.refresh_from_db()
    assert (package.max_dids, package.active) == (10, False)


def test_package_max_must_be_a_positive_number(admin_client):
    response = admin_client.post(
        reverse("inventory:package_create"), {"name": "Bad", "max_dids": "-1"}
    )
    assert response.status_code == 200
    assert not Package.objects.exists()


def test_assign_a_package_to_a_customer(admin_client, customer, platform_admin):
    package = PackageFactory(name="Pro")
    response = admin_client.post(
        reverse("inventory:client_package_create"),
        {"account": customer.pk, "package": package.pk, "start_date": "2026-01-01"},
    )
    assert response.status_code == 302
    client_package = ClientPackage.objects.get()
    assert (client_package.account, client_package.start_date) == (customer, dt.date(2026, 1, 1))
    assert client_package.history.get().history_user == platform_admin
    assert customer.name in admin_client.get(PACKAGES).content.decode()


def test_inactive_package_is_not_offered(admin_client, customer):
    package = PackageFactory(active=False)
    response = admin_client.post(
        reverse("inventory:client_package_create"),
        {"account": customer.pk, "package": package.pk, "start_date": "2026-01-01"},
    )
    assert response.status_code == 200
    assert not ClientPackage.objects.exists()


def test_deactivate_confirms_then_puts_numbers_on_hold(admin_client, make_did, customer):
    client_package = ClientPackageFactory(account=customer, package=PackageFactory(max_dids=5))
    dids = [make_did(status="active", client_package=client_package) for _ in range(3)]
    url = reverse("inventory:client_package_deactivate", args=[client_package.pk])

    confirm = admin_client.get(url).content.decode()
    assert "3 active numbers will go on hold at once" in confirm
    assert all(d.status == "active" for d in ClientPackage.objects.get().dids.all())

    response = admin_client.post(url, follow=True)
    assert "deactivated" in response.content.decode()
    client_package.refresh_from_db()
    assert not client_package.active
    for did in dids:
        did.refresh_from_db()
        assert (did.status, did.owner) == ("hold", customer)


def test_reactivate_brings_held_numbers_back(admin_client, make_did, customer):
    client_package = ClientPackageFactory(account=customer, active=False)
    did = make_did(status="hold", client_package=client_package)
    url = reverse("inventory:client_package_reactivate", args=[client_package.pk])
    assert "1 number on hold under this package" in admin_client.get(url).content.decode()
    admin_client.post(url)
    did.refresh_from_db()
    assert did.status == "active"


def test_deactivating_an_inactive_package_is_404(admin_client, customer):
    client_package = ClientPackageFactory(account=customer, active=False)
    url = reverse("inventory:client_package_deactivate", args=[client_package.pk])
    assert admin_client.post(url).status_code == 404


def test_stock_summary(make_did):
    make_did()
    make_did(status="active")
    assert stock_summary() == {
        "in_stock": 1,
        "reserved": 0,
        "active": 1,
        "hold": 0,
        "archive": 0,
        "awaiting_registration": 0,
    }
