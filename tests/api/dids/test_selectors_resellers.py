"""api.selectors_resellers: whose records a list reads, for every kind of key."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.test import APIRequestFactory

from api.selectors_resellers import customer_for, customers_of, owner_for, records_owner
from tests.api.conftest import key_for
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(reseller):
    mine = AccountFactory(kind="customer", parent=reseller, name="B customer")
    also_mine = AccountFactory(kind="customer", parent=reseller, name="A customer")
    foreign = AccountFactory(kind="customer", parent=AccountFactory(kind="reseller"))
    return reseller, mine, also_mine, foreign


def request_for(user, query=""):
    key, _secret = key_for(user)
    request = APIRequestFactory().get(f"/v3/orders{query}")
    from rest_framework.request import Request  # noqa: PLC0415

    wrapped = Request(request)
    wrapped.user, wrapped.auth = user, key
    return wrapped


def test_customers_of_a_reseller_only(tree, customer_admin):
    reseller, mine, also_mine, _foreign = tree
    admin = UserFactory(account=reseller, role="reseller_admin")
    assert list(customers_of(admin)) == [also_mine, mine]  # by name
    assert not customers_of(customer_admin).exists()
    assert customer_for(admin, str(mine.pk)) == mine
    for bad in ("", "x", "-1", "1.0", "9" * 30, reseller.pk, customer_admin.account_id):
        with pytest.raises(Http404):
            customer_for(admin, bad)


@pytest.mark.parametrize(
    ("role", "dids", "orders"),
    [
        ("reseller_admin", True, True),
        ("reseller_support", True, True),
        ("reseller_finance", False, True),
    ],
)
def test_what_each_reseller_role_reads_of_its_customers(tree, role, dids, orders):
    reseller, mine, _also, foreign = tree
    user = UserFactory(account=reseller, role=role)
    for kind, allowed in (("dids", dids), ("exports", dids), ("orders", orders)):
        if allowed:
            assert owner_for(user, mine.pk, kind) == mine
        else:
            with pytest.raises(PermissionDenied):
                owner_for(user, mine.pk, kind)
        with pytest.raises(Http404):
            owner_for(user, foreign.pk, kind)


def test_records_owner_reads_the_filter_for_the_orders_view(tree, customer_admin):
    reseller, mine, _also, foreign = tree
    admin = UserFactory(account=reseller, role="reseller_admin")
    assert records_owner(request_for(admin), "orders") == reseller
    assert records_owner(request_for(admin, f"?filter[customer.id]={mine.pk}"), "orders") == mine
    with pytest.raises(Http404):
        records_owner(request_for(admin, f"?filter[customer.id]={foreign.pk}"), "orders")
    assert records_owner(request_for(customer_admin), "orders") == customer_admin.account
    with pytest.raises(Http404):
        records_owner(request_for(customer_admin, f"?filter[customer.id]={mine.pk}"), "orders")
