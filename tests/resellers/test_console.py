"""The reseller's console: who opens which customer page, top-ups, statements, suspension,
acting on a customer's numbers, buying on its behalf, buying for itself at wholesale."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts import permissions
from billing import services as billing_services
from billing.models import LedgerEntry
from billing.selectors import balance_for
from cart.models import CartItem
from cart.models_orders import Order
from cart.orders import order_place
from cart.pricing import line_quote
from cart.services import cart_add_any
from catalog.pricing import wholesale_prices
from inventory.models import DID
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did
from tests.billing.test_subscriptions_helpers import start as _start

_numbers = iter(range(100000))


def start(account, **kw):
    """A running rental of a number outside the test block's range."""
    fund(account, "10.00")
    did = held_did(account, number=f"+4930111{next(_numbers):05d}")
    return _start(account, did=did, **kw)


pytestmark = pytest.mark.django_db

PAGES = ["statement", "statement_export", "numbers", "orders", "invoices", "buy"]
MONEY_PAGES = {"statement", "statement_export", "invoices"}
SERVICE_PAGES = {"numbers", "buy"}


def url(name, account):
    return reverse(f"resellers:{name}", args=[account.pk])


def expected_status(role, name):
    if role == "admin_a":
        return 200
    if role == "support_a":
        return 403 if name in MONEY_PAGES else 200
    if role == "finance_a":
        return 403 if name in SERVICE_PAGES else 200
    if role == "admin_b":
        return 404  # another reseller's customer: as if it did not exist
    return 403  # A's customer, a direct customer, platform finance: not a reseller's page


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize(
    "role",
    [
        "admin_a",
        "support_a",
        "finance_a",
        "admin_b",
        "a1_admin",
        "direct_admin",
        "platform_finance",
    ],
)
def test_who_opens_each_customer_page(client, world, name, role):
    client.force_login(getattr(world, role))
    assert client.get(url(name, world.a1)).status_code == expected_status(role, name)


@pytest.mark.parametrize("name", PAGES)
def test_a_reseller_reaches_no_direct_customer_nor_itself(client, world, name):
    client.force_login(world.admin_a)
    for account in (world.direct, world.a, world.b1, world.platform):
        assert client.get(url(name, account)).status_code == 404


def test_customer_detail_tabs_follow_the_role(client, world):
    detail = reverse("accounts:customer_detail", args=[world.a1.pk])
    client.force_login(world.support_a)
    text = client.get(detail).content.decode()
    assert url("numbers", world.a1) in text and url("statement", world.a1) not in text
    client.force_login(world.finance_a)
    text = client.get(detail).content.decode()
    assert url("statement", world.a1) in text and url("buy", world.a1) not in text
    client.force_login(world.admin_b)
    assert client.get(detail).status_code == 404


# --- Top-ups ---------------------------------------------------------------------------------


def _topup(user, account, reference):
    return billing_services.topup_record(
        account=account, amount=Decimal("25.00"), external_reference=reference, actor=user
    )


def test_who_records_a_topup_for_whom(world):
    assert _topup(world.finance_a, world.a1, "A-1").amount == Decimal("25.00")
    assert _topup(world.admin_a, world.a1, "A-2").amount == Decimal("25.00")
    assert _topup(world.platform_finance, world.a, "P-1").account == world.a
    assert _topup(world.platform_finance, world.direct, "P-2").account == world.direct
    refused = [
        (world.finance_a, world.b1),  # another reseller's customer
        (world.finance_a, world.a),  # the reseller's own balance: the platform's to record
        (world.finance_a, world.direct),
        (world.support_a, world.a1),  # support handles no money
        (world.platform_finance, world.a1),  # the reseller collects its customers' money
        (world.a1_admin, world.a1),
    ]
    for number, (user, account) in enumerate(refused):
        with pytest.raises(PermissionDenied):
            _topup(user, account, f"X-{number}")
    with pytest.raises(PermissionDenied):
        billing_services.adjustment_record(
            account=world.a1,
            amount=Decimal("5"),
            reason="x",
            actor=world.platform_finance,
            idempotency_key="adj-1",
        )
    assert balance_for(world.a1) == Decimal("50.00")
    assert (
        not LedgerEntry.objects.filter(account__in=[world.b1, world.a])
        .exclude(external_reference="P-1")
        .exists()
    )


