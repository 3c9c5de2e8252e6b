"""A customer with an empty balance pays the checkout's shortfall by card, in Chromium:
checkout → "Pay the shortfall by card" → the (fake) Stripe payment page → back on the
return page, which waits for the webhook → credited → back at checkout → order completed.

The page and the hosted payment page are screenshotted at 1280 and 390 px wide into
``test-artifacts/``.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import Balance, LedgerEntry
from cart.models_orders import Order
from inventory.models import DID
from inventory.services import dids_add
from payments.models import CardPayment
from tests.browser import ARTIFACTS
from tests.factories import TEST_PASSWORD
from tests.inventory.factories import NumberBlockFactory, OperatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)


@pytest.fixture
def munich(platform_admin):
    block = NumberBlockFactory(
        operator=OperatorFactory(name="EuroRange"),
        country="DE",
        region="Bavaria",
        city="München",
        area_code="89",
        setup_fee=Decimal("5.00"),
        monthly_price=Decimal("3.00"),
    )
    dids_add(block=block, spec_text="+4989555000-+4989555004", actor=platform_admin)
    return block


def screenshots(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"card-{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


def test_customer_pays_the_shortfall_by_card_and_completes_the_order(
    page, live_server, fake_stripe, munich, customer_admin
):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(customer_admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto("/numbers/DE/")
    page.get_by_role("row", name="München").get_by_role("link", name="Numbers").click()
    page.get_by_label("+49 89 555000").check()
    page.get_by_role("button", name="Add selected to cart").click()
    page.locator("#cart-modal").get_by_role("link", name="Proceed to checkout").click()

    # 0.00 on the balance: buying needs 50.00, so 50.00 is short.
    refusal = page.locator("#checkout-refusal")
    expect(refusal).to_contain_text("Shortfall")
    expect(refusal).to_contain_text("50.00 USD")
    expect(page.get_by_role("button", name="Complete order")).to_be_disabled()
    refusal.get_by_role("link", name="Pay the shortfall by card").click()

    expect(page.get_by_role("heading", name="Pay by card")).to_be_visible()
    expect(page.locator("#card-shortfall")).to_contain_text("50.00 USD")
    screenshots(page, "topup")
    page.get_by_role("button", name=re.compile(r"^Pay 50\.00 USD \(the shortfall\)")).click()

    # The payment page (the fake's), for the server's amount. Its webhook is held back
    # until the customer is on the return page, as when Stripe's call takes a moment.
    expect(page.get_by_role("heading", name="Pay 50.00 USD")).to_be_visible()
    payment = CardPayment.objects.get(account=customer_admin.account)
    assert (payment.amount, payment.return_to) == (Decimal("50.00"), "checkout")
    held = DID.objects.get(number="+4989555000")
    assert held.cart_held_by == customer_admin and held.cart_held_until > payment.created_at
    page.get_by_role("button", name="Pay 50.00 USD").click()

    status = page.locator("#card-status")
    expect(status).to_contain_text("Payment received — your balance will show it in a moment")
    expect(page).to_have_url(re.compile(rf"/payments/card/{payment.pk}/return/$"))
    screenshots(page, "return-waiting")

    fake_stripe.webhook_url = live_server.url + "/payments/stripe/webhook/"
    session = fake_stripe.sessions[payment.session_id]
    assert fake_stripe.send_event("checkout.session.completed", session) == 200

    # The page polls its status and reloads once the payment is credited.
    credited = page.locator("#card-credited")
    expect(credited).to_contain_text("Credited: 50.00 USD, balance now 50.00 USD")
    screenshots(page, "return-paid")
    page.get_by_role("link", name="Back to checkout").click()

    expect(page).to_have_url(re.compile(r"/cart/checkout/$"))
    expect(page.locator("#checkout-refusal")).to_have_count(0)
    expect(page.locator("#checkout-total")).to_contain_text("USD")
    page.get_by_role("button", name="Complete order").click()
    expect(page.get_by_role("heading", name="Your order is complete")).to_be_visible()
    expect(page.locator("#order-items")).to_contain_text("+49 89 555000")

    order = Order.objects.get(account=customer_admin.account)
    assert order.status == "completed"
    payment.refresh_from_db()
    assert payment.status == "paid"
    topup = LedgerEntry.objects.get(account=customer_admin.account, kind="topup")
    assert (topup.method, topup.amount) == ("card", Decimal("50.00"))
    balance = Balance.objects.get(account=customer_admin.account).amount
    assert balance == Decimal("50.00") - order.gross


def test_customer_cancels_on_the_payment_page(page, live_server, fake_stripe, customer_admin):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(customer_admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto("/billing/balance/")
    page.get_by_role("link", name="Pay by card").click()
    page.get_by_label("Amount (USD)").fill("75")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_role("heading", name="Pay 75.00 USD")).to_be_visible()
    page.get_by_role("button", name="Back").click()

    expect(page.get_by_role("heading", name="Payment canceled, nothing charged")).to_be_visible()
    payment = CardPayment.objects.get(account=customer_admin.account)
    assert payment.status == "canceled"
    assert fake_stripe.sessions[payment.session_id]["status"] == "expired"
    page.get_by_role("link", name="Back to your balance").click()
    expect(page.locator("#card-payments")).to_contain_text(payment.reference)
    expect(page.locator("#card-payments")).to_contain_text("Canceled")
    screenshots(page, "balance")
