"""Bank reconciliation as finance clicks it in Chromium: upload a CAMT.053 file, review
the matched lines, confirm, see the balance; then assign an unmatched payment by hand.
Also a phone-sized look at the statement page."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.selectors import balance_for
from payments.references import reference_display
from tests.browser import ARTIFACTS
from tests.factories import TEST_PASSWORD, AccountFactory, platform
from tests.payments.bank_data import camt053

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def sign_in(page, user):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_upload_confirm_and_assign(page, finance_user, tmp_path):
    direct_a = AccountFactory(name="Direct A", parent=platform())
    direct_b = AccountFactory(name="Direct B", parent=platform())
    statement = tmp_path / "camt053.xml"
    statement.write_bytes(camt053(direct_a, direct_b))

    sign_in(page, finance_user)
    page.get_by_role("link", name="Payments").first.click()
    page.get_by_role("link", name="Bank statements").first.click()
    expect(page.get_by_text("No statement uploaded yet")).to_be_visible()
    page.set_input_files("input[type=file]", str(statement))
    page.get_by_role("button", name="Upload and match").click()
    expect(page.get_by_text("6 credit line(s) read: 3 matched")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "bank-statement.png"), full_page=True)

    page.get_by_role("button", name="Book all 3 matched…").click()
    expect(page.get_by_role("heading", name="Book 3 transfers?")).to_be_visible()
    expect(page.locator("#total")).to_have_text("215.51")
    assert balance_for(direct_a) == Decimal("0.00")  # asking books nothing
    page.screenshot(path=str(ARTIFACTS / "bank-confirm.png"), full_page=True)
    page.get_by_role("button", name="Book 3 transfers").click()
    expect(page.get_by_text("Booked 3 transfer(s), 215.51 in all")).to_be_visible()
    assert balance_for(direct_a) == Decimal("125.50")
    assert balance_for(direct_b) == Decimal("90.01")

    page.get_by_role("link", name="Unmatched payments").click()
    page.get_by_role("link", name="Someone Unknown").click()
    page.get_by_placeholder("Name, id or RF reference").fill(reference_display(direct_a.pk))
    page.get_by_role("button", name="Find").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Assign and book").click()
    expect(page.get_by_text("assigned to Direct A, booked")).to_be_visible()
    assert balance_for(direct_a) == Decimal("165.50")
    page.screenshot(path=str(ARTIFACTS / "bank-line.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="camt053.xml").click()
    expect(page.locator("#lines")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "bank-statement-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
