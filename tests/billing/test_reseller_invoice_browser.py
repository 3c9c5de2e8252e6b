"""Issue 11 as people click it in Chromium: a reseller's customer opens its invoice and
downloads the PDF — the reseller's name, VAT number and bank, nothing of the platform; the
reseller opens its margin report from the navigation, sees the chart and picks a period
(a wrong one is a message, not an error page)."""

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from billing.models import Invoice
from billing.services.invoices import invoice_for_charges
from tests.billing.resellers import PNG, customer_of, reseller_with_brand, resold, user_of
from tests.billing.test_invoice_browser import downloaded_text, sign_in
from tests.factories import platform

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"


def test_customer_gets_the_resellers_pdf_and_the_reseller_sees_its_margin(page, settings):
    settings.BILLING_BANK_DETAILS = "IBAN NL00 PLAT 0000 0000 00"
    platform()
    voxel = reseller_with_brand(
        "Voxel", vat_number="NL859048267B01", bank="IBAN NL91 VOXL 0417 1643 00", logo=PNG
    )
    buyer = customer_of(voxel, "Kunde GmbH")
    with time_machine.travel(datetime(2026, 1, 15, 10, 0, tzinfo=UTC), tick=False):
        subscription = resold(buyer, retail="10.00", wholesale="6.17")
        invoice = invoice_for_charges(
            account=buyer,
            charges=[subscription.charges.get(side="sale")],
            source=Invoice.Source.ORDER,
            idempotency_key="order:1",
            job="tests",
        )

    sign_in(page, user_of(buyer, "customer_admin"))
    page.goto("/billing/balance/")
    expect(page.get_by_text("IBAN NL91 VOXL 0417 1643 00")).to_be_visible()
    page.goto("/billing/invoices/")
    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(page.locator("#seller-brand")).to_have_text("Voxel Voice")
    name, text = downloaded_text(
        page, lambda: page.get_by_role("link", name="Download PDF").click()
    )
    assert name == f"{invoice.number}.pdf" and name.startswith(f"INV-R{voxel.pk}-")
    assert "Voxel Voice" in text and "NL859048267B01" in text and "IBAN NL91 VOXL" in text
    assert "PLAT" not in text and platform().name not in text and "6.17" not in text

    sign_in(page, user_of(voxel, "reseller_admin"))
    page.goto("/billing/invoices/")
    expect(page.get_by_role("link", name=invoice.number, exact=True)).to_be_visible()
    page.get_by_role("link", name="Margin report").click()
    page.get_by_label("From", exact=True).fill("2026-01-01")
    page.get_by_label("To", exact=True).fill("2026-01-31")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#margin-retail")).to_have_text("10.00")
    expect(page.locator("#margin-wholesale")).to_have_text("6.17")
    expect(page.locator("#margin-total")).to_have_text("3.83")
    expect(page.locator("#margin-chart rect[fill='#198754']")).to_have_count(2)  # legend + Jan
    page.goto("/billing/margin/?date_from=2026-02-30")
    expect(page.get_by_text("showing the last twelve months")).to_be_visible()