def test_reseller_finance_tops_up_on_the_page_and_extra_fields_are_ignored(client, world):
    client.force_login(world.finance_a)
    response = client.post(
        url("topup", world.a1),
        {
            "token": "5b0c5d1e-7c55-4c1a-9d33-0a4f3b5a3e21",
            "amount": "30.00",
            "method": "bank_transfer",
            "external_reference": "RCPT-7",
            "account": world.b1.pk,
            "parent": world.b.pk,
            "owner": world.b1.pk,
            "price": "0.01",
        },
    )
    assert response.status_code == 302
    assert balance_for(world.a1) == Decimal("30.00")
    assert balance_for(world.b1) == Decimal("0.00")
    entry = LedgerEntry.objects.get(external_reference="RCPT-7")
    assert (entry.account, entry.created_by) == (world.a1, world.finance_a)
    # The same form posted twice credits once.
    client.post(
        url("topup", world.a1),
        {
            "token": "5b0c5d1e-7c55-4c1a-9d33-0a4f3b5a3e21",
            "amount": "30.00",
            "method": "bank_transfer",
            "external_reference": "RCPT-7",
        },
    )
    assert balance_for(world.a1) == Decimal("30.00")


def test_topup_page_refuses_support_and_other_resellers(client, world):
    data = {
        "token": "5b0c5d1e-7c55-4c1a-9d33-0a4f3b5a3e22",
        "amount": "1.00",
        "method": "bank_transfer",
        "external_reference": "R",
    }
    client.force_login(world.support_a)
    assert client.post(url("topup", world.a1), data).status_code == 403
    client.force_login(world.finance_b)
    assert client.post(url("topup", world.a1), data).status_code == 404
    assert balance_for(world.a1) == Decimal("0.00")


def test_a_reference_used_by_another_tenant_is_not_named(client, world):
    _topup(world.platform_finance, world.direct, "SHARED-1")
    client.force_login(world.finance_a)
    response = client.post(
        url("topup", world.a1),
        {
            "token": "5b0c5d1e-7c55-4c1a-9d33-0a4f3b5a3e23",
            "amount": "1.00",
            "method": "bank_transfer",
            "external_reference": "SHARED-1",
        },
    )
    text = response.content.decode()
    assert response.status_code == 200 and "already used" in text
    assert world.direct.name not in text


# --- Statement -------------------------------------------------------------------------------


def test_statement_is_paginated_and_exports_csv(client, world, django_assert_max_num_queries):
    for n in range(30):
        _topup(world.finance_a, world.a1, f"S-{n}")
    client.force_login(world.finance_a)
    first = client.get(url("statement", world.a1))
    assert len(first.context["page"].object_list) == 25
    assert first.context["balance"] == Decimal("750.00")
    second = client.get(url("statement", world.a1) + "?page=2")
    assert len(second.context["page"].object_list) == 5
    with django_assert_max_num_queries(15):
        client.get(url("statement", world.a1) + "?page=2")
    response = client.get(url("statement_export", world.a1))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["date", "kind", "description"] and len(rows) == 31


# --- Suspend and reactivate ------------------------------------------------------------------


