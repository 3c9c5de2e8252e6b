"""The e-mailed transaction code at checkout, through the checkout view, on PostgreSQL.

A code is spent only by the order it confirms, in that order's transaction: any refusal
leaves it usable; wrong guesses are counted on their own; a double click gets the first
order. Whether a code is needed is decided on the total quoted under the balance lock.
"""

import re
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import ConfirmationCode
from billing.services import balance_lock
from cart import services as cart_services
from cart.models_orders import Order
from cart.orders import checkout_purpose, order_place
from inventory.models import DID
from inventory.services import did_assign
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.concurrency import run_in_threads
from tests.inventory.factories import ClientPackageFactory, PackageFactory

pytestmark = pytest.mark.postgres

MUNICH_1, MUNICH_2 = "+4989555000", "+4989555001"


@pytest.fixture
def code_above_5(settings):
    settings.CHECKOUT_CODE_ABOVE = Decimal("5.00")  # Munich with 3 channels: 11.31


def checkout_token(client):
    return client.get(reverse("cart:checkout")).context["token"]


def send_code(client, user):
    client.post(reverse("cart:checkout_code"))
    text = OutgoingEmail.objects.filter(to=[user.email]).latest("pk").text
    return re.search(r"\b(\d{6})\b", text).group(1)


def code_row(user, token):
    return ConfirmationCode.objects.get(user=user, purpose=checkout_purpose(token))


def complete(client, token, code):
    return client.post(reverse("cart:checkout"), {"token": token, "code": code})


def wrong(code):
    return "000000" if code != "000000" else "111111"


@pytest.mark.django_db
def test_a_balance_refusal_does_not_spend_the_code(client, customer_admin, blocks, code_above_5):
    fund(customer_admin.account, "30.00")  # below the 50.00 minimum
    cart_services.cart_add_numbers(user=customer_admin, numbers=[MUNICH_1], channels=3)
    client.force_login(customer_admin)
    token = checkout_token(client)
    code = send_code(client, customer_admin)

    refused = complete(client, token, code)
    assert 'id="checkout-refusal"' in refused.content.decode()
    assert not Order.objects.exists()
    assert code_row(customer_admin, token).used_at is None

    fund(customer_admin.account, "100.00")
    placed = complete(client, token, code)
    order = Order.objects.get()
    target = reverse("cart:order_complete", args=[order.pk])
    assert (placed.status_code, placed.url) == (302, target)
    assert code_row(customer_admin, token).used_at is not None


@pytest.mark.django_db
def test_a_package_refusal_after_the_code_was_accepted_does_not_spend_it(
    client, customer_admin, blocks, code_above_5, platform_admin
):
    fund(customer_admin.account, "100.00")
    package = PackageFactory(max_dids=1, limits_self_service=True)
    client_package = ClientPackageFactory(account=customer_admin.account, package=package)
    cart_services.cart_add_numbers(user=customer_admin, numbers=[MUNICH_1])
    # Meanwhile the admin assigns a number under the package: it is full at checkout.
    did_assign(
        did=DID.objects.get(number=MUNICH_2),
        account=customer_admin.account,
        client_package=client_package,
        actor=platform_admin,
    )
    client.force_login(customer_admin)
    token = checkout_token(client)
    code = send_code(client, customer_admin)

    refused = complete(client, token, code)
    assert refused.status_code == 400 and "allows 1 number" in refused.content.decode()
    assert code_row(customer_admin, token).used_at is None

    package.max_dids = 2
    package.save()
    assert complete(client, token, code).status_code == 302
    assert Order.objects.get().status == "completed"


@pytest.mark.django_db
def test_wrong_guesses_are_counted_even_when_the_order_is_refused(
    client, customer_admin, blocks, code_above_5, settings
):
    fund(customer_admin.account, "30.00")
    cart_services.cart_add_numbers(user=customer_admin, numbers=[MUNICH_1], channels=3)
    client.force_login(customer_admin)
    token = checkout_token(client)
    code = send_code(client, customer_admin)

    response = complete(client, token, wrong(code))
    assert "Wrong code, 4 attempts left" in response.content.decode()
    assert code_row(customer_admin, token).attempts == 1
    for _ in range(settings.CONFIRMATION_CODE_MAX_ATTEMPTS - 1):
        complete(client, token, wrong(code))
    fund(customer_admin.account, "100.00")
    response = complete(client, token, code)
    assert "Too many wrong attempts" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_code_is_asked_for_above_the_threshold(client, customer_admin, blocks, code_above_5):
    fund(customer_admin.account, "100.00")
    cart_services.cart_add_numbers(user=customer_admin, numbers=[MUNICH_1], channels=3)
    client.force_login(customer_admin)
    response = client.post(reverse("cart:checkout"), {"token": checkout_token(client)})
    assert response.status_code == 400
    assert "enter the code we e-mailed you" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_double_click_with_the_code_gets_the_first_order(customer_admin, blocks, code_above_5):
    fund(customer_admin.account, "100.00")
    cart_services.cart_add_numbers(user=customer_admin, numbers=[MUNICH_1], channels=3)
    first = Client()
    first.force_login(customer_admin)
    token = checkout_token(first)
    code = send_code(first, customer_admin)
    tabs = [Client() for _ in range(3)]
    for tab in tabs:
        tab.force_login(customer_admin)

    responses = run_in_threads(lambda i: complete(tabs[i], token, code), count=len(tabs))

    order = Order.objects.get()
    target = reverse("cart:order_complete", args=[order.pk])
    assert [(r.status_code, r.url) for r in responses] == [(302, target)] * len(tabs)
    assert order.items.get().status == "completed"


def wait_for_a_lock_wait(timeout=10):
    """Until some backend waits for a lock (the checkout queued behind the balance lock)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the checkout never waited for the balance lock")


@pytest.mark.django_db(transaction=True)
def test_a_cart_grown_while_checkout_waits_for_the_lock_needs_the_code(
    customer_admin, blocks, settings
):
    """The race of issue 10 #25: the total is small when checkout starts, a second tab
    raises the channels before checkout gets the balance lock; the locked quote decides."""
    settings.CHECKOUT_CODE_ABOVE = Decimal("50.00")
    fund(customer_admin.account, "200.00")
    cart_services.cart_add_numbers(user=customer_admin, numbers=[MUNICH_1], channels=2)
    line = customer_admin.cart.items.get()
    locked, release = threading.Event(), threading.Event()
    outcome = {}

    def hold_the_balance():
        try:
            with transaction.atomic():
                balance_lock(customer_admin.account)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    def checkout():
        try:
            outcome["order"] = order_place(user=customer_admin, token="race")
        except ValidationError as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_balance)
    holder.start()
    assert locked.wait(10)
    buyer = threading.Thread(target=checkout)
    buyer.start()
    wait_for_a_lock_wait()
    # The second tab: 40 channels, 38 extra at 1.50 a month: the order is now above 50.00.
    cart_services.cart_item_update(user=customer_admin, item_id=line.pk, channels=40)
    release.set()
    holder.join(10)
    buyer.join(30)

    assert "order" not in outcome, "an order above the threshold went through without a code"
    assert "enter the code" in outcome["error"].messages[0]
    assert not Order.objects.exists()
    assert DID.objects.get(number=MUNICH_1).owner is None
