"""Issue 10 as people click it in Chromium. Item 13: a customer opens an invoice and
downloads its PDF (paid from the balance, nothing due); finance voids it; the credit note
appears for both and downloads. Item 19: a bank reference entered twice."""

import io
import re
from datetime import date
from decimal import Decimal

import pypdf
import pytest
from playwright.sync_api import expect

from billing.models import CreditNote, LedgerEntry
from billing.selectors import balance_for
from tests.billing.test_invoice_selectors import make_invoice
from tests.browser import ARTIFACTS
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


def sign_in(page, user):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def downloaded_text(page, click):
    with page.expect_download() as download:
        click()
    content = download.value.path().read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(content))
    return download.value.suggested_filename, " ".join(
        " ".join(p.extract_text().split()) for p in reader.pages
    )


def test_open_download_void_and_get_the_credit_note(page, customer, customer_admin, finance_user):
    invoice = make_invoice(customer, date(2026, 3, 2), "12.50", "2.63", "21")

    sign_in(page, customer_admin)
    page.goto("/billing/invoices/")
    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(page.get_by_role("heading", name=invoice.number)).to_be_visible()
    name, text = downloaded_text(
        page, lambda: page.get_by_role("link", name="Download PDF").click()
    )
    assert name == f"{invoice.number}.pdf"
    assert "Paid from prepaid balance on 2 Mar 2026" in text
    assert "Amount due 0.00 USD" in text and "Please pay" not in text

    sign_in(page, finance_user)
    page.goto(f"/billing/invoices/{invoice.pk}/")
    page.get_by_role("link", name="Void…").click()
    page.get_by_label("Why is this invoice void?").fill("Billed to the wrong company")
    page.get_by_role("button", name=f"Void {invoice.number}").click()
    expect(page.locator("#void-notice")).to_contain_text("Billed to the wrong company")
    credit_note = CreditNote.objects.get(invoice=invoice)
    expect(page.locator("#credit-note")).to_contain_text(credit_note.number)
    _, text = downloaded_text(page, lambda: page.get_by_role("link", name="Download PDF").click())
    assert "VOID" in text and f"Cancelled by credit note {credit_note.number}" in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invoice_void_finance.png"), full_page=True)

    sign_in(page, customer_admin)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/billing/invoices/")
    name, text = downloaded_text(
        page,
        lambda: page.get_by_role(
            "link", name=f"Download credit note {credit_note.number} as PDF"
        ).click(),
    )
    assert name == f"{credit_note.number}.pdf"
    assert f"Credits invoice {invoice.number}" in text
    assert "Totalcredited-15.13USD" in text.replace(" ", "")
    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(page.locator("#credit-note")).to_contain_text(credit_note.number)


def test_finance_reenters_a_bank_reference_and_is_led_to_the_original(page, customer, finance_user):
    """Issue 10, item 19 as finance clicks it: the second entry of a bank reference says it
    is a duplicate, credits nothing, and links to the original top-up."""
    sign_in(page, finance_user)
    page.set_viewport_size({"width": 390, "height": 844})
    for _ in range(2):  # typed in again later, as a new form
        page.goto(f"/billing/balances/{customer.pk}/")
        page.get_by_label("Amount (USD)").first.fill("120.00")
        page.get_by_label("Payment reference").fill("BANK-2026-0042")
        page.get_by_role("button", name="Record top-up").click()
    alert = page.locator("#topup-duplicate")
    expect(alert).to_contain_text("nothing was credited")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "topup_duplicate_390.png"), full_page=True)
    alert.get_by_role("link", name="Open the original top-up").click()
    original = LedgerEntry.objects.get(external_reference="BANK-2026-0042")
    expect(page).to_have_url(re.compile(rf"#entry-{original.pk}$"))
    expect(page.locator(f"#entry-{original.pk}")).to_contain_text("BANK-2026-0042")
    assert balance_for(customer) == Decimal("120.00")
    # The statement fits the phone: its rows stack, the balance is on screen, no sideways scroll.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    balance_cell = page.locator(f"#entry-{original.pk} td[data-label=Balance]")
    box = balance_cell.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