def test_admin_suspends_and_reactivates_its_customer(client, world, block):
    fund(world.a1, "100.00")
    rental = start(world.a1, price="2.00")
    status_url = reverse("accounts:customer_set_status", args=[world.a1.pk])
    client.force_login(world.support_a)
    assert client.post(status_url, {"status": "suspended"}).status_code == 403
    client.force_login(world.admin_a)
    assert client.post(status_url, {"status": "suspended"}).status_code == 302
    world.a1.refresh_from_db()
    assert not world.a1.is_active
    # The numbers keep working; buying is refused, for the customer and on its behalf.
    rental.did.refresh_from_db()
    assert rental.did.status == DID.Status.ACTIVE
    item = CartItem(block=block, quantity=1, channels=1, billing_period="monthly")
    with pytest.raises(ValidationError, match="suspended"):
        order_place(user=world.admin_a, token="t-susp", for_account=world.a1, items=[item])
    assert client.post(status_url, {"status": "active"}).status_code == 302
    world.a1.refresh_from_db()
    assert world.a1.is_active


# --- Acting on the customer's numbers --------------------------------------------------------


def test_admin_and_support_set_where_a_customers_number_rings(client, world):
    rental = start(world.a1, price="2.00")
    did_url = reverse("cart:my_number", args=[rental.did_id])
    destination_url = reverse("cart:my_number_destination", args=[rental.did_id])
    for user, target in ((world.admin_a, "+31205550100"), (world.support_a, "+31205550101")):
        client.force_login(user)
        assert client.get(did_url).status_code == 200
        response = client.post(destination_url, {"destination": target, "ring": "forever"})
        assert response.status_code == 302
        rental.did.refresh_from_db()
        assert rental.did.destination == target
    for user in (world.finance_a, world.admin_b):
        client.force_login(user)
        assert client.get(did_url).status_code == 404
        response = client.post(destination_url, {"destination": "+1", "ring": "forever"})
        assert response.status_code == 404


def test_support_cancels_a_customers_number(client, world):
    rental = start(world.a1, price="2.00")
    client.force_login(world.support_a)
    response = client.post(reverse("cart:my_number_cancel", args=[rental.did_id]))
    assert response.status_code == 302
    rental.refresh_from_db()
    assert rental.status == rental.Status.CANCELLED
    assert permissions.may_manage_numbers_of(world.support_a, world.a1)
    assert not permissions.may_manage_numbers_of(world.support_a, world.b1)
    assert not permissions.may_manage_numbers_of(world.finance_a, world.a1)


def test_customer_numbers_list(client, world, django_assert_max_num_queries):
    for _ in range(3):
        start(world.a1, price="2.00")
    client.force_login(world.support_a)
    with django_assert_max_num_queries(15):
        response = client.get(url("numbers", world.a1))
    assert len(response.context["page"].object_list) == 3


# --- Buying on the customer's behalf ---------------------------------------------------------


def _buy(client, world, block, **extra):
    data = {
        "token": "behalf-1",
        "quantity": "2",
        "channels": "1",
        "billing_period": "monthly",
        "action": "place",
        **extra,
    }
    return client.post(url("buy", world.a1) + f"?block={block.pk}", data)


def test_admin_buys_for_its_customer_who_pays_retail(client, world, block):
    fund(world.a1, "100.00")
    fund(world.a, "100.00")  # the reseller's wholesale side, once charged
    client.force_login(world.admin_a)
    page = client.get(url("buy", world.a1) + "?q=amsterdam")
    assert block in page.context["blocks"]
    review = client.get(
        url("buy", world.a1) + f"?block={block.pk}&quantity=2&channels=1&billing_period=monthly"
    )
    quote = line_quote(
        block=block, channels=1, billing_period="monthly", quantity=2, account=world.a1
    )
    assert review.context["quote"].gross == quote.gross
    assert review.context["balance"] == Decimal("100.00")
    response = _buy(
        client,
        world,
        block,
        account=world.b1.pk,
        owner=world.b1.pk,
        parent=world.b.pk,
        price="0.01",
        placed_by=world.a1_admin.pk,
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.account, order.placed_by) == (world.a1, world.admin_a)
    assert order.gross == quote.gross and order.status == Order.Status.COMPLETED
    assert balance_for(world.a1) == Decimal("100.00") - quote.gross
    assert DID.objects.filter(owner=world.a1).count() == 2
    assert not DID.objects.filter(owner=world.b1).exists()
    # A double submit places one order; the customer sees it among its orders.
    _buy(client, world, block)
    assert Order.objects.count() == 1
    client.force_login(world.a1_admin)
    assert order in client.get(reverse("cart:orders")).context["page"].object_list


