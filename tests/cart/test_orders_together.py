"""order_place sells an order's numbers together: the statements an order sends do not
grow with its numbers, and every number keeps what a number sold on its own had (history,
subscription and start event, its own debit and charge, invoice lines, webhook event)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import LedgerEntry, Subscription, SubscriptionCharge, SubscriptionEvent
from billing.selectors import balance_for, balance_mismatches
from cart import services as cart_services
from cart.orders import order_place
from didportal.crypto import encrypt
from inventory.models import DID
from tests.billing.factories import fund
from webhooks.models import Delivery, Endpoint

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def buyer(customer_admin):
    fund(customer_admin.account, "500.00")
    return customer_admin


def _order(user, block, quantity, token):
    cart_services.cart_add_any(user=user, block=block, quantity=quantity)
    with CaptureQueriesContext(connection) as sent:
        order = order_place(user=user, token=token)
    assert order.status == "completed"
    return order, len(sent.captured_queries)


def test_an_orders_statements_do_not_grow_with_its_numbers(buyer, blocks):
    _order(buyer, blocks["amsterdam"], 1, "first")  # makes the invoice sequence's year row
    _, one = _order(buyer, blocks["amsterdam"], 1, "one")
    _, six = _order(buyer, blocks["amsterdam"], 6, "six")

    assert six == one


def test_each_number_of_an_order_is_booked_as_if_sold_alone(buyer, blocks):
    Endpoint.objects.create(  # made directly: the SSRF guard would look the host up
        account=buyer.account,
        url="https://hooks.example.com/didportal",
        events=["number.activated", "order.completed"],
        secret_encrypted=encrypt("whsec_together"),
        secret_hint="whsec_tog…",
    )
    order, _ = _order(buyer, blocks["amsterdam"], 3, "three")

    items = list(order.items.order_by("position").select_related("did", "subscription"))
    assert [item.position for item in items] == [1, 2, 3]
    for item in items:
        did, subscription = item.did, item.subscription
        assert (did.status, did.owner_id) == ("active", buyer.account_id)
        history = did.history.order_by("history_date", "history_id").last()
        assert history.history_change_reason == f"sold in order {order.pk}"
        assert history.history_user_id == buyer.pk and history.status == "active"
        assert subscription.idempotency_key == f"order:{order.pk}:item:{item.position}"
        assert (subscription.status, subscription.did_id) == ("active", did.pk)
        event = SubscriptionEvent.objects.get(subscription=subscription)
        assert (event.from_status, event.to_status, event.actor_id) == ("", "active", buyer.pk)
        charge = SubscriptionCharge.objects.get(subscription=subscription)
        assert (charge.amount, charge.net, charge.vat) == (item.gross, item.net, item.vat)
        entry = charge.ledger_entry
        assert entry.idempotency_key == f"subscription:{subscription.pk}:period:0"
        assert (entry.amount, entry.created_by_id) == (-item.gross, buyer.pk)
        assert entry.reference_id == str(subscription.pk)
    entries = LedgerEntry.objects.filter(account=buyer.account, kind="charge").order_by("pk")
    assert [e.balance_after for e in entries] == [
        Decimal("500.00") - sum(item.gross for item in items[: n + 1]) for n in range(3)
    ]
    assert balance_for(buyer.account) == Decimal("500.00") - order.gross
    invoiced = set(order.invoice.lines.values_list("subscription_charge__subscription", flat=True))
    assert invoiced == {item.subscription_id for item in items}
    assert order.invoice.gross == order.gross
    events = list(Delivery.objects.filter(account=buyer.account).values_list("event", flat=True))
    assert sorted(events) == ["number.activated"] * 3 + ["order.completed"]
    assert Subscription.objects.filter(account=buyer.account).count() == 3
    assert DID.objects.filter(owner=buyer.account).count() == 3
    assert list(balance_mismatches()) == []
