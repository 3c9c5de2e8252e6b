"""Bulk status in the browser: in-stock numbers are offered only what can work for them."""

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, UserFactory, platform
from tests.inventory.factories import DIDFactory, NumberBlockFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_bulk_status_of_stock_offers_reserved_and_archive_only(page, width, customer):
    admin = UserFactory(account=platform(), role="platform_admin")
    block = NumberBlockFactory()
    stock = [DIDFactory(block=block, number=f"+3120555000{i}") for i in range(2)]
    DIDFactory(block=block, number="+31205550009", status="active", owner=customer, ever_sold=True)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto("/staff/inventory/dids/")
    for did in stock:
        page.get_by_label(f"Tick {did.number}").check()
    page.get_by_role("button", name="Continue…").click()
    status = page.get_by_label("New status")
    expect(status.locator("option")).to_have_text(["Reserved", "Archive"])
    status.select_option("archive")
    page.get_by_role("button", name="Change status: 2 numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("Change status: done for 2 numbers.")

    # Archived and active numbers can both go back to stock; stock and active have no
    # common move, and the page says why.
    DIDFactory(block=block, number="+31205550005")
    page.goto("/staff/inventory/dids/")
    page.get_by_label("Tick +31205550009").check()
    page.get_by_label("Tick +31205550005").check()
    page.get_by_role("button", name="Continue…").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "No status change fits every selected number: they are in stock, active."
    )
    expect(page.get_by_role("button", name="Change status: 2 numbers")).to_have_count(0)
