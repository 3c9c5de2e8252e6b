"""A reseller admin, on a phone, tops up a customer's balance and buys numbers on its
behalf: the customer's balance pays its price, the order is the customer's."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.selectors import balance_for
from cart.models_orders import Order
from tests.billing.factories import fund
from tests.browser import ARTIFACTS
from tests.factories import TEST_PASSWORD

# Ledger rows outlive a transactional test on SQLite: PostgreSQL only.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_reseller_admin_tops_up_and_buys_for_a_customer_on_a_phone(
    browser, live_server, world, block
):
    world.a1.country = "US"  # outside the EU: no VAT, the total is the price
    world.a1.save(update_fields=["country"])
    fund(world.a, "100.00")  # the reseller's balance pays wholesale once lane money lands
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm questions
    try:
        page.goto("/accounts/login/")
        page.get_by_label("E-mail address").fill(world.admin_a.email)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Reseller dashboard")).to_be_visible()

        page.goto("/accounts/customers/")
        page.get_by_role("link", name=world.a1.name).first.click()
        page.locator("#customer-tabs").get_by_role("link", name="Balance").click()
        page.get_by_label("Amount (USD)").fill("80.00")
        page.get_by_label("Payment reference").fill("RCPT-0001")
        page.get_by_role("button", name="Record top-up").click()
        expect(page.locator("#balance")).to_contain_text("80.00")
        assert balance_for(world.a1) == Decimal("80.00")
        # Nothing is wider than the phone's screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.locator("#customer-tabs").get_by_role("link", name="Buy numbers").click()
        page.get_by_placeholder("Country or city").fill("Amsterdam")
        page.get_by_role("button", name="Search").click()
        page.locator("#blocks").get_by_role("link", name="Choose").first.click()
        page.get_by_label("Quantity").fill("2")
        page.get_by_role("button", name="Review the price").click()
        expect(page.locator("#buy-balance")).to_contain_text("80.00")
        total = page.locator("#buy-total").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "reseller_buys_on_behalf_phone.png"), full_page=True)
        page.get_by_role("button", name=re.compile("Place order for")).click()
        expect(page.locator(".alert-success")).to_contain_text("charged to its balance")
        expect(page.get_by_role("heading", name=re.compile("Orders of"))).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        order = Order.objects.get()
        assert (order.account, order.placed_by) == (world.a1, world.admin_a)
        assert f"{order.gross}" in total
        assert balance_for(world.a1) == Decimal("80.00") - order.gross
    finally:
        context.close()
