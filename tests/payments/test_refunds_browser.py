"""A customer asks for unused balance back on a phone; finance pays it by bank transfer;
the customer downloads a receipt of the top-up. Screenshots in test-artifacts/."""

import io

import pypdf
import pytest
from playwright.sync_api import expect

from billing.selectors import balance_for
from tests.billing.factories import fund
from tests.browser import ARTIFACTS
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def sign_in(page, user):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_ask_pay_by_bank_and_download_a_receipt(page, customer_admin, finance_user):
    account = customer_admin.account
    entry = fund(account, "120.00")
    page.on("dialog", lambda dialog: dialog.accept())
    page.set_viewport_size({"width": 390, "height": 844})
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(page, customer_admin)
    page.goto("/billing/balance/")
    with page.expect_download() as download:
        page.locator(f"#entry-{entry.pk}").get_by_role("link", name="Receipt (PDF)").click()
    reader = pypdf.PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = " ".join(reader.pages[0].extract_text().split())
    assert "120.00 USD" in text and "not an invoice" in text, text

    page.get_by_role("link", name="Ask for unused balance back").click()
    page.get_by_label("Amount (USD)").fill("120.01")
    page.get_by_label("Note (optional)").fill("IBAN NL91 ABNA 0417 1643 00, J. Doe")
    page.get_by_role("button", name="Ask for the money back").click()
    expect(page.get_by_text("cannot be paid out")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "refunds_ask_refused_390.png"), full_page=True)
    page.get_by_label("Amount (USD)").fill("100")
    page.get_by_role("button", name="Ask for the money back").click()
    expect(page.locator("#payouts")).to_contain_text("100.00 USD")
    page.screenshot(path=str(ARTIFACTS / "refunds_balance_open_390.png"), full_page=True)

    sign_in(page, finance_user)
    page.goto("/payments/payouts/")
    page.get_by_role("link", name=account.name).click()
    expect(page.locator("#customer-note")).to_contain_text("NL91 ABNA")
    page.screenshot(path=str(ARTIFACTS / "refunds_payout_390.png"), full_page=True)
    page.get_by_label("Bank transfer", exact=True).check()
    page.get_by_label("Bank transfer reference").fill("SEPA-2026-0042")
    page.get_by_role("button", name="Pay out").click()
    expect(page.get_by_text("Paid back 100.00 USD by bank transfer")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "refunds_payout_paid.png"), full_page=True)
    assert str(balance_for(account)) == "20.00"

    sign_in(page, customer_admin)
    page.goto("/billing/balance/")
    expect(page.locator("#payouts")).to_contain_text("Paid")
    expect(page.locator("#balance")).to_contain_text("20.00")
