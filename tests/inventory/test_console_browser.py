"""The admin's loading flow in the browser: add a range, import a file with a bad row, read
the error, fix the file, import it, and find all the numbers by prefix."""

import pytest
from playwright.sync_api import expect

from inventory.models import DID
from tests.factories import TEST_PASSWORD, UserFactory, platform
from tests.inventory.factories import NumberBlockFactory, OperatorFactory
from tests.inventory.import_files import amsterdam_rows, csv_bytes, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_adds_a_range_imports_a_fixed_file_and_finds_the_numbers(page, settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    admin = UserFactory(account=platform(), role="platform_admin")
    block = NumberBlockFactory(operator=OperatorFactory(name="KPN"))

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # 1. A range through the block's form.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Pricing"
    ).click()
    page.get_by_role("link", name=f"Add numbers to block {block.pk}").click()
    page.get_by_label("Numbers").fill("5550000-5550099")
    page.get_by_role("button", name="Add numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("100 numbers added")

    # 2. A file with one bad row: the preview names it and nothing is imported.
    rows = amsterdam_rows(20, start=5551000)
    rows[6] = row("+3120555100", tag="too short")
    bad, fixed = tmp_path / "numbers.csv", tmp_path / "numbers-fixed.csv"
    bad.write_bytes(csv_bytes(rows))
    fixed.write_bytes(csv_bytes(amsterdam_rows(20, start=5551000)))

    page.get_by_role("navigation", name="Stock console").get_by_role("link", name="Import").click()
    page.get_by_label("CSV or XLSX file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("alert")).to_contain_text("1 error")
    expect(page.locator("table").last).to_contain_text("+3120555100 is not a valid NL number.")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    assert DID.objects.count() == 100

    # 3. The fixed file imports, into the same block.
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("CSV or XLSX file").set_input_files(str(fixed))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("button", name="Import 20 numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("20 numbers imported.")
    assert DID.objects.filter(block=block).count() == 120

    # 4. Both batches are in the list.
    page.get_by_role("navigation", name="Stock console").get_by_role("link", name="Numbers").click()
    page.get_by_label("Number starts with").fill("+312055510")
    page.get_by_label("Number starts with").press("Enter")
    page.get_by_role("link", name="+31205551019").wait_for()
    assert page.locator("#did-results tbody tr").count() == 20
    page.get_by_label("Number starts with").fill("+31205550099")
    page.get_by_label("Number starts with").press("Enter")
    page.get_by_role("link", name="+31205550099").wait_for()


def test_the_blocks_page_fits_a_phone(page):
    """Its table scrolls inside its own box: the hidden "Actions" label, absolutely
    positioned, once stretched the whole page past 390 px."""
    admin = UserFactory(account=platform(), role="platform_admin")
    NumberBlockFactory(operator=OperatorFactory(name="KPN"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/staff/inventory/blocks/")
    expect(page.get_by_role("heading", name="Number blocks & pricing")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
