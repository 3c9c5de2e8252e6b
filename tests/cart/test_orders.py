"""order_place: one transaction that sells, charges, subscribes, invoices and records."""

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.signals import template_rendered
from django.urls import reverse

from accounts.codes import confirmation_code_send
from billing.models import Invoice, LedgerEntry, Subscription
from billing.selectors import balance_for, balance_mismatches
from cart import services as cart_services
from cart.models import CartItem
from cart.models_orders import Order
from cart.order_status import InvalidOrderTransition, order_transition
from cart.orders import CheckoutRefused, checkout_purpose, order_place
from compliance.models import RequirementAgreement
from compliance.services import requirement_save
from inventory.choices import DIDStatus
from inventory.models import DID
from inventory.services import did_transition
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.inventory.factories import ClientPackageFactory, PackageFactory

pytestmark = pytest.mark.django_db

MUNICH_1 = "+4989555000"
MUNICH_2 = "+4989555001"


@pytest.fixture
def buyer(customer_admin):
    fund(customer_admin.account, "100.00")
    return customer_admin


def add(user, *numbers, channels=None, period=None):
    cart_services.cart_add_numbers(
        user=user, numbers=list(numbers), channels=channels, billing_period=period
    )


def test_a_number_is_sold_charged_subscribed_and_invoiced(buyer, blocks):
    # Munich: setup 5.00, monthly 3.00 with 2 channels, 1.50 per extra channel; DE 19 %.
    add(buyer, MUNICH_1, channels=3, period="monthly")
    order = order_place(user=buyer, token="t1", ip_address="203.0.113.9")

    assert order.status == "completed"
    assert (order.net, order.vat, order.gross) == (
        Decimal("9.50"),
        Decimal("1.81"),  # 5.00 → 0.95, 4.50 → 0.855 → 0.86
        Decimal("11.31"),
    )
    item = order.items.get()
    did = DID.objects.get(number=MUNICH_1)
    assert (item.status, item.did, item.channels) == ("completed", did, 3)
    assert (did.status, did.owner, did.cart_held_until) == (DIDStatus.ACTIVE, buyer.account, None)
    sub = item.subscription
    assert (sub.recurring_price, sub.setup_fee, sub.channels, sub.period_unit) == (
        Decimal("4.50"),
        Decimal("5.00"),
        3,
        "month",
    )
    assert sub.next_renewal_at == sub.current_period_end
    assert balance_for(buyer.account) == Decimal("88.69")
    assert LedgerEntry.objects.filter(account=buyer.account, kind="charge").count() == 1
    assert order.invoice.gross == order.gross
    assert order.invoice.lines.count() == 2  # setup fee and first month
    assert not CartItem.objects.filter(cart__user=buyer).exists()
    mail = OutgoingEmail.objects.get(key=f"order-confirmation:{order.pk}")
    assert mail.to == [buyer.email]
    assert order.reference in mail.subject and "+49 89 555000" in mail.text + mail.html
    assert list(balance_mismatches()) == []


def test_the_same_token_returns_the_same_order_and_charges_once(buyer, blocks):
    add(buyer, MUNICH_1)
    first = order_place(user=buyer, token="same")
    add(buyer, MUNICH_2)  # a new cart line must not be bought by a replayed form
    again = order_place(user=buyer, token="same")
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert Subscription.objects.count() == 1
    assert CartItem.objects.filter(cart__user=buyer).count() == 1


def test_a_token_of_another_account_is_refused(buyer, blocks, stranger):
    add(buyer, MUNICH_1)
    order_place(user=buyer, token="mine")
    fund(stranger.account, "100.00")
    add(stranger, MUNICH_2)
    with pytest.raises(ValidationError, match="not valid"):
        order_place(user=stranger, token="mine")


def test_below_the_minimum_balance_nothing_happens(customer_admin, blocks):
    fund(customer_admin.account, "30.00")
    add(customer_admin, MUNICH_1)
    with pytest.raises(CheckoutRefused) as refused:
        order_place(user=customer_admin, token="t")
    assert (refused.value.balance, refused.value.minimum, refused.value.shortfall) == (
        Decimal("30.00"),
        Decimal("50.00"),
        Decimal("20.00"),
    )
    assert "30.00" in refused.value.messages[0] and "20.00" in refused.value.messages[0]
    assert not Order.objects.exists()
    did = DID.objects.get(number=MUNICH_1)
    assert (did.status, did.cart_held_by) == (DIDStatus.IN_STOCK, customer_admin)
    assert balance_for(customer_admin.account) == Decimal("30.00")


def test_the_balance_must_cover_the_total(customer_admin, blocks, settings):
    settings.MIN_PURCHASE_BALANCE = Decimal("0.00")
    fund(customer_admin.account, "11.30")  # one cent short of 11.31
    add(customer_admin, MUNICH_1, channels=3)
    with pytest.raises(CheckoutRefused) as refused:
        order_place(user=customer_admin, token="t")
    assert (refused.value.total, refused.value.shortfall) == (Decimal("11.31"), Decimal("0.01"))


