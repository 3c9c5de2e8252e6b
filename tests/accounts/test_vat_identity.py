"""One check of an account's country and VAT number for every writer (issue 10, item 12)."""

import pytest
from django.contrib.admin.helpers import AdminForm
from django.forms import MultiWidget
from django.urls import reverse

from accounts.demo import seed_accounts
from accounts.models import Account, User
from accounts.services import account_create
from tests.factories import AccountFactory, platform

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client):
    ops = User.objects.create_superuser(email="ops@example.test", password="x")
    client.force_login(ops)
    return client


def admin_post_data(client, account, **changes):
    """The admin change form of ``account`` as the browser would post it, with ``changes``."""
    url = reverse("admin:accounts_account_change", args=[account.pk])
    response = client.get(url)
    assert response.status_code == 200
    admin_form = response.context["adminform"]
    assert isinstance(admin_form, AdminForm)
    data = {}
    for name, field in admin_form.form.fields.items():
        value = admin_form.form.initial.get(name, field.initial)
        if isinstance(field.widget, MultiWidget):  # the date and time of created_at
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{index}"] = str(part)
        else:
            data[name] = "" if value is None else value
    data.update(changes)
    return url, data


def test_the_django_admin_refuses_a_vat_number_of_another_country(ops_client):
    account = AccountFactory(country="FR", vat_number="")
    for foreign in ("DE136695976", "DE123456789"):
        url, data = admin_post_data(ops_client, account, vat_number=foreign)
        response = ops_client.post(url, data)
        assert response.status_code == 200, "the admin form must be shown again"
        errors = response.context["adminform"].form.errors
        assert list(errors) == ["vat_number"], errors
    account.refresh_from_db()
    assert account.vat_number == ""


def test_the_django_admin_stores_the_normalised_number(ops_client):
    account = AccountFactory(country="FR", vat_number="")
    url, data = admin_post_data(ops_client, account, vat_number="40 303 265 045")
    response = ops_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    account.refresh_from_db()
    assert account.vat_number == "FR40303265045"


def test_services_and_demo_go_through_the_same_check():
    with pytest.raises(Exception, match="from DE"):
        account_create(
            kind=Account.Kind.CUSTOMER,
            name="Mismatch",
            parent=platform(),
            country="FR",
            vat_number="DE136695976",
        )
    for account in seed_accounts().values():  # the demo writes through account_create
        account.full_clean()
