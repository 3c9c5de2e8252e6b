"""Auto top-up as a customer clicks it in Chromium on a phone-sized screen: the saved
card shown, the settings saved, the card removed after confirming."""

import pytest
from playwright.sync_api import expect

from payments.models import AutoTopup
from tests.billing.test_invoice_browser import sign_in
from tests.browser import ARTIFACTS
from tests.payments.test_autotopup import saved_card

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_settings_then_remove_the_card_on_a_phone(page, client, fake_stripe, customer_admin):
    auto = saved_card(client, fake_stripe, customer_admin)
    AutoTopup.objects.filter(pk=auto.pk).update(enabled=False)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, customer_admin)
    page.goto("/payments/auto-top-up/")
    expect(page.get_by_text("Visa •••• 4242, expires 12/2030")).to_be_visible()
    page.get_by_label("Top up automatically").check()
    page.get_by_label("When the balance falls under (USD)").fill("25.00")
    page.get_by_label("Top up by (USD)").fill("40")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Auto top-up settings saved.")).to_be_visible()
    auto.refresh_from_db()
    assert (auto.enabled, str(auto.threshold), str(auto.amount)) == (True, "25.00", "40.00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "autotopup-settings-phone.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Remove card").click()
    expect(page.get_by_text("Visa •••• 4242, expires 12/2030")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove card").click()
    expect(page.get_by_text("Saved card removed; auto top-up is off.")).to_be_visible()
    expect(page.get_by_text("No card saved — save one with your next card top-up.")).to_be_visible()
    auto.refresh_from_db()
    assert (auto.enabled, auto.provider_payment_method_id) == (False, "")
