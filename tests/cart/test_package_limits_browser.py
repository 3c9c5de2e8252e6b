"""Adding numbers beyond a package that limits self-service, in a real browser (item 15)."""

import pytest
from playwright.sync_api import expect

from inventory.models import DID
from inventory.services import did_assign
from tests.billing.factories import fund
from tests.browser import ARTIFACTS
from tests.cart.test_browser import sign_in
from tests.inventory.factories import ClientPackageFactory, PackageFactory

# Ledger rows (the top-up) outlive a transactional test on SQLite: PostgreSQL only.
pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_adding_beyond_the_package_shows_what_it_allows(
    page, blocks, customer_admin, platform_admin, vat_rates, width
):
    fund(customer_admin.account, "100.00")
    client_package = ClientPackageFactory(
        account=customer_admin.account,
        package=PackageFactory(name="Starter", max_dids=2, limits_self_service=True),
    )
    did_assign(
        did=DID.objects.get(number="+31205550009"),
        account=customer_admin.account,
        client_package=client_package,
        actor=platform_admin,
    )
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, customer_admin)
    page.goto(f"/numbers/DE/search/?block={blocks['munich'].pk}")
    page.get_by_label("+49 89 555000").first.check()
    page.get_by_label("+49 89 555001").first.check()
    page.get_by_role("button", name="Add selected to cart").click()

    panel = page.locator("#cart-modal")
    expect(panel).to_contain_text(
        "Your package “Starter” allows 2 numbers: you hold 1, so you can add 1 more."
    )
    expect(page.locator("#cart-badge")).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"package-limit-panel-{width}.png"))

    panel.get_by_role("link", name="Continue shopping").click()
    page.get_by_label("+49 89 555001").first.uncheck()
    page.get_by_role("button", name="Add selected to cart").click()
    expect(panel.get_by_role("heading", name="Added to your cart")).to_be_visible()
    page.goto("/cart/")
    expect(page.locator("#cart-package")).to_have_text(
        "Your package “Starter” allows 2 numbers; you hold 1."
    )
