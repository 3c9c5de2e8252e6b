"""An admin uploads a file with mistakes, reads the preview, fixes it and imports it."""

import pytest
from playwright.sync_api import expect

from inventory.models import DID
from tests.factories import TEST_PASSWORD
from tests.inventory.factories import DIDFactory, NumberBlockFactory, OperatorFactory
from tests.inventory.import_files import HEADER, amsterdam_rows, csv_bytes, row, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_upload_fix_and_import(page, platform_admin, settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    OperatorFactory(name="KPN")
    rows = amsterdam_rows(20)
    rows[4] = row("+3120555000", tag="short")
    rows[9] = row("+31205550001")
    rows[14] = row("+31205550014", operator="KPN Wholesale", monthly_price="2,50")
    bad, good = tmp_path / "numbers.csv", tmp_path / "numbers-fixed.csv"
    bad.write_bytes(csv_bytes(rows))
    good.write_bytes(csv_bytes(amsterdam_rows(20)))

    log_in(page, platform_admin)

    page.goto("/staff/inventory/import/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("alert")).to_contain_text("4 errors")
    table = page.locator("table").last
    expect(table).to_contain_text("+3120555000 is not a valid NL number.")
    expect(table).to_contain_text("+31205550001 is also on row 3.")
    expect(table).to_contain_text("no operator is named “KPN Wholesale”")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    page.screenshot(path=str(tmp_path.parent / "import-preview-errors.png"), full_page=True)

    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("CSV or XLSX file").set_input_files(str(good))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("button", name="Import 20 numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("20 numbers imported.")
    assert DID.objects.count() == 20


def test_xlsx_upload_dry_run_and_confirm(page, platform_admin, settings, tmp_path):
    """A real .xlsx (written by openpyxl) goes through the page: upload, preview, import."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    OperatorFactory(name="KPN")
    workbook = tmp_path / "numbers.xlsx"
    workbook.write_bytes(xlsx_bytes(amsterdam_rows(12, tag="from-excel")))

    log_in(page, platform_admin)

    page.goto("/staff/inventory/import/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(workbook))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_text("What will be imported")).to_be_visible()
    expect(page.get_by_text("could not be read")).to_have_count(0)
    page.get_by_role("button", name="Import 12 numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("12 numbers imported.")
    assert DID.objects.filter(tag="from-excel").count() == 12


def test_export_imports_back_unchanged(page, platform_admin, settings, tmp_path):
    """Numbers page → "Export these numbers as CSV" → the numbers are gone → the same file
    through the import page: the same numbers, in the same block, with the same fields."""
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    block = NumberBlockFactory(
        operator=OperatorFactory(name="KPN"), sms=True, setup_fee="1.50", monthly_price="2.125"
    )
    DIDFactory(block=block, number="+31205550000", tag="=SUM(1)", notes="-x, @y and +1+2")
    DIDFactory(block=block, number="+31205550001", status="reserved", tag="＝1+1")
    DIDFactory(block=block, number="+31205550002", status="archive", notes="line 1\nline 2")
    fields = ("number", "status", "tag", "notes", "block_id")
    before = sorted(DID.objects.values_list(*fields))

    log_in(page, platform_admin)
    page.goto(f"/staff/inventory/dids/?block={block.pk}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export these numbers as CSV").click()
    exported = tmp_path / "exported.csv"
    download_info.value.save_as(exported)
    text = exported.read_text()
    assert text.splitlines()[0].startswith(",".join(HEADER))
    assert (
        "+31205550000,KPN,NL,Amsterdam,local,North Holland,20,voice;sms,in_stock,'=SUM(1)" in text
    )

    DID.objects.all().delete()
    page.goto("/staff/inventory/import/")
    page.get_by_label("CSV or XLSX file").set_input_files(str(exported))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_role("button", name="Import 3 numbers").click()
    expect(page.get_by_role("alert")).to_contain_text("3 numbers imported.")
    assert sorted(DID.objects.values_list(*fields)) == before