def test_requirements_must_be_agreed_and_are_recorded(buyer, blocks, platform_admin):
    requirement = requirement_save(
        actor=platform_admin, country="DE", number_type="local", title="Local address", text="..."
    )
    blocks["munich"].requirement = requirement
    blocks["munich"].save()
    add(buyer, MUNICH_1)
    with pytest.raises(ValidationError, match="Local address"):
        order_place(user=buyer, token="t")
    assert not Order.objects.exists()
    order = order_place(
        user=buyer, token="t", agreed={requirement.pk: requirement.version}, ip_address="::1"
    )
    agreement = RequirementAgreement.objects.get()
    assert (agreement.order_id, agreement.user, agreement.requirement_version) == (
        order.pk,
        buyer,
        requirement.version,
    )
    assert agreement.ip_address == "::1"


def test_a_number_sold_meanwhile_fails_uncharged(buyer, blocks, stranger):
    add(buyer, MUNICH_1, MUNICH_2)
    taken = DID.objects.get(number=MUNICH_2)
    did_transition(did=taken, to_status="active", owner=stranger.account, job="t", reason="sold")
    order = order_place(user=buyer, token="t")
    assert order.status == "partial"
    failed = order.items.get(status="failed")
    assert failed.did == taken and "no longer available" in failed.failure_reason
    assert (failed.gross, failed.subscription) == (Decimal("0.00"), None)
    assert order.gross == order.items.get(status="completed").gross
    assert balance_for(buyer.account) == Decimal("100.00") - order.gross


def test_any_n_takes_free_numbers_and_fails_the_rest(buyer, blocks):
    cart_services.cart_add_any(user=buyer, block=blocks["munich"], quantity=5)
    for number in (MUNICH_1, MUNICH_2):
        did = DID.objects.get(number=number)
        did_transition(did=did, to_status="reserved", job="t", reason="kept back")
    order = order_place(user=buyer, token="t")
    assert order.items.filter(status="completed").count() == 3
    assert order.items.filter(status="failed").count() == 2
    assert DID.objects.filter(owner=buyer.account, status="active").count() == 3


def test_package_limit_is_enforced(buyer, blocks):
    package = PackageFactory(max_dids=2, limits_self_service=True)
    ClientPackageFactory(account=buyer.account, package=package)
    add(buyer, MUNICH_1, MUNICH_2)
    package.max_dids = 1  # lowered after the numbers went into the cart
    package.save()
    with pytest.raises(ValidationError, match="allows 1 number: you hold 0"):
        order_place(user=buyer, token="t")
    assert not DID.objects.filter(owner=buyer.account).exists()


def test_transaction_code_is_required_above_the_limit(buyer, blocks, settings, mailoutbox):
    settings.CHECKOUT_CODE_ABOVE = Decimal("5.00")
    add(buyer, MUNICH_1)
    with pytest.raises(ValidationError, match="code"):
        order_place(user=buyer, token="t")
    confirmation_code_send(user=buyer, purpose=checkout_purpose("t"))
    code = OutgoingEmail.objects.filter(to=[buyer.email]).latest("pk").text
    digits = next(word for word in code.split() if word.isdigit() and len(word) == 6)
    with pytest.raises(ValidationError):
        order_place(user=buyer, token="t", code="000000" if digits != "000000" else "111111")
    assert order_place(user=buyer, token="t", code=digits).status == "completed"


def test_empty_cart_and_other_roles(buyer, platform_admin, blocks):
    with pytest.raises(ValidationError, match="empty"):
        order_place(user=buyer, token="t")
    with pytest.raises(Exception):  # noqa: B017 (PermissionDenied)
        order_place(user=platform_admin, token="t2")
    assert not Invoice.objects.exists()


@pytest.mark.postgres
def test_a_number_still_in_service_fails_its_item_not_the_order(client, buyer, blocks, stranger):
    """Issue 10 #1: an item that hits a constraint (here ``subscription_one_live_per_did``)
    fails with its reason; the rest of the order is sold. The release service no longer
    leaves a live subscription on a number in stock, so the row is moved back to stock
    with a raw UPDATE, standing for any constraint one item can hit."""
    fund(stranger.account, "100.00")
    add(stranger, MUNICH_2)
    order_place(user=stranger, token="first-buyer")
    DID.objects.filter(number=MUNICH_2).update(status="in_stock", owner=None)
    released = DID.objects.get(number=MUNICH_2)
    assert Subscription.objects.filter(did=released, status="active").exists()

    add(buyer, MUNICH_1, MUNICH_2)
    order = order_place(user=buyer, token="t")

    assert order.status == "partial"
    sold, failed = order.items.order_by("position")
    assert (sold.status, sold.did.number) == ("completed", MUNICH_1)
    assert (failed.status, failed.did, failed.gross) == ("failed", released, Decimal("0.00"))
    assert "still being ended" in failed.failure_reason
    client.force_login(buyer)
    page = client.get(reverse("cart:order_complete", args=[order.pk])).content.decode()
    assert "+49 89 555001" in page and failed.failure_reason in page
    released.refresh_from_db()
    assert (released.status, released.owner) == (DIDStatus.IN_STOCK, None)
    assert order.gross == sold.gross and order.invoice.gross == sold.gross
    assert balance_for(buyer.account) == Decimal("100.00") - sold.gross
    assert list(balance_mismatches()) == []


