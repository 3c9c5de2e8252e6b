"""Posting fields a form does not offer (a price, an owner, a parent, an account, a
discount, a kind, a reseller …) changes nothing: each form parses the fields it has and the
services take what the request's user is, never what the request says it is."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account, User
from billing.selectors import balance_for
from tests.billing.factories import fund
from tests.factories import AccountFactory, UserFactory, platform

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    root = platform()
    a = AccountFactory(kind="reseller", name="Reseller A")
    b = AccountFactory(kind="reseller", name="Reseller B")
    return {
        "platform": root,
        "a": a,
        "b": b,
        "a_admin": UserFactory(account=a, role="reseller_admin"),
        "b_customer": AccountFactory(parent=b, name="B's customer"),
        "direct_admin": UserFactory(role="customer_admin"),
    }


def extras(world, **over):
    """Every field someone might try to slip in, pointing at another tenant."""
    other = world["b"].pk
    return {
        "price": "0.01",
        "recurring_price": "0.01",
        "setup_fee": "0",
        "amount": "0",
        "gross": "0",
        "owner": other,
        "parent": other,
        "parent_id": other,
        "account": other,
        "account_id": other,
        "reseller": other,
        "discount": "99",
        "wholesale_discount": "99",
        "kind": "platform",
        "status": "suspended",
        "signup_code": "mine",
        "is_staff": "on",
        "is_superuser": "on",
        "currency": "EUR",
        **over,
    }


def test_customer_create_ignores_parent_kind_discount(client, world):
    client.force_login(world["a_admin"])
    form = {
        "company_name": "Sneaky GmbH",
        "country": "DE",
        "admin_name": "Sam",
        "admin_email": "sam@sneaky.example",
    }
    response = client.post(reverse("accounts:customer_create"), extras(world, **form))
    assert response.status_code == 302
    created = Account.objects.get(name="Sneaky GmbH")
    assert (created.kind, created.parent, created.status) == ("customer", world["a"], "active")
    assert created.wholesale_discount == 0 and created.signup_code is None
    assert User.objects.get(email="sam@sneaky.example").role == "customer_admin"


@pytest.mark.parametrize("who", ["a_admin", "direct_admin"])
def test_settings_change_only_the_billing_identity(client, world, who):
    user = world[who]
    account = user.account
    before = (account.kind, account.parent_id, account.status, account.signup_code)
    client.force_login(user)
    form = {"name": "New name", "legal_name": "New legal", "country": "DE", "address": "x"}
    response = client.post(reverse("accounts:settings"), extras(world, **form))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "New name"
    assert (account.kind, account.parent_id, account.status, account.signup_code) == before
    assert account.wholesale_discount == 0  # a reseller cannot give itself a discount
    assert account.currency == "USD"


def test_team_add_stays_in_the_own_account_and_cannot_make_staff(client, world):
    client.force_login(world["a_admin"])
    form = {"full_name": "Tom", "email": "tom@a.example", "role": "reseller_support"}
    response = client.post(reverse("accounts:team_add"), extras(world, **form))
    assert response.status_code == 302
    tom = User.objects.get(email="tom@a.example")
    assert (tom.account, tom.role, tom.is_staff, tom.is_superuser) == (
        world["a"],
        "reseller_support",
        False,
        False,
    )


@pytest.mark.parametrize("role", ["platform_admin", "platform_finance", "customer_admin"])
def test_team_add_refuses_a_role_of_another_kind_of_account(client, world, role):
    client.force_login(world["a_admin"])
    form = {"full_name": "Eve", "email": "eve@a.example", "role": role}
    response = client.post(reverse("accounts:team_add"), extras(world, **form))
    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(email="eve@a.example").exists()


def test_team_edit_cannot_move_a_user_or_make_staff(client, world):
    member = UserFactory(account=world["a"], role="reseller_support")
    client.force_login(world["a_admin"])
    form = {"full_name": "Moved?", "role": "reseller_finance", "is_active": "on"}
    response = client.post(reverse("accounts:team_edit", args=[member.pk]), extras(world, **form))
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.account, member.role, member.is_staff) == (world["a"], "reseller_finance", False)


def test_reseller_create_ignores_kind_parent_status(client, world):
    admin = UserFactory(account=world["platform"], role="platform_admin")
    client.force_login(admin)
    form = {
        "name": "Green Lines",
        "country": "DE",
        "wholesale_discount": "5",
        "admin_name": "Gus",
        "admin_email": "gus@green.example",
    }
    response = client.post(reverse("accounts:reseller_create"), extras(world, **form))
    assert response.status_code == 302
    created = Account.objects.get(name="Green Lines")
    assert (created.kind, created.parent, created.status) == (
        "reseller",
        world["platform"],
        "active",
    )
    assert created.wholesale_discount == Decimal("5.00") and created.signup_code != "mine"


def test_reseller_discount_form_changes_only_the_discount(client, world):
    admin = UserFactory(account=world["platform"], role="platform_admin")
    client.force_login(admin)
    url = reverse("accounts:reseller_discount", args=[world["a"].pk])
    client.post(url, extras(world, wholesale_discount="3", name="Renamed"))
    world["a"].refresh_from_db()
    assert world["a"].wholesale_discount == Decimal("3.00")
    assert (world["a"].name, world["a"].status, world["a"].parent) == (
        "Reseller A",
        "active",
        world["platform"],
    )


def _buy(client, user, block, **sneaky):
    client.force_login(user)
    client.post(reverse("cart:add"), {"block": block.pk, "quantity": 1, **sneaky})
    page = client.get(reverse("cart:checkout"))
    token = page.context["token"]
    client.post(reverse("cart:checkout"), {"token": token, **sneaky})
    return user.account.orders.get()


def test_cart_add_and_checkout_ignore_price_owner_and_account(client, world):
    from tests.inventory.factories import DIDFactory

    buyer = world["direct_admin"]
    twin = UserFactory(role="customer_admin")  # buys the same, honestly
    fund(buyer.account, "100.00")
    fund(twin.account, "100.00")
    block = DIDFactory().block
    DIDFactory(block=block)
    bystander_balance = balance_for(world["b_customer"])

    order = _buy(client, buyer, block, **extras(world, account=world["b_customer"].pk))
    honest = _buy(client, twin, block)

    assert order.status == honest.status == "completed"
    assert order.account == buyer.account and order.placed_by == buyer
    assert (order.net, order.gross) == (honest.net, honest.gross)
    assert order.gross > 0
    assert balance_for(buyer.account) == Decimal("100.00") - order.gross
    assert balance_for(world["b_customer"]) == bystander_balance
    numbers = buyer.account.dids.all()
    assert numbers.count() == 1 and world["b"].dids.count() == 0


def test_price_rule_lands_in_the_own_price_list_whatever_is_posted(client, world):
    from catalog.models import MarkupRule

    client.force_login(world["a_admin"])
    form = {"scope": "default", "recurring_percent": "20", "rounding": "none", "action": "save"}
    for part in ("setup", "recurring", "extra_channel", "rate", "connection"):
        form.setdefault(f"{part}_percent", "0")
        form.setdefault(f"{part}_fixed", "0")
    response = client.post(reverse("catalog:price_rule_new"), extras(world, **form))
    assert response.status_code == 302, response.content.decode()[:2000]
    (rule,) = MarkupRule.objects.all()
    assert rule.reseller == world["a"] and rule.recurring_percent == 20
    world["a"].refresh_from_db()
    assert world["a"].wholesale_discount == 0  # "discount"/"wholesale_discount" ignored
