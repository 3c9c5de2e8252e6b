"""Auto top-up: a card saved on a paid card top-up (the task as a worker runs it), the run
that charges it off-session once per need, the webhook that credits it, declines and the
daily limit, two runs at once, and the settings page."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.models import Balance
from outbox.models import OutgoingEmail
from payments.models import AutoTopup, CardPayment
from payments.services import card
from payments.tasks import card_save, run_auto_topups
from tests.billing.factories import fund
from tests.billing.test_subscription_lifecycle import published
from tests.concurrency import run_in_threads
from tests.factories import AccountFactory, UserFactory
from tests.payments.fake_stripe import signed_event

pytestmark = pytest.mark.postgres

WEBHOOK = "/payments/stripe/webhook/"
PAGE = "/payments/auto-top-up/"
DAY1 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def post_event(client, fake, event_type, obj):
    body, headers = signed_event(event_type, obj, fake.webhook_secret)
    response = client.post(
        WEBHOOK,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )
    assert response.status_code == 200, response.content
    return response


def pay_saving_card(client, fake, user, amount="60.00"):
    """A card top-up with "save card" ticked, paid on the hosted page and credited by the
    signed webhook; returns the payment."""
    started = card.card_checkout_start(
        user=user,
        amount=Decimal(amount),
        success_url="http://testserver/ok/{payment}/",
        cancel_url="http://testserver/cancel/{payment}/",
        save_card=True,
    )
    session = fake.pay(started.payment.session_id, deliver=False)
    post_event(client, fake, "checkout.session.completed", session)
    started.payment.refresh_from_db()
    return started.payment


def saved_card(client, fake, user, *, threshold="100.00", amount="30.00"):
    """An account with a card saved (the save task run) and auto top-up on."""
    payment = pay_saving_card(client, fake, user)
    assert card_save.apply(args=[payment.pk]).get() is True
    AutoTopup.objects.filter(account=user.account).update(
        enabled=True, threshold=Decimal(threshold), amount=Decimal(amount)
    )
    return AutoTopup.objects.get(account=user.account)


def intent_posts(fake):
    return [
        r for r in fake.requests if r["method"] == "POST" and r["path"] == "/v1/payment_intents"
    ]


def balance(account):
    return Balance.objects.get(account=account).amount


# --- saving the card --------------------------------------------------------------------


def test_paid_save_card_payment_enqueues_the_save_and_the_task_records_the_card(
    client, fake_stripe, customer_admin, django_capture_on_commit_callbacks
):
    published()
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay_saving_card(client, fake_stripe, customer_admin)
    assert ("payments.tasks.card_save", [payment.pk]) in published()
    assert not AutoTopup.objects.exists()  # nothing saved inside the webhook's request

    assert card_save.apply(args=[payment.pk]).get() is True
    auto = AutoTopup.objects.get(account=customer_admin.account)
    intent = fake_stripe.payment_intents[payment.payment_intent_id]
    assert auto.provider_payment_method_id == intent["payment_method"]
    assert auto.provider_customer_id == intent["customer"] == payment.provider_customer_id
    assert auto.provider_customer_id.startswith("cus_")
    assert auto.card_label == "Visa •••• 4242, expires 12/2030"
    assert auto.enabled is False  # saving a card never turns auto top-up on

    assert card_save.apply(args=[payment.pk]).get() is True  # again: the same card
    assert AutoTopup.objects.get().provider_payment_method_id == auto.provider_payment_method_id
    paths = [r["path"] for r in fake_stripe.requests if r["method"] == "GET"]
    assert f"/v1/payment_methods/{auto.provider_payment_method_id}" in paths


def test_a_payment_without_save_card_saves_nothing(client, fake_stripe, customer_admin):
    started = card.card_checkout_start(
        user=customer_admin,
        amount=Decimal("60.00"),
        success_url="http://testserver/ok/{payment}/",
        cancel_url="http://testserver/cancel/{payment}/",
    )
    post_event(
        client,
        fake_stripe,
        "checkout.session.completed",
        fake_stripe.pay(started.payment.session_id, deliver=False),
    )
    assert card_save.apply(args=[started.payment.pk]).get() is False
    assert card_save.apply(args=[987654]).get() is False
    assert not AutoTopup.objects.exists()


def test_a_lost_save_is_caught_up_by_the_run_and_by_the_page(client, fake_stripe, customer_admin):
    payment = pay_saving_card(client, fake_stripe, customer_admin)  # task never ran
    assert run_auto_topups.apply().get()["cards_saved"] == 1
    assert AutoTopup.objects.get().card_label.startswith("Visa")
    assert run_auto_topups.apply().get()["cards_saved"] == 0  # done: not again

    AutoTopup.objects.all().delete()
    client.force_login(customer_admin)
    response = client.get(PAGE)
    assert "Visa •••• 4242" in response.content.decode()
    assert AutoTopup.objects.get().provider_customer_id == payment.provider_customer_id


# --- the run --------------------------------------------------------------------------------


def test_run_charges_once_per_account_under_threshold_and_the_webhook_credits(
    client, fake_stripe, customer_admin
):
    auto = saved_card(client, fake_stripe, customer_admin, threshold="80.00", amount="30.00")
    account = customer_admin.account
    # Others: one above its threshold, one suspended: neither is charged.
    above = UserFactory(account=AccountFactory(), role="customer_admin")
    saved_card(client, fake_stripe, above, threshold="10.00")
    suspended = UserFactory(account=AccountFactory(), role="customer_admin")
    saved_card(client, fake_stripe, suspended)
    suspended.account.status = "suspended"
    suspended.account.save(update_fields=["status"])

    counts = run_auto_topups.apply().get()
    assert counts["charged"] == 1
    (request,) = intent_posts(fake_stripe)
    payment = CardPayment.objects.get(purpose="auto_topup")
    assert payment.account == account and payment.created_by_job == "auto-top-up"
    assert payment.status == "open" and payment.amount == Decimal("30.00")
    assert request["idempotency_key"] == f"payment-intent-{payment.reference}"
    form = request["form"]
    assert form["off_session"] == "true" and form["confirm"] == "true"
    assert (form["customer"], form["payment_method"]) == (
        auto.provider_customer_id,
        auto.provider_payment_method_id,
    )
    assert (form["amount"], form["currency"]) == ("3000", "usd")
    assert balance(account) == Decimal("60.00")  # not before the webhook

    assert run_auto_topups.apply().get()["charged"] == 0  # the open payment blocks
    assert len(intent_posts(fake_stripe)) == 1

    intent = fake_stripe.payment_intents[payment.payment_intent_id]
    post_event(client, fake_stripe, "payment_intent.succeeded", intent)
    post_event(client, fake_stripe, "payment_intent.succeeded", intent)  # replay
    assert balance(account) == Decimal("90.00")
    payment.refresh_from_db()
    assert payment.status == "paid"

    assert run_auto_topups.apply().get()["charged"] == 0  # 90.00 is over 80.00
    assert len(intent_posts(fake_stripe)) == 1
    assert AutoTopup.objects.get(pk=account.pk).attempts == 1


def test_decline_marks_failed_emails_admins_and_counts_the_attempt(
    client, fake_stripe, customer_admin
):
    saved_card(client, fake_stripe, customer_admin)
    fake_stripe.decline_next("Your card has insufficient funds.", "card_declined")
    assert run_auto_topups.apply().get()["declined"] == 1
    payment = CardPayment.objects.get(purpose="auto_topup")
    assert payment.status == "failed"
    assert payment.failure_message == "Your card has insufficient funds."
    auto = AutoTopup.objects.get(account=customer_admin.account)
    assert auto.attempts == 1 and auto.last_failure_at is not None
    assert auto.last_failure_message == "Your card has insufficient funds."
    mail = OutgoingEmail.objects.get(key=f"auto-topup-failed:{payment.reference}")
    assert mail.to == [customer_admin.email]
    assert "insufficient funds" in mail.text and "Auto top-up failed" in mail.subject
    assert balance(customer_admin.account) == Decimal("60.00")

    client.force_login(customer_admin)
    page = client.get(PAGE).content.decode()
    assert "Tries today: 1 of 2" in page and "insufficient funds" in page


def test_a_failure_reported_later_by_the_webhook_is_recorded_and_emailed(
    client, fake_stripe, customer_admin
):
    saved_card(client, fake_stripe, customer_admin)
    assert run_auto_topups.apply().get()["charged"] == 1
    payment = CardPayment.objects.get(purpose="auto_topup")
    intent = dict(fake_stripe.payment_intents[payment.payment_intent_id])
    intent.update(status="requires_payment_method", last_payment_error={"message": "Lost card."})
    post_event(client, fake_stripe, "payment_intent.payment_failed", intent)
    post_event(client, fake_stripe, "payment_intent.payment_failed", intent)  # replay
    payment.refresh_from_db()
    assert (payment.status, payment.failure_message) == ("failed", "Lost card.")
    auto = AutoTopup.objects.get(account=customer_admin.account)
    assert auto.last_failure_message == "Lost card."
    assert OutgoingEmail.objects.filter(key__startswith="auto-topup-failed:").count() == 1
    assert balance(customer_admin.account) == Decimal("60.00")
    assert run_auto_topups.apply().get()["charged"] == 1  # the second try of the day
    assert len(intent_posts(fake_stripe)) == 2


def test_attempts_per_day_hold_and_reset_the_next_day(client, fake_stripe, customer_admin):
    with time_machine.travel(DAY1, tick=False) as clock:
        saved_card(client, fake_stripe, customer_admin)
        for _ in range(3):
            fake_stripe.decline_next()
        assert run_auto_topups.apply().get()["declined"] == 1
        clock.shift(timedelta(minutes=10))
        assert run_auto_topups.apply().get()["declined"] == 1
        clock.shift(timedelta(minutes=10))
        assert run_auto_topups.apply().get() == {
            "charged": 0,
            "declined": 0,
            "skipped": 1,
            "redriven": 0,
            "cards_saved": 0,
        }
        assert len(intent_posts(fake_stripe)) == 2
        assert OutgoingEmail.objects.filter(key__startswith="auto-topup-failed:").count() == 2
        last = OutgoingEmail.objects.filter(key__startswith="auto-topup-failed:").latest("pk")
        assert "not try again today" in last.text

        clock.move_to(DAY1.replace(hour=23, minute=55))
        assert run_auto_topups.apply().get()["skipped"] == 1
        clock.move_to(DAY1 + timedelta(days=1, hours=-8, minutes=5))  # 01:05 the next day
        assert run_auto_topups.apply().get()["declined"] == 1
        assert len(intent_posts(fake_stripe)) == 3
        auto = AutoTopup.objects.get(account=customer_admin.account)
        assert (auto.attempts_on, auto.attempts) == ((DAY1 + timedelta(days=1)).date(), 1)


def test_a_charge_whose_answer_was_lost_is_sent_again_with_the_same_key(
    client, fake_stripe, customer_admin
):
    saved_card(client, fake_stripe, customer_admin)
    account = customer_admin.account
    with time_machine.travel(DAY1, tick=False) as clock:
        # A run that died between opening the payment and hearing from the provider.
        payment = card.card_payment_open(
            account=account, amount="30.00", job="auto-top-up", purpose="auto_topup"
        )
        assert run_auto_topups.apply().get()["charged"] == 0  # open: blocks a new one
        assert intent_posts(fake_stripe) == []
        clock.shift(timedelta(minutes=11))
        assert run_auto_topups.apply().get()["redriven"] == 1
    (request,) = intent_posts(fake_stripe)
    assert request["idempotency_key"] == f"payment-intent-{payment.reference}"
    payment.refresh_from_db()
    assert payment.payment_intent_id and payment.status == "open"


def test_a_charge_never_confirmed_stops_blocking_after_stripes_retry_window(
    client, fake_stripe, customer_admin
):
    saved_card(client, fake_stripe, customer_admin)
    with time_machine.travel(DAY1, tick=False) as clock:
        assert run_auto_topups.apply().get()["charged"] == 1
        payment = CardPayment.objects.get(purpose="auto_topup")
        clock.shift(timedelta(days=2))
        run_auto_topups.apply().get()
        payment.refresh_from_db()
        assert payment.status == "open"  # Stripe may still deliver the webhook
        clock.shift(timedelta(days=1, minutes=1))
        run_auto_topups.apply().get()
    payment.refresh_from_db()
    assert payment.status == "failed" and "never confirmed" in payment.failure_message
    # The webhook arriving after all still credits it, once.
    intent = fake_stripe.payment_intents[payment.payment_intent_id]
    before = balance(customer_admin.account)
    post_event(client, fake_stripe, "payment_intent.succeeded", intent)
    assert balance(customer_admin.account) == before + payment.amount


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_charge_once(client, fake_stripe, customer_admin):
    saved_card(client, fake_stripe, customer_admin)
    results = run_in_threads(lambda i: run_auto_topups.apply().get(), count=6)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["charged"] for r in results) == 1
    assert len(intent_posts(fake_stripe)) == 1
    assert CardPayment.objects.filter(purpose="auto_topup").count() == 1
    assert AutoTopup.objects.get(account=customer_admin.account).attempts == 1


def test_no_keys_no_charge(client, fake_stripe, customer_admin, settings):
    saved_card(client, fake_stripe, customer_admin)
    settings.STRIPE_SECRET_KEY = ""
    assert run_auto_topups.apply().get()["charged"] == 0
    assert intent_posts(fake_stripe) == []


def test_run_is_in_the_beat_schedule_before_renewals():
    from didportal.celery import app

    entry = app.conf.beat_schedule["run-auto-topups"]
    assert entry["task"] == "payments.tasks.run_auto_topups"
    assert sorted(entry["schedule"].minute) == [5, 15, 25, 35, 45, 55]
    renewals = app.conf.beat_schedule["renew-subscriptions"]["schedule"].minute
    assert sorted(renewals) == [0, 10, 20, 30, 40, 50]


# --- the page -----------------------------------------------------------------------------


def test_page_without_a_card_says_how_to_save_one(client, fake_stripe, customer_admin):
    client.force_login(customer_admin)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "No card saved — save one with your next card top-up." in response.content.decode()
    response = client.post(PAGE, {"enabled": "on", "threshold": "20", "amount": "50"})
    assert response.status_code == 200
    assert "Save a card first" in response.content.decode()
    assert not AutoTopup.objects.filter(enabled=True).exists()


def test_settings_saved_and_card_removed(client, fake_stripe, customer_admin):
    auto = saved_card(client, fake_stripe, customer_admin)
    AutoTopup.objects.filter(pk=auto.pk).update(enabled=False)
    client.force_login(customer_admin)
    page = client.get(PAGE).content.decode()
    assert "Visa •••• 4242" in page and "data-confirm" in page
    response = client.post(PAGE, {"enabled": "on", "threshold": "15.50", "amount": "25"})
    assert response.status_code == 302
    auto.refresh_from_db()
    assert (auto.enabled, auto.threshold, auto.amount) == (
        True,
        Decimal("15.50"),
        Decimal("25.00"),
    )
    method = auto.provider_payment_method_id
    assert client.get(reverse("payments:auto_topup_card_remove")).status_code == 405
    assert client.post(reverse("payments:auto_topup_card_remove")).status_code == 302
    auto.refresh_from_db()
    assert (auto.enabled, auto.provider_payment_method_id, auto.card_label) == (False, "", "")
    assert any(r["path"] == f"/v1/payment_methods/{method}/detach" for r in fake_stripe.requests)
    assert "No card saved" in client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"threshold": "abc", "amount": "50"}, "threshold", "Enter a number."),
        ({"threshold": "20", "amount": "NaN"}, "amount", "Enter a number."),
        ({"threshold": "20", "amount": "Infinity"}, "amount", "Enter a number."),
        ({"threshold": "-1", "amount": "50"}, "threshold", "greater than or equal to 0"),
        ({"threshold": "20", "amount": "0.99"}, "amount", "greater than or equal to 1"),
        ({"threshold": "20", "amount": "1.001"}, "amount", "2 decimal places"),
        ({"threshold": "20", "amount": "1e400"}, "amount", ""),
        ({"threshold": "20", "amount": "10000.01"}, "amount", "less than or equal to 10000"),
        ({"threshold": "99999999999999", "amount": "50"}, "threshold", ""),
        ({"threshold": "20\x00", "amount": "50"}, "threshold", ""),
        ({"threshold": "", "amount": ""}, "amount", "required"),
    ],
)
def test_settings_form_odd_input(client, fake_stripe, customer_admin, data, field, message):
    saved_card(client, fake_stripe, customer_admin)
    before = AutoTopup.objects.values("enabled", "threshold", "amount").get()
    client.force_login(customer_admin)
    response = client.post(PAGE, {"enabled": "on", **data})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert AutoTopup.objects.values("enabled", "threshold", "amount").get() == before


def test_first_topup_minimum_applies_before_any_topup(client, fake_stripe, customer_admin):
    AutoTopup.objects.create(
        account=customer_admin.account,
        provider_customer_id="cus_x",
        provider_payment_method_id="pm_x",
    )
    client.force_login(customer_admin)
    response = client.post(PAGE, {"enabled": "on", "threshold": "10", "amount": "20"})
    assert "The least an auto top-up can be is 50.00 USD." in response.content.decode()
    fund(customer_admin.account, "5.00")
    assert client.post(PAGE, {"threshold": "10", "amount": "20"}).status_code == 302


def test_another_tenant_cannot_see_or_change_it(client, fake_stripe, customer_admin, stranger):
    auto = saved_card(client, fake_stripe, customer_admin)
    client.force_login(stranger)
    page = client.get(PAGE, {"account": customer_admin.account.pk}).content.decode()
    assert "Visa" not in page and "No card saved" in page
    client.post(reverse("payments:auto_topup_card_remove"), {"account": auto.pk})
    client.post(PAGE, {"account": auto.pk, "threshold": "1", "amount": "1"})
    auto_after = AutoTopup.objects.get(pk=auto.pk)
    assert (auto_after.enabled, auto_after.provider_payment_method_id, auto_after.threshold) == (
        True,
        auto.provider_payment_method_id,
        auto.threshold,
    )

    # A reseller's customer pays its reseller: without the reseller's keys there is no
    # auto top-up to see (404), even with the platform's keys set.
    reseller = AccountFactory(kind="reseller")
    theirs = UserFactory(account=AccountFactory(parent=reseller), role="customer_admin")
    client.force_login(theirs)
    assert client.get(PAGE).status_code == 404
    assert client.post(reverse("payments:auto_topup_card_remove")).status_code == 404


def test_members_who_may_not_buy_are_refused(client, fake_stripe, customer_member):
    customer_member.may_buy = False
    customer_member.save(update_fields=["may_buy"])
    client.force_login(customer_member)
    assert client.get(PAGE).status_code == 403
    assert client.post(reverse("payments:auto_topup_card_remove")).status_code == 403