def test_buying_on_behalf_is_refused_to_others(client, world, block):
    fund(world.a1, "100.00")
    for user, status in ((world.finance_a, 403), (world.admin_b, 404), (world.a1_admin, 403)):
        client.force_login(user)
        assert _buy(client, world, block).status_code == status
    assert not Order.objects.exists()
    item = CartItem(block=block, quantity=1, channels=1, billing_period="monthly")
    with pytest.raises(PermissionDenied):
        order_place(user=world.admin_b, token="t-b", for_account=world.a1, items=[item])


def test_short_balance_says_so_and_charges_nothing(client, world, block):
    client.force_login(world.support_a)
    response = _buy(client, world, block)
    assert response.status_code == 400
    assert "balance" in response.content.decode()
    assert not Order.objects.exists()


# --- The reseller buys for itself ------------------------------------------------------------


def test_reseller_admin_buys_for_itself_at_wholesale(client, world, block):
    fund(world.a, "100.00")
    assert permissions.may_buy(world.admin_a)
    assert not permissions.may_buy(world.support_a)
    cart_add_any(user=world.admin_a, block=block, quantity=1)
    order = order_place(user=world.admin_a, token="self-1")
    prices = wholesale_prices(block, world.a)
    assert order.account == world.a
    assert order.net == (prices.setup_fee + prices.monthly).quantize(Decimal("0.01"))
    assert order.net < block.setup_fee + block.monthly_price
    client.force_login(world.admin_a)
    assert client.get(reverse("cart:cart")).status_code == 200
    assert order in client.get(reverse("cart:orders")).context["page"].object_list
    assert client.get(reverse("cart:my_numbers")).status_code == 200


# --- Dashboard and lists ---------------------------------------------------------------------


def _orders(world, block, count):
    fund(world.a1, "500.00")
    fund(world.a, "500.00")
    for n in range(count):
        item = CartItem(block=block, quantity=1, channels=1, billing_period="monthly")
        order_place(
            user=world.admin_a, token=f"dash-{block.pk}-{n}", for_account=world.a1, items=[item]
        )


@pytest.mark.parametrize("role", ["admin_a", "support_a", "finance_a"])
def test_dashboard_for_each_reseller_role(client, world, block, role):
    _orders(world, block, 2)
    client.force_login(getattr(world, role))
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    figures = response.context["figures"]
    assert len(figures.recent_orders) == 2 and figures.revenue > 0
    assert figures.margin == figures.revenue - figures.wholesale
    assert ("Revenue this month" in response.content.decode()) == (role != "support_a")


def test_dashboard_warns_of_a_low_balance_and_lists_held_numbers(client, world):
    held = start(world.a1, price="2.00")
    type(held).objects.filter(pk=held.pk).update(
        status=held.Status.HOLD,
        next_renewal_at=None,
        renewal_failed_at=held.current_period_end,
        reseller=world.a,
        wholesale_recurring_price=Decimal("1.60"),
    )
    client.force_login(world.admin_a)
    response = client.get(reverse("dashboard"))
    text = response.content.decode()
    assert 'id="low-balance"' in text
    assert response.context["figures"].held_count == 1
    client.force_login(world.support_a)  # no money: no balance shown
    assert 'id="low-balance"' not in client.get(reverse("dashboard")).content.decode()


def test_dashboard_query_count_is_flat(client, world, block, django_assert_max_num_queries):
    client.force_login(world.admin_a)
    _orders(world, block, 1)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("dashboard"))
    _orders(world, block, 5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("dashboard"))


