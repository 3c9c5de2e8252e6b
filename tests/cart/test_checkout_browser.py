"""A customer buys a number in Chromium: catalog → panel → checkout → My numbers."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Subscription
from cart.models import CartItem
from compliance.services import requirement_save
from inventory.services import dids_add
from outbox.services import outbox_flush
from tests.billing.factories import fund
from tests.factories import TEST_PASSWORD, UserFactory
from tests.inventory.factories import NumberBlockFactory, OperatorFactory

# Ledger rows (the top-ups) outlive a transactional test on SQLite: PostgreSQL only.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def munich(platform_admin):
    requirement = requirement_save(
        actor=platform_admin,
        country="DE",
        number_type="local",
        title="Local address in Germany",
        text="German geographic numbers need an address in the area.",
    )
    block = NumberBlockFactory(
        operator=OperatorFactory(name="EuroRange"),
        country="DE",
        region="Bavaria",
        city="München",
        area_code="89",
        setup_fee=Decimal("5.00"),
        monthly_price=Decimal("3.00"),
        weekly_price=Decimal("0.90"),
        channels_included=1,
        extra_channel_monthly_price=Decimal("1.50"),
        requirement=requirement,
    )
    dids_add(block=block, spec_text="+4989555000-+4989555004", actor=platform_admin)
    return block


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def add_first_munich_number(page):
    page.goto("/numbers/DE/")
    page.get_by_role("row", name="München").get_by_role("link", name="Numbers").click()
    page.get_by_label("+49 89 555000").check()
    page.get_by_role("button", name="Add selected to cart").click()
    panel = page.locator("#cart-modal")
    expect(panel.get_by_role("heading", name="Added to your cart")).to_be_visible()
    return panel


def test_customer_buys_a_number_with_two_channels(page, munich, customer_admin):
    fund(customer_admin.account, "100.00")
    sign_in(page, customer_admin)
    panel = add_first_munich_number(page)

    panel.get_by_label("Channels").fill("2")
    panel.get_by_label("Billing period").select_option("monthly")
    panel.get_by_role("button", name="Update").click()
    # Setup 5.00 + month 3.00 + one extra channel 1.50 = 9.50 net; DE VAT 19 %: 0.95 + 0.86.
    expect(panel.locator("#panel-total")).to_have_text("11.31")
    expect(panel).to_contain_text("VAT 19%")
    panel.get_by_role("link", name="Proceed to checkout").click()

    expect(page.locator("#checkout-total")).to_have_text("11.31 USD")
    page.get_by_label("I agree to “Local address in Germany”").check()
    page.get_by_role("button", name="Complete order").click()

    expect(page.get_by_role("heading", name="Your order is complete")).to_be_visible()
    expect(page.locator("#order-items")).to_contain_text("+49 89 555000")
    expect(page.locator("#order-total")).to_have_text("11.31 USD")

    outbox_flush()
    (confirmation,) = [m for m in mail.outbox if "order" in m.subject.lower()]
    assert confirmation.to == [customer_admin.email]
    assert "11.31" in confirmation.body

    page.get_by_role("link", name="Go to my numbers").click()
    row = page.get_by_role("row", name=re.compile(r"\+49 89 555000"))
    expect(row).to_be_visible()
    renewal = Subscription.objects.get(did__number="+4989555000").next_renewal_at
    assert renewal.date() > timezone.localdate()
    expect(row).to_contain_text(f"{timezone.localtime(renewal):%-d %b %Y}")
    expect(row).to_contain_text("4.50")  # the monthly price with the extra channel


def test_customer_with_thirty_dollars_is_sent_to_top_up(page, munich, customer):
    poor = UserFactory(account=customer, role="customer_admin")
    fund(customer, "30.00")
    sign_in(page, poor)
    panel = add_first_munich_number(page)
    panel.get_by_role("link", name="Proceed to checkout").click()

    refusal = page.locator("#checkout-refusal")
    expect(refusal).to_contain_text("30.00")
    expect(refusal).to_contain_text("50.00")
    expect(page.get_by_role("button", name="Complete order")).to_be_disabled()
    refusal.get_by_role("link", name="Top up your balance").click()
    expect(page).to_have_url(re.compile(r"/billing/balance/$"))


def test_closing_the_panel_takes_the_number_out_again(page, munich, customer_admin):
    sign_in(page, customer_admin)
    panel = add_first_munich_number(page)
    expect(page.locator("#cart-badge")).to_have_text(re.compile(r"^1"))
    panel.get_by_role("button", name="Close and take these out of the cart").click()
    expect(page.locator("#cart-modal")).to_be_hidden()
    expect(page.locator("#cart-badge")).to_be_hidden()
    assert not CartItem.objects.filter(cart__user=customer_admin).exists()
