"""An admin adds a range of numbers to a block in the browser and finds them by prefix."""

import pytest

from catalog.models import StockDelta
from inventory.models import DID
from tests.factories import TEST_PASSWORD, UserFactory, platform
from tests.inventory.factories import NumberBlockFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def remove_stock_afterwards(transactional_db):
    """On SQLite the end-of-test flush fails while numbers exist: deleting them fires the
    catalog's stock triggers, which insert rows pointing at blocks being flushed."""
    yield
    DID.objects.all().delete()
    StockDelta.objects.all().delete()


def test_admin_adds_a_range_and_finds_it_by_prefix(page, remove_stock_afterwards):
    admin = UserFactory(account=platform(), role="platform_admin")
    block = NumberBlockFactory()

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Pricing"
    ).click()
    page.get_by_role("link", name=f"Add numbers to block {block.pk}").click()
    page.get_by_label("Numbers").fill("5550000-5550099")
    page.get_by_role("button", name="Add numbers").click()

    assert "100 numbers added" in page.get_by_role("alert").inner_text()
    assert DID.objects.filter(block=block).count() == 100

    page.get_by_label("Number starts with").fill("+3120555005")
    page.get_by_label("Number starts with").press("Enter")
    page.get_by_role("link", name="+31205550059").wait_for()
    rows = page.locator("#did-results tbody tr")
    assert rows.count() == 10
    assert "+31205550060" not in page.locator("#did-results").inner_text()