def test_list_query_counts_are_flat(client, world, block, django_assert_max_num_queries):
    _orders(world, block, 1)
    client.force_login(world.admin_a)
    pages = [
        reverse("accounts:customers"),
        url("orders", world.a1),
        url("invoices", world.a1),
        url("numbers", world.a1),
    ]
    counts = {}
    for page in pages:
        with django_assert_max_num_queries(30) as queries:
            client.get(page)
        counts[page] = len(queries.captured_queries)
    _orders(world, block, 4)
    for n in range(5):
        from tests.factories import AccountFactory  # noqa: PLC0415

        AccountFactory(parent=world.a, name=f"More {n}")
    for page in pages:
        with django_assert_max_num_queries(30) as queries:
            client.get(page)
        assert len(queries.captured_queries) <= counts[page], (page, queries.captured_queries)


def test_customer_list_shows_balance_and_numbers(client, world):
    start(world.a1, price="2.00")
    client.force_login(world.finance_a)
    response = client.get(reverse("accounts:customers"))
    (row,) = [a for a in response.context["page"].object_list if a.pk == world.a1.pk]
    assert (row.balance_amount, row.number_count) == (balance_for(world.a1), 1)
    assert world.b1.name not in response.content.decode()


ODD = [
    "?page=x",
    "?page=99999",
    "?q=%00",
    "?q=" + "9" * 300,
    "?block=abc",
    "?block=99999999999999999999",
    "?block=1&quantity=-1&channels=x&billing_period=%00",
]


@pytest.mark.parametrize("name", PAGES)
def test_odd_query_strings_never_fail(client, world, block, name):
    client.force_login(world.admin_a)
    for query in ODD:
        assert client.get(url(name, world.a1) + query).status_code in (200, 404), query


# --- Team and navigation ---------------------------------------------------------------------


def test_reseller_admin_adds_support_and_finance(client, world):
    client.force_login(world.admin_a)
    form = client.get(reverse("accounts:team_add")).content.decode()
    assert "Reseller support" in form and "no money" in form
    response = client.post(
        reverse("accounts:team_add"),
        {"full_name": "Sue", "email": "sue@a.test", "role": "reseller_support"},
    )
    assert response.status_code == 302
    assert world.a.users.get(email="sue@a.test").role == "reseller_support"
    response = client.post(
        reverse("accounts:team_add"),
        {"full_name": "X", "email": "x@a.test", "role": "customer_admin"},
    )
    assert response.status_code == 200 and not world.a.users.filter(email="x@a.test").exists()


@pytest.mark.parametrize(
    "role, shown, hidden",
    [
        ("admin_a", ["Customers", "Buy numbers", "Balance & invoices"], []),
        ("support_a", ["Customers", "Our numbers"], ["Balance & invoices", "Buy numbers"]),
        ("finance_a", ["Customers", "Balance & invoices"], ["Buy numbers", "Our numbers"]),
    ],
)
def test_navigation_for_each_reseller_role(world, role, shown, hidden):
    from accounts.navigation import navigation_for  # noqa: PLC0415

    labels = [entry["label"] for entry in navigation_for(getattr(world, role))]
    assert all(label in labels for label in shown)
    assert not any(label in labels for label in hidden)


def test_only_the_admin_creates_customers_under_its_own_account(
    client, world, django_capture_on_commit_callbacks
):
    from django.core import mail  # noqa: PLC0415

    data = {
        "company_name": "New Co",
        "country": "ES",
        "admin_name": "Nia",
        "admin_email": "nia@example.test",
        "parent": world.b.pk,  # not a field of the form: ignored
        "kind": "reseller",
    }
    for user in (world.support_a, world.finance_a):
        client.force_login(user)
        assert client.post(reverse("accounts:customer_create"), data).status_code == 403
    client.force_login(world.admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:customer_create"), data)
    assert response.status_code == 302
    created = world.a.children.get(name="New Co")
    assert created.kind == "customer" and created.parent == world.a
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nia@example.test"]
