"""A visitor picks numbers, is asked to sign in (or sign up), and finds them in the cart
(issue 10, item 23)."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHY = "Sign in or create an account to add numbers to your cart."


def pick_two_as_a_visitor(page):
    page.goto("/numbers/NL/search/?n=555000&match=contains")
    page.get_by_label("+31 20 555 0001").check()
    page.get_by_label("+31 20 555 0002").check()
    page.get_by_role("button", name="Add selected to cart").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(WHY)


def expect_the_two_in_the_cart(page):
    expect(page.get_by_role("heading", name="Added to your cart")).to_be_visible()
    assert page.locator(".cart-line h3").all_inner_texts() == ["+31 20 555 0001", "+31 20 555 0002"]
    expect(page.locator("#cart-badge")).to_have_text(re.compile(r"^2"))


def test_picks_are_added_after_sign_in(page, blocks, customer_admin, vat_rates):
    pick_two_as_a_visitor(page)
    page.get_by_label("E-mail address").fill(customer_admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_the_two_in_the_cart(page)
    page.get_by_role("link", name="Continue shopping").click()
    expect(page).to_have_url(re.compile(r"/numbers/NL/search/\?n=555000&match=contains$"))


def test_picks_are_added_after_sign_up(page, blocks, vat_rates):
    pick_two_as_a_visitor(page)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Nina Newcomer")
    page.get_by_label("E-mail address").fill("nina@newco.example")
    page.get_by_label("Company name").fill("NewCo")
    page.get_by_label("Country").select_option("NL")
    page.get_by_label("Password").fill("a-long-enough-passphrase-2026")
    page.get_by_role("button", name="Create account").click()
    expect_the_two_in_the_cart(page)