@pytest.mark.postgres
def test_the_invoice_number_is_taken_last(buyer, blocks, platform_admin):
    """Issue 10 #6: after the invoice sequence is locked, only the invoice's own rows, the
    order's link to it and the queued e-mail are written; nothing is rendered."""
    requirement = requirement_save(
        actor=platform_admin, country="DE", number_type="local", title="Local address", text="..."
    )
    blocks["munich"].requirement = requirement
    blocks["munich"].save()
    add(buyer, MUNICH_1)
    events = []

    def record_sql(execute, sql, params, many, context):
        events.append(("sql", sql))
        return execute(sql, params, many, context)

    def record_render(sender, template, **kwargs):
        events.append(("render", template.name))

    template_rendered.connect(record_render)
    try:
        with connection.execute_wrapper(record_sql):
            order = order_place(user=buyer, token="t", agreed={requirement.pk: requirement.version})
    finally:
        template_rendered.disconnect(record_render)

    first = next(i for i, (kind, sql) in enumerate(events) if "billing_invoicesequence" in sql)
    after = events[first:]
    assert [name for kind, name in after if kind == "render"] == []
    tables = {
        table
        for kind, sql in after
        if kind == "sql"
        for table in re.findall(r'(?:FROM|INTO|UPDATE|JOIN)\s+"(\w+)"', sql)
    }
    assert tables <= {
        "billing_invoicesequence",
        "billing_invoice",
        "billing_invoiceline",
        "cart_order",
        "outbox_outgoingemail",
    }, tables
    assert RequirementAgreement.objects.filter(order_id=order.pk).exists()
    mail = OutgoingEmail.objects.get(key=f"order-confirmation:{order.pk}")
    assert f"Invoice: {order.invoice.number}" in mail.text
    assert f"Invoice {order.invoice.number} is in your portal" in mail.html


def test_order_statuses_move_through_the_table_with_history(client, buyer, blocks, stranger):
    """Issue 10 #7: placed (pending), then completed / partial / failed, each move a row."""
    add(buyer, MUNICH_1, MUNICH_2)
    taken = DID.objects.get(number=MUNICH_2)
    did_transition(did=taken, to_status="active", owner=stranger.account, job="t", reason="sold")
    order = order_place(user=buyer, token="t")

    history = list(order.status_changes.values_list("from_status", "to_status", "actor", "reason"))
    assert history == [
        ("", "pending", buyer.pk, "placed at checkout"),
        ("pending", "partial", buyer.pk, "1 of 2 items failed"),
    ]
    with pytest.raises(InvalidOrderTransition, match="from partial to completed"):
        order_transition(order=order, to_status="completed", job="t", reason="retry")
    assert Order.objects.get(pk=order.pk).status == "partial"
    assert order.status_changes.count() == 2
    client.force_login(buyer)
    page = client.get(reverse("cart:order", args=[order.pk])).content.decode()
    assert "1 of 2 items failed" in page and "placed at checkout" in page


def test_an_order_where_nothing_could_be_sold_is_failed_in_its_history(buyer, blocks, stranger):
    add(buyer, MUNICH_1)
    taken = DID.objects.get(number=MUNICH_1)
    did_transition(did=taken, to_status="active", owner=stranger.account, job="t", reason="sold")
    order = order_place(user=buyer, token="t")
    assert (order.status, order.gross, order.invoice) == ("failed", Decimal("0.00"), None)
    assert list(order.status_changes.values_list("to_status", "reason")) == [
        ("pending", "placed at checkout"),
        ("failed", "no number could be sold"),
    ]
    mail = OutgoingEmail.objects.get(key=f"order-confirmation:{order.pk}")
    assert "Invoice" not in mail.text and "[[" not in mail.text + mail.html


def test_the_invoice_names_its_order_by_reference_with_a_link(client, buyer, blocks, finance_user):
    """Issue 10, item 23: not "For Order 1" but the order's ORD-… reference, linked."""
    add(buyer, MUNICH_1)
    order = order_place(user=buyer, token="t-ref")
    link = f'<a href="/cart/orders/{order.pk}/">Order {order.reference}</a>'
    for user in (buyer, finance_user):
        client.force_login(user)
        detail = client.get(f"/billing/invoices/{order.invoice.pk}/").content.decode()
        assert link in detail
        assert client.get(f"/cart/orders/{order.pk}/").status_code == 200
    client.force_login(buyer)
    assert link in client.get("/billing/invoices/").content.decode()
