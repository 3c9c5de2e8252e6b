"""Finance on a phone, in Chromium: a card payment refunded after it was spent arrives as a
signed webhook; finance finds the payment and its log, then settles the claim."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.services import charge
from payments.models import BalanceClaim
from tests.browser import ARTIFACTS
from tests.factories import TEST_PASSWORD
from tests.payments.webhook_helpers import URL, open_paid

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"webhooks_{name}.png"), full_page=True)


def test_finance_finds_a_refund_and_settles_its_claim(
    page, live_server, fake_stripe, customer_admin, finance_user
):
    fake_stripe.webhook_url = live_server.url + URL
    payment, session = open_paid(fake_stripe, customer_admin)
    assert fake_stripe.send_event("checkout.session.completed", session) == 200
    charge(account=payment.account, amount="45.00", idempotency_key="spend", job="test")
    fake_stripe.create_refund({"payment_intent": session["payment_intent"]})
    refunded = fake_stripe.charge_for(session["payment_intent"])
    assert fake_stripe.send_event("charge.refunded", refunded) == 200
    assert fake_stripe.send_event("charge.refunded", refunded, secret="whsec_forged") == 400

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(finance_user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Toggle navigation").click()
    page.get_by_role("link", name="Payments").first.click()
    page.get_by_role("link", name="Card payments").first.click()
    expect(page.get_by_role("heading", name="Card payments")).to_be_visible()
    expect(page.get_by_text("Refunded 60.00")).to_be_visible()
    _shot(page, "payments")

    page.get_by_role("link", name=payment.reference).click()
    expect(page.get_by_text("refund of 60.00 USD: debited 15.00, claimed 45.00")).to_be_visible()
    _shot(page, "payment")

    page.get_by_label("breadcrumb").get_by_role("link", name="Card payments").click()
    page.get_by_role("link", name="Webhook log").click()
    page.get_by_label("Outcome").select_option("refused")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".list-group-item-danger")).to_have_count(1)
    _shot(page, "events")

    page.get_by_role("link", name="Balance claims").click()
    page.get_by_role("link", name="Settle…").click()
    page.get_by_role("button", name="Mark settled").click()  # the browser asks for the note
    assert BalanceClaim.objects.get().settled_at is None
    page.get_by_label("How it was settled").fill("Paid by bank transfer, ref 881")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    _shot(page, "claim")
    page.get_by_role("button", name="Mark settled").click()
    expect(page.get_by_text("is settled")).to_be_visible()
    assert "cannot be undone" in dialogs[0]
    claim = BalanceClaim.objects.get()
    assert claim.settled_by == finance_user and claim.amount == Decimal("45.00")
    _shot(page, "claims")
