import re

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_finds_numbers_by_ending_and_selects_two(page, stock, customer_admin):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(customer_admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Buy numbers").click()
    page.get_by_role("link", name="Netherlands").click()
    page.get_by_label("City or area code").fill("amster")
    expect(page.locator("#results tbody tr")).to_have_count(1)  # htmx narrowed the cities
    page.get_by_role("row", name="Amsterdam").get_by_role("link", name="Numbers").click()

    page.get_by_label("Number", exact=True).select_option("ends")
    page.get_by_label("Digits").fill("1")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results")
    expect(results).not_to_contain_text("+31 20 555 0012")  # htmx swapped the results
    expect(results).to_contain_text("+31 20 555 0011")
    expect(page).to_have_url(re.compile(r"match=ends.*n=1|n=1.*match=ends"))  # shareable URL
    page.wait_for_load_state("networkidle")  # typing and the button both searched: let both land

    page.get_by_label("+31 20 555 0001").check()
    page.get_by_label("+31 20 555 0021").check()
    page.get_by_role("button", name="Add selected to cart").click()

    panel = page.locator("#cart-modal")
    expect(panel.get_by_role("heading", name="Added to your cart")).to_be_visible()
    assert panel.locator(".cart-line h3").all_inner_texts() == [
        "+31 20 555 0001",
        "+31 20 555 0021",
    ]
    expect(page.locator("#cart-badge")).to_have_text(re.compile(r"^2"))
