"""Item 16: customer roles as users expect them, enforced in the services.

- admin (the owner): money, team, every number;
- member: sets where calls go for the numbers assigned to them; buys (numbers, channels on
  their numbers) only when an admin switched on "may buy";
- billing (accountants): balance, invoices, top-up details; no buying, no number changes;
- a stranger (another tenant's admin): nothing.
"""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import User
from billing.models import Subscription
from billing.services.capacity import capacity_reduce, number_rental_cancel
from cart.models_orders import Order
from cart.orders import order_place
from cart.services import cart_add_any
from inventory.customer import did_destination_set, did_users_assign
from tests.billing.factories import fund
from tests.billing.test_capacity import add as capacity_add
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import UserFactory
from tests.inventory.factories import DIDFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer_member(customer):
    return UserFactory(account=customer, role="customer_member", may_buy=True)


@pytest.fixture
def accountant(customer):
    return UserFactory(account=customer, role="customer_billing")


@pytest.fixture
def rental(customer, customer_admin, customer_member, buyer_member):
    """A rented number of the customer, assigned to both members."""
    fund(customer, "200.00")
    sub = start(customer, did=held_did(customer), unit="month", price="3.00", channels=2)
    did_users_assign(did=sub.did, actor=customer_admin, users=[customer_member, buyer_member])
    return sub


def forwarding(did, actor, destination="+31205550100"):
    return did_destination_set(did=did, actor=actor, destination=destination, ring_timeout=None)


# --- Buying ---------------------------------------------------------------------------------


def test_admin_and_allowed_member_may_buy(customer, customer_admin, buyer_member):
    fund(customer, "100.00")
    for user in (customer_admin, buyer_member):
        cart_add_any(user=user, block=DIDFactory().block, quantity=1)
    order = order_place(user=buyer_member, token="member-order")
    assert order.account_id == customer.pk


@pytest.mark.parametrize("role", ["customer_member", "customer_billing"])
def test_member_without_permission_and_billing_user_cannot_buy(customer, role):
    user = UserFactory(account=customer, role=role)
    with pytest.raises(PermissionDenied, match="not allowed you to buy"):
        cart_add_any(user=user, block=DIDFactory().block, quantity=1)


def test_a_member_whose_permission_was_withdrawn_cannot_check_out(customer, buyer_member):
    fund(customer, "100.00")
    cart_add_any(user=buyer_member, block=DIDFactory().block, quantity=1)
    buyer_member.may_buy = False
    buyer_member.save()
    with pytest.raises(PermissionDenied):
        order_place(user=buyer_member, token="withdrawn")
    assert not Order.objects.filter(account=customer).exists()


def test_stranger_cannot_buy_for_another_account(stranger):
    # A stranger buys only for their own account: their cart is theirs; nothing to reach.
    fund(stranger.account, "100.00")
    cart_add_any(user=stranger, block=DIDFactory().block, quantity=1)
    order = order_place(user=stranger, token="own")
    assert order.account_id == stranger.account_id


# --- Where calls go -------------------------------------------------------------------------


def test_admin_and_assigned_member_set_forwarding(rental, customer_admin, customer_member):
    assert forwarding(rental.did, customer_admin).destination == "+31205550100"
    assert forwarding(rental.did, customer_member, "+31205550200").destination == ("+31205550200")


def test_unassigned_member_billing_user_and_stranger_cannot_set_forwarding(
    rental, customer, accountant, stranger
):
    unassigned = UserFactory(account=customer, role="customer_member", may_buy=True)
    for actor in (unassigned, accountant, stranger):
        with pytest.raises(PermissionDenied):
            forwarding(rental.did, actor)
    rental.did.refresh_from_db()
    assert rental.did.destination == ""


def test_only_admins_assign_numbers(rental, customer_member, accountant):
    for actor in (customer_member, accountant):
        with pytest.raises(PermissionDenied):
            did_users_assign(did=rental.did, actor=actor, users=[actor])


# --- Channels and cancelling ----------------------------------------------------------------


def test_channels_need_the_buy_permission_on_an_assigned_number(
    rental, customer_admin, customer_member, buyer_member, accountant, stranger
):
    for actor in (customer_member, accountant, stranger):
        with pytest.raises(PermissionDenied):
            capacity_add(rental, 1, actor=actor)
        with pytest.raises(PermissionDenied):
            capacity_reduce(number_subscription=rental, channels=2, actor=actor)
    assert capacity_add(rental, 1, actor=buyer_member).channels == 1
    assert capacity_add(rental, 1, actor=customer_admin).channels == 1


