"""In a browser, on a phone-sized screen: a reseller's admin enters its Stripe keys from the
brand page, its customer is then offered card payment; the admin removes the keys (asked
first) and the customer sees the reseller's bank details only."""

import pytest

from accounts.branding import brand_update
from tests.browser import ARTIFACTS
from tests.factories import TEST_PASSWORD, AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _sign_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"resellers_{name}.png"), full_page=True)


def test_keys_entered_then_removed(browser, live_server, settings):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    reseller = AccountFactory(kind="reseller", name="Voxel Telecom")
    admin = UserFactory(account=reseller, role="reseller_admin")
    brand_update(account=reseller, actor=admin, bank_details="IBAN DE00 VOXL 1234 5678 90")
    buyer = UserFactory(account=AccountFactory(parent=reseller), role="customer_admin")

    contexts = []

    def phone():
        context = browser.new_context(base_url=live_server.url, viewport=PHONE)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    try:
        page = phone()
        errors = []
        # The refused form answers 400 on purpose; any other console error is a fault.
        page.on(
            "console",
            lambda m: m.type == "error" and "status of 400" not in m.text and errors.append(m.text),
        )
        _sign_in(page, admin)
        page.goto("/accounts/brand/")
        page.click("#stripe-keys-link")
        assert "No keys yet" in page.inner_text("#keys-status")

        # A mixed-mode pair is refused, naming the field; the secret is not echoed.
        page.get_by_label("Publishable key").fill("pk_live_" + "P" * 40)
        page.get_by_label("Secret key").fill("sk_test_" + "S" * 40)
        page.get_by_label("Webhook signing secret").fill("whsec_" + "W" * 40)
        page.get_by_role("button", name="Save keys").click()
        page.wait_for_load_state()
        assert "use both keys of the same mode" in page.inner_text("#stripe-keys-form")
        assert page.get_by_label("Secret key").input_value() == ""
        _shot(page, "keys_error_phone")

        page.get_by_label("Publishable key").fill("pk_test_" + "P" * 40)
        page.get_by_label("Secret key").fill("sk_test_" + "S" * 36 + "9a8b")
        page.get_by_label("Webhook signing secret").fill("whsec_" + "W" * 36 + "7c6d")
        page.get_by_role("button", name="Save keys").click()
        page.wait_for_load_state()
        assert page.inner_text("#secret-key-hint") == "sk_test_…9a8b"
        assert page.inner_text("#webhook-secret-hint") == "whsec_…7c6d"
        assert "/payments/stripe/webhook/" in page.inner_text("#webhook-url")
        assert "charge.refunded" in page.inner_text("#webhook-events")
        assert "keys added" in page.inner_text("#keys-history")
        # Nothing on the page is wider than the phone's screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(page, "keys_saved_phone")

        customer = phone()
        _sign_in(customer, buyer)
        customer.goto("/billing/balance/")
        assert customer.locator("#pay-by-card").is_visible()
        _shot(customer, "customer_card_phone")

        page.click("#remove-keys")
        assert "Remove your Stripe keys?" in page.inner_text("h1")
        _shot(page, "keys_remove_confirm_phone")
        page.click("#confirm-remove")
        page.wait_for_load_state()
        assert "No keys yet" in page.inner_text("#keys-status")
        assert "keys removed" in page.inner_text("#keys-history")

        customer.goto("/billing/balance/")
        assert customer.locator("#pay-by-card").count() == 0
        assert "IBAN DE00 VOXL 1234 5678 90" in customer.inner_text("main")
        _shot(customer, "customer_bank_phone")
        assert not errors, errors
    finally:
        for context in contexts:
            context.close()
