"""In Chromium, at desktop and phone width: a customer buys a Paris number that needs a
registration, is told before paying that it will be sold awaiting one (and what to provide),
and finds it awaiting in My numbers, not routed, with its deadline."""

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from inventory.choices import DIDStatus
from inventory.models import DID
from tests.billing.factories import fund
from tests.cart.test_checkout_browser import sign_in
from tests.compliance import conftest as compliance_fixtures

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

paris = compliance_fixtures.paris
paris_requirement = compliance_fixtures.paris_requirement


def shot(page, name):
    """A full-page screenshot to look at: /tmp/checkout-<name>.png."""
    page.screenshot(path=str(Path(tempfile.gettempdir()) / f"checkout-{name}.png"), full_page=True)


def fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 390])
def test_buying_a_number_that_needs_registration(page, paris, customer_admin, width):
    page.set_viewport_size({"width": width, "height": 900})
    fund(customer_admin.account, "100.00")
    sign_in(page, customer_admin)

    page.goto("/numbers/FR/")
    badge = page.locator(".requirement-badge").first
    expect(badge).to_have_text("Registration required")
    page.get_by_role("row", name="Paris").get_by_role("link", name="Numbers").click()
    page.get_by_label("+33 1 55 50 00 00").check()
    page.get_by_role("button", name="Add selected to cart").click()
    page.locator("#cart-modal").get_by_role("link", name="Proceed to checkout").click()

    outlook = page.locator(".registration-outlook")
    expect(outlook).to_contain_text("Sold awaiting registration: provide")
    expect(outlook).to_contain_text("within 30 days")
    expect(page.locator("#registration-policy")).to_contain_text(
        "Numbers awaiting registration are charged now; their first period starts on approval"
    )
    expect(page.locator(".registration-needs")).to_contain_text("1 proof of address")
    fits(page, width)
    shot(page, f"checkout-{width}")
    page.get_by_label("I agree to “French geographic numbers”").check()
    page.get_by_role("button", name="Complete order").click()

    expect(page.locator("#awaiting-note")).to_contain_text("1 number awaits registration.")
    expect(page.locator("#order-items")).to_contain_text("Awaiting registration")
    fits(page, width)
    shot(page, f"complete-{width}")
    page.get_by_role("link", name="Go to my numbers").click()

    listing = page.locator("#my-numbers-table" if width > 700 else "#my-numbers-cards")
    expect(listing.locator(".status-awaiting")).to_have_text("Awaiting registration")
    expect(listing).to_contain_text("not routed until approved")
    page.get_by_label("Status").select_option("awaiting_registration")
    expect(page).to_have_url(re.compile(r"status=awaiting_registration"))
    fits(page, width)
    shot(page, f"numbers-{width}")
    listing.get_by_role("link", name="+33 1 55 50 00 00").click()

    expect(page.locator("#awaiting-banner")).to_contain_text(
        "Awaiting registration: not routed until approved"
    )
    expect(page.locator("#channels-awaiting")).to_be_visible()
    fits(page, width)
    shot(page, f"number-{width}")
    page.get_by_role("link", name="Cancel and refund…").click()
    expect(page.locator("#refund-amount")).to_contain_text("7.14")
    page.get_by_role("button", name="Cancel and refund").click()
    expect(page.locator("body")).to_contain_text("refunded to your balance")
    did = DID.objects.get(number="+33155500000")
    assert (did.status, did.owner_id) == (DIDStatus.IN_STOCK, None)