def test_only_admins_cancel_a_number(rental, customer_admin, buyer_member, accountant, stranger):
    for actor in (buyer_member, accountant, stranger):
        with pytest.raises(PermissionDenied):
            number_rental_cancel(number_subscription=rental, actor=actor)
    cancelled = number_rental_cancel(number_subscription=rental, actor=customer_admin)
    assert cancelled.status == Subscription.Status.CANCELLED


# --- Pages ----------------------------------------------------------------------------------


def page(client, user, name, *args):
    client.force_login(user)
    return client.get(reverse(name, args=args))


def test_billing_user_sees_money_pages_and_numbers_read_only(client, accountant, rental):
    for name in ("billing:balance", "billing:invoices", "cart:orders", "cart:my_numbers"):
        assert page(client, accountant, name).status_code == 200, name
    detail = page(client, accountant, "cart:my_number", rental.did_id).content.decode()
    assert 'id="destination-form"' not in detail and 'id="channels-form"' not in detail
    assert 'href="/cart/"' not in page(client, accountant, "billing:balance").content.decode()
    response = client.post(
        reverse("cart:my_number_destination", args=[rental.did_id]),
        {"destination": "+31205550100", "ring": "forever"},
    )
    assert response.status_code == 403


def test_assigned_member_sets_forwarding_on_the_page(client, customer_member, rental):
    detail = page(client, customer_member, "cart:my_number", rental.did_id).content.decode()
    assert 'id="destination-form"' in detail
    assert 'id="users-form"' not in detail and "Cancel number" not in detail
    assert 'id="channels-form"' not in detail  # may not buy
    response = client.post(
        reverse("cart:my_number_destination", args=[rental.did_id]),
        {"destination": "+31205550100", "ring": "forever"},
    )
    assert response.status_code == 302
    rental.did.refresh_from_db()
    assert rental.did.destination == "+31205550100"


def test_buying_member_sees_the_channels_form(client, buyer_member, rental):
    detail = page(client, buyer_member, "cart:my_number", rental.did_id).content.decode()
    assert 'id="channels-form"' in detail and 'id="destination-form"' in detail


def test_members_who_may_not_buy_have_no_cart_in_the_menu(client, customer_member, buyer_member):
    assert 'href="/cart/"' not in page(client, customer_member, "dashboard").content.decode()
    assert 'href="/cart/"' in page(client, buyer_member, "dashboard").content.decode()


# --- The team page --------------------------------------------------------------------------


def test_admin_adds_a_member_who_may_buy_and_an_accountant(client, customer_admin):
    client.force_login(customer_admin)
    form = client.get(reverse("accounts:team_add")).content.decode()
    assert "May buy numbers" in form and "Billing (accountant)" in form
    client.post(
        reverse("accounts:team_add"),
        {
            "full_name": "Mia",
            "email": "mia@example.test",
            "role": "customer_member",
            "may_buy": "on",
        },
    )
    client.post(
        reverse("accounts:team_add"),
        {
            "full_name": "Abe",
            "email": "abe@example.test",
            "role": "customer_billing",
            "may_buy": "on",
        },
    )
    mia = User.objects.get(email="mia@example.test")
    abe = User.objects.get(email="abe@example.test")
    assert (mia.role, mia.may_buy) == ("customer_member", True)
    assert (abe.role, abe.may_buy) == ("customer_billing", False)  # the switch is members' only
    team = re.sub(r"\s+", " ", client.get(reverse("accounts:team")).content.decode())
    assert "Allowed" in team


def test_admin_switches_may_buy_off(client, customer_admin, buyer_member):
    client.force_login(customer_admin)
    response = client.post(
        reverse("accounts:team_edit", args=[buyer_member.pk]),
        {"full_name": buyer_member.full_name, "role": "customer_member", "is_active": "on"},
    )
    assert response.status_code == 302
    buyer_member.refresh_from_db()
    assert buyer_member.may_buy is False


def test_members_and_accountants_do_not_manage_the_team(client, customer_member, accountant):
    for user in (customer_member, accountant):
        assert page(client, user, "accounts:team").status_code == 403


def test_add_to_cart_tells_a_member_who_may_not_buy_why(client, customer_member):
    client.force_login(customer_member)
    block = DIDFactory().block
    response = client.post(reverse("cart:add"), {"block": block.pk, "quantity": 1}, follow=True)
    assert "has not allowed you to buy numbers" in response.content.decode()
    htmx = client.post(
        reverse("cart:add"), {"block": block.pk, "quantity": 1}, HTTP_HX_REQUEST="true"
    )
    assert htmx.status_code == 200 and "has not allowed you to buy" in htmx.content.decode()
