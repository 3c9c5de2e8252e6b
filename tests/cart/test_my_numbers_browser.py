"""A customer admin manages a rented number in the browser: search, destination, more
channels (confirmed with the pro-rata price), cancel behind a confirmation, then keep it."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import Subscription
from billing.services.capacity import number_channels
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.factories import TEST_PASSWORD
from tests.inventory.factories import NumberBlockFactory

# Ledger rows (the top-up) outlive a transactional test on SQLite: PostgreSQL only.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_admin_searches_forwards_adds_channels_and_cancels(page, customer, customer_admin):
    customer.country = "US"  # outside the EU: no VAT, the charge is the pro-rata price
    customer.save(update_fields=["country"])
    fund(customer, "100.00")
    block = NumberBlockFactory(extra_channel_monthly_price=Decimal("1.50"), channels_included=2)
    rental = start(customer, did=held_did(customer, number="+31205550001", block=block), channels=2)
    start(customer, did=held_did(customer, number="+31205550002", block=block), channels=2)

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(customer_admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="My numbers").click()

    results = page.locator("#my-numbers-table")
    expect(results).to_contain_text("020 555 0002")
    page.get_by_label("Search", exact=True).fill("020 555 0001")
    expect(results).not_to_contain_text("020 555 0002")  # htmx narrowed the list
    expect(page).to_have_url(re.compile(r"q=020"))
    results.get_by_role("link", name="+31 20 555 0001").click()  # E.164 first, the link

    page.get_by_label("Forward calls to").fill("sip:desk@pbx.example.com")
    page.get_by_label("For at most…").check()
    page.get_by_label("Ring timeout (seconds)").fill("20")
    page.get_by_role("button", name="Save destination").click()
    expect(page.locator("#number-details")).to_contain_text("sip:desk@pbx.example.com")
    expect(page.locator("#number-details")).to_contain_text("for at most 20 seconds")

    page.locator("#channels-form").get_by_label("Channels").fill("4")
    page.get_by_role("button", name="Change channels…").click()
    expect(page.get_by_role("heading", name=re.compile("Add 2 channels"))).to_be_visible()
    page.get_by_role("button", name=re.compile("Add channels and pay")).click()
    expect(page.locator("#channels-total")).to_have_text("4")
    assert number_channels(rental).total == 4

    page.get_by_role("link", name="Cancel number…").click()
    expect(page.locator("#cancel-effect")).to_contain_text("The paid period runs to")
    page.get_by_role("button", name="Cancel number").click()
    banner = page.locator("#cancelled-banner")
    expect(banner).to_contain_text("keeps working until")
    expect(page.locator(".alert")).to_have_count(1)  # one clear banner, no second message
    rental.refresh_from_db()
    assert rental.status == Subscription.Status.CANCELLED

    page.set_viewport_size({"width": 390, "height": 844})  # on a phone
    page.screenshot(path="test-artifacts/my_number_cancelled_390.png", full_page=True)
    banner.get_by_role("button", name="Keep this number").click()
    expect(page.locator(".alert-success")).to_contain_text("is kept: it renews on")
    expect(page.locator("#cancelled-banner")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel number…")).to_be_visible()
    rental.refresh_from_db()
    assert rental.status == Subscription.Status.ACTIVE
    assert number_channels(rental).total == 4  # the channels cancelled with it are back


def test_member_forwards_a_number_assigned_to_them_on_a_phone(page, customer, customer_admin):
    """Item 16: a member sets where calls go on their number; nothing else is offered."""
    from inventory.customer import did_users_assign
    from tests.factories import UserFactory

    member = UserFactory(account=customer, role="customer_member", full_name="Mo Member")
    fund(customer, "100.00")
    rental = start(customer, did=held_did(customer, number="+31205550001"), channels=2)
    did_users_assign(did=rental.did, actor=customer_admin, users=[member])

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(member.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/cart/numbers/")
    page.locator("#my-numbers-results").get_by_role("link", name="+31 20 555 0001").first.click()
    expect(page.locator("#channels-form")).to_have_count(0)
    expect(page.locator("#users-form")).to_have_count(0)
    page.get_by_label("Forward calls to").fill("+31205550199")
    page.get_by_label("Until answered").check()
    page.get_by_role("button", name="Save destination").click()
    expect(page.locator("#number-details")).to_contain_text("+31205550199")
    page.screenshot(path="test-artifacts/member-number-390.png", full_page=True)
