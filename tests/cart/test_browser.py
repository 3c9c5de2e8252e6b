"""The add-to-cart panel and the cart page in a real browser (htmx, Bootstrap's modal)."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("width", [1280, 420])
def test_add_change_in_the_panel_then_remove_from_the_cart(
    page, blocks, customer_admin, vat_rates, width
):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, customer_admin)
    page.goto(f"/numbers/DE/search/?block={blocks['munich'].pk}")
    page.get_by_label("+49 89 555000").first.check()
    page.get_by_role("button", name="Add selected to cart").click()

    panel = page.locator("#cart-modal")
    expect(panel.get_by_role("heading", name="Added to your cart")).to_be_visible()
    expect(panel.locator("#panel-total")).to_have_text("9.52")  # 5.00 + 3.00 + 19 % VAT
    expect(page.locator("#cart-badge")).to_have_text(re.compile(r"^1"))

    panel.get_by_label("Channels").fill("4")
    panel.get_by_label("Channels").press("Tab")  # change → htmx updates the panel
    # 5.00 + 3.00 + 2 × 1.50 = 11.00, VAT 0.95 + 1.14.
    expect(panel.locator("#panel-total")).to_have_text("13.09")
    expect(panel).to_contain_text("3.00 (2 × 1.50 per month)")

    panel.get_by_role("link", name="Continue shopping").click()
    expect(panel).to_be_hidden()

    if width < 992:  # the navigation is collapsed behind its toggler
        page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    expect(page.locator("#cart-total")).to_have_text("13.09 USD")
    expect(page.locator("[data-hold-until]")).to_contain_text("left")  # the countdown runs
    page.get_by_role("link", name="Remove").click()
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()
    expect(page.locator("#cart-badge")).to_be_hidden()


def test_changing_a_quantity_on_the_cart_page_updates_total_and_badge(
    page, blocks, customer_admin, vat_rates
):
    from cart import services

    services.cart_add_any(user=customer_admin, block=blocks["munich"], quantity=2)
    sign_in(page, customer_admin)
    page.goto("/cart/")
    expect(page.locator("#cart-total")).to_have_text("19.04 USD")  # 2 × 9.52
    expect(page.locator("#cart-badge")).to_have_text(re.compile(r"^2"))
    page.get_by_label("Quantity").fill("4")
    page.get_by_label("Quantity").press("Tab")  # htmx posts the change, swaps the cart in
    expect(page.locator("#cart-total")).to_have_text("38.08 USD")
    expect(page.locator("#cart-badge")).to_have_text(re.compile(r"^4"))
    page.get_by_label("Quantity").fill("9")
    page.get_by_label("Quantity").press("Tab")
    expect(page.get_by_text("Only 5 numbers available in München right now.")).to_be_visible()
    expect(page.locator("#cart-total")).to_have_text("38.08 USD")
