"""Extra channels in Chromium, as people click: the admin prices them per month, a customer
sees the per-period price in the catalog, the panel and checkout, buys two extra channels and
gives them up on My numbers from the next period (issue 10, items 17 and 18)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from billing.models import Subscription
from billing.services.capacity import number_channels
from inventory.services import dids_add
from tests.billing.factories import fund
from tests.cart.test_checkout_browser import sign_in
from tests.inventory.factories import NumberBlockFactory, OperatorFactory

# Ledger rows (the top-up) outlive a transactional test on SQLite: PostgreSQL only.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def htmx_settled(page):
    """Wait until htmx has swapped and settled: new content listens for changes only then."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )


@pytest.fixture
def lyon(platform_admin):
    block = NumberBlockFactory(
        operator=OperatorFactory(name="EuroRange"),
        country="FR",
        region="Rhône",
        city="Lyon",
        area_code="4",
        setup_fee=Decimal("1.00"),
        monthly_price=Decimal("3.00"),
        weekly_price=Decimal("0.90"),
        channels_included=2,
        extra_channel_monthly_price=Decimal("1.50"),
    )
    dids_add(block=block, spec_text="+33472555000-+33472555004", actor=platform_admin)
    return block


def test_the_block_form_prices_an_extra_channel_per_month(page, platform_admin):
    sign_in(page, platform_admin)
    page.goto(reverse("inventory:block_create"))
    field = page.get_by_label("Extra channel price per month")
    expect(field).to_be_visible()
    expect(page.get_by_text("monthly × 12 / 52 a week")).to_be_visible()


def test_customer_buys_two_extra_channels_then_goes_down_to_the_plan(
    page, lyon, customer, customer_admin
):
    customer.country = "US"  # outside the EU: no VAT, the figures are the prices
    customer.save(update_fields=["country"])
    fund(customer, "100.00")
    sign_in(page, customer_admin)

    page.goto("/numbers/FR/")
    row = page.get_by_role("row", name=re.compile("Lyon"))
    expect(row).to_contain_text("+1.50 / month each extra")
    row.get_by_role("link", name="Numbers").click()
    page.get_by_label("+33 4 72 55 50 00").check()
    page.get_by_role("button", name="Add selected to cart").click()
    panel = page.locator("#cart-modal")
    expect(panel.get_by_role("heading", name="Added to your cart")).to_be_visible()

    panel.get_by_label("Channels").fill("4")
    panel.get_by_label("Billing period").select_option("weekly")  # a change updates the panel
    expect(panel).to_contain_text("(2 × 0.34615 per week)")  # 1.50 × 12 / 52
    htmx_settled(page)  # a person does not change the next field within htmx's settle delay
    panel.get_by_label("Billing period").select_option("monthly")
    expect(panel).to_contain_text("(2 × 1.50 per month)")
    expect(panel.locator("#panel-total")).to_have_text("7.00")  # 1.00 + 3.00 + 2 × 1.50
    panel.get_by_role("link", name="Proceed to checkout").click()

    expect(page.locator("main")).to_contain_text("4 channels (2 extra at 1.50 per month each)")
    page.get_by_role("button", name="Complete order").click()
    expect(page.get_by_role("heading", name="Your order is complete")).to_be_visible()

    page.get_by_role("link", name="Go to my numbers").click()
    page.get_by_role("row", name=re.compile(r"\+33 4 72 55 50 00")).get_by_role(
        "link"
    ).first.click()
    details = page.locator("#number-details")
    expect(details).to_contain_text("2 with the number, 2 extra")
    expect(details).to_contain_text("6.00 USD per month")
    expect(page.locator("#channel-price")).to_contain_text("1.50 USD per month")

    page.locator("#channels-form").get_by_label("Channels").fill("2")
    page.get_by_role("button", name="Change channels…").click()
    expect(page.get_by_role("heading", name=re.compile("Go down to 2 channels"))).to_be_visible()
    expect(page.locator("main")).to_contain_text("Extra channels chosen at checkout")
    page.get_by_role("button", name="Go down to 2 channels").click()

    expect(page.locator(".alert-success")).to_contain_text("keeps 4 channels until")
    expect(page.locator("#channels-total")).to_have_text("2")
    expect(details).to_contain_text("2 more until")
    expect(details).to_contain_text("3.00 USD per month")
    rental = Subscription.objects.get(kind="number", did__number="+33472555000")
    assert (rental.channels, rental.recurring_price) == (2, Decimal("3.00"))
    assert (number_channels(rental).total, number_channels(rental).now) == (2, 4)
