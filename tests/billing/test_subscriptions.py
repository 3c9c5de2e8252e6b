"""Subscription services: start, renew, hold, resume after a top-up, cancel and end."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import LedgerEntry, Subscription, SubscriptionCharge
from billing.selectors import balance_for, balance_mismatches
from billing.services import InsufficientBalance, topup_record
from billing.services.renewals import (
    subscription_renew,
    subscriptions_renew_due,
    subscriptions_resume_after_topup,
    subscriptions_resume_due,
)
from billing.services.subscriptions import (
    block_price_snapshot,
    subscription_cancel,
    subscriptions_end_due,
    subscriptions_end_released,
)
from billing.tasks import resume_subscriptions
from inventory.choices import DIDStatus
from inventory.services import (
    client_package_deactivate,
    client_package_reactivate,
    holds_release_expired,
)
from outbox.services import outbox_flush
from tests.billing.factories import fund, spend
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.inventory.factories import ClientPackageFactory, NumberBlockFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _buyer_outside_the_eu(customer):
    """These tests are about periods, holds and balances: a buyer without VAT keeps each
    charge equal to the price (VAT on charges: tests/billing/test_charge_vat.py)."""
    customer.country = "US"
    customer.save(update_fields=["country"])


S = Subscription.Status


def charges(subscription):
    return list(subscription.charges.order_by("period_index"))


# --- Prices and start -----------------------------------------------------------------------


def test_block_price_snapshot_adds_extra_channels():
    block = NumberBlockFactory(
        monthly_price=Decimal("2.00000"),
        weekly_price=Decimal("0.60005"),
        channels_included=2,
        extra_channel_monthly_price=Decimal("0.50000"),
        setup_fee=Decimal("1.00000"),
    )
    snap = block_price_snapshot(block=block, period="monthly", channels=5)
    assert snap == {
        "recurring_price": Decimal("3.50"),
        "extra_channels_price": Decimal("1.50"),
        "setup_fee": Decimal("1.00"),
        "period_unit": "month",
        "period_count": 1,
        "channels": 5,
        "included_channels": 2,
    }
    assert block_price_snapshot(block=block, period="weekly")["recurring_price"] == Decimal("0.60")
    with pytest.raises(ValidationError):
        block_price_snapshot(block=block, period="daily")


def test_start_charges_first_period_and_setup_fee(customer):
    fund(customer, "20.00")
    sub = start(customer, price="5.00", setup="1.50")
    assert (sub.status, sub.current_period_index) == (S.ACTIVE, 0)
    assert sub.next_renewal_at == sub.current_period_end > sub.current_period_start
    [first] = charges(sub)
    assert first.amount == Decimal("6.50")
    assert first.ledger_entry.amount == Decimal("-6.50")
    assert first.ledger_entry.idempotency_key == f"subscription:{sub.pk}:period:0"
    assert balance_for(customer) == Decimal("13.50")


def test_start_is_idempotent(customer):
    fund(customer, "20.00")
    did = held_did(customer)
    first = start(customer, did=did, idempotency_key="order:1:item:1")
    again = start(customer, did=did, idempotency_key="order:1:item:1")
    assert first.pk == again.pk
    assert SubscriptionCharge.objects.count() == 1
    assert balance_for(customer) == Decimal("15.00")


def test_start_without_balance_saves_nothing(customer):
    fund(customer, "1.00")
    with pytest.raises(InsufficientBalance):
        start(customer, price="5.00")
    assert not Subscription.objects.exists()
    assert balance_for(customer) == Decimal("1.00")


def test_start_refuses_a_number_of_someone_else(customer, stranger):
    fund(customer)
    did = held_did(stranger.account)
    with pytest.raises(ValidationError):
        start(customer, did=did)


def test_one_live_subscription_per_number(customer):
    fund(customer)
    did = held_did(customer)
    start(customer, did=did)
    with pytest.raises(ValidationError):
        start(customer, did=did)


def test_the_database_refuses_two_charges_for_one_period(customer):
    fund(customer)
    sub = start(customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionCharge.objects.create(
            subscription=sub,
            period_index=7,
            period_start=sub.current_period_start,
            period_end=sub.current_period_end,
            amount=Decimal("0.00"),
        )


def test_one_time_never_renews(customer):
    fund(customer, "20.00")
    sub = start(customer, billing_type="one_time", price="9.00", setup="1.00")
    assert (sub.next_renewal_at, sub.current_period_end, sub.period_unit) == (None, None, "")
    later = timezone.now() + timedelta(days=400)
    assert subscriptions_renew_due(now=later)["renewed"] == 0
    assert balance_for(customer) == Decimal("10.00")


# --- Renewal --------------------------------------------------------------------------------


def test_renewal_charges_the_snapshot_price_once(customer):
    fund(customer, "20.00")
    sub = start(customer, unit="day", price="2.00")
    sub.did.block.monthly_price = Decimal("99")  # today's list price does not matter
    sub.did.block.save()
    due = sub.next_renewal_at
    assert subscriptions_renew_due(now=due)["renewed"] == 1
    assert subscriptions_renew_due(now=due)["renewed"] == 0  # a second run changes nothing
    assert subscription_renew(subscription=sub, now=due) == "skipped"
    sub.refresh_from_db()
    assert [c.amount for c in charges(sub)] == [Decimal("2.00")] * 2
    assert sub.current_period_index == 1
    assert sub.next_renewal_at == due + timedelta(days=1)
    assert balance_for(customer) == Decimal("16.00")


def test_a_late_run_charges_every_missed_period(customer):
    fund(customer, "20.00")
    sub = start(customer, unit="day", price="1.00")
    subscriptions_renew_due(now=sub.current_period_end + timedelta(days=3, hours=1))
    sub.refresh_from_db()
    assert sub.current_period_index == 4
    starts = [c.period_start for c in charges(sub)]
    ends = [c.period_end for c in charges(sub)]
    assert starts[1:] == ends[:-1]


def test_insufficient_balance_holds_number_and_mails(
    customer, customer_admin, mailoutbox, django_capture_on_commit_callbacks
):
    fund(customer, "5.00")
    sub = start(customer, price="5.00")
    with django_capture_on_commit_callbacks(execute=True):
        counts = subscriptions_renew_due(now=sub.next_renewal_at)
    assert counts["hold"] == 1
    sub.refresh_from_db()
    sub.did.refresh_from_db()
    assert (sub.status, sub.next_renewal_at) == (S.HOLD, None)
    assert sub.did.status == DIDStatus.HOLD
    assert sub.did.history.first().history_change_reason.startswith("renew_subscriptions:")
    outbox_flush()  # e-mails go through the outbox (the low-balance one may come too)
    held = [m for m in mailoutbox if "on hold" in m.subject]
    assert [m.to for m in held] == [[customer_admin.email]]
    assert len(charges(sub)) == 1


def test_topup_resumes_held_subscriptions_oldest_first(customer, finance_user):
    fund(customer, "10.00")
    older, newer = start(customer, price="5.00"), start(customer, price="5.00")
    subscriptions_renew_due(now=newer.next_renewal_at)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == (S.HOLD, S.HOLD)
    assert older.renewal_failed_at <= newer.renewal_failed_at

    topup_record(account=customer, amount="7.00", external_reference="T1", actor=finance_user)
    resume_subscriptions.apply(args=[customer.pk])  # the task the top-up enqueues
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == (S.ACTIVE, S.HOLD)
    older.did.refresh_from_db()
    assert older.did.status == DIDStatus.ACTIVE
    assert older.next_renewal_at > timezone.now()
    assert balance_for(customer) == Decimal("2.00")

    topup_record(account=customer, amount="3.00", external_reference="T2", actor=finance_user)
    resume_subscriptions.apply(args=[customer.pk])
    newer.refresh_from_db()
    assert newer.status == S.ACTIVE
    assert balance_for(customer) == Decimal("0.00")
    assert list(balance_mismatches()) == []


def test_resume_keeps_a_package_hold(customer):
    fund(customer, "5.00")
    package = ClientPackageFactory(account=customer)
    did = held_did(customer)
    did.client_package = package
    did.save()
    sub = start(customer, did=did, price="5.00")
    subscriptions_renew_due(now=sub.next_renewal_at)
    client_package_deactivate(client_package=package, job="tests")
    fund(customer, "5.00")
    assert subscriptions_resume_after_topup(account=customer) == 1
    did.refresh_from_db()
    assert did.status == DIDStatus.HOLD  # the package still holds it


def test_a_reactivated_package_keeps_an_unpaid_hold(customer):
    fund(customer, "5.00")
    package = ClientPackageFactory(account=customer)
    did = held_did(customer)
    did.client_package = package
    did.save()
    sub = start(customer, did=did, price="5.00")
    subscriptions_renew_due(now=sub.next_renewal_at)  # unpaid: on hold
    client_package_deactivate(client_package=package, job="tests")
    client_package_reactivate(client_package=package, job="tests")
    did.refresh_from_db()
    assert (did.status, did.unpaid) == (DIDStatus.HOLD, True)  # still unpaid
    fund(customer, "5.00")
    assert subscriptions_resume_after_topup(account=customer) == 1
    did.refresh_from_db()
    assert (did.status, did.unpaid) == (DIDStatus.ACTIVE, False)


def test_periodic_scan_resumes_what_a_lost_topup_callback_missed(customer):
    fund(customer, "5.00")
    sub = start(customer, price="5.00")
    subscriptions_renew_due(now=sub.next_renewal_at)
    fund(customer, "5.00")  # no on-commit callback runs in this test
    assert subscriptions_resume_due() == 1
    sub.refresh_from_db()
    assert sub.status == S.ACTIVE


def test_hold_expiry_releases_number_and_ends_subscription(customer, settings):
    settings.DID_HOLD_DAYS = 30
    fund(customer, "5.00")
    did = held_did(customer, after_hold_status=DIDStatus.RESERVED)
    sub = start(customer, did=did, price="5.00")
    subscriptions_renew_due(now=sub.next_renewal_at)
    assert holds_release_expired(now=timezone.now() + timedelta(days=31)) == 1
    assert subscriptions_end_released() == 0  # the release ended it already
    sub.refresh_from_db()
    did.refresh_from_db()
    assert (sub.status, did.status, did.owner) == (S.ENDED, DIDStatus.RESERVED, None)
    assert "hold expired" in sub.end_reason
    fund(customer, "50.00")
    assert subscriptions_resume_after_topup(account=customer) == 0
    assert subscriptions_end_released() == 0


def test_active_subscription_whose_number_was_released_ends_without_charge(customer):
    fund(customer, "20.00")
    sub = start(customer, price="5.00")
    from inventory.services import did_transition

    did_transition(did=sub.did, to_status=DIDStatus.IN_STOCK, job="tests", reason="admin")
    sub.refresh_from_db()
    assert (sub.status, sub.end_reason) == (S.ENDED, "number released (tests: admin)")
    assert subscription_renew(subscription=sub, now=sub.next_renewal_at) == "skipped"
    assert balance_for(customer) == Decimal("15.00")


# --- Cancel and end -------------------------------------------------------------------------


def test_cancel_runs_to_period_end_then_releases(customer, customer_admin):
    fund(customer, "20.00")
    sub = start(customer, price="5.00")
    period_end = sub.current_period_end
    sub = subscription_cancel(subscription=sub, actor=customer_admin)
    assert (sub.status, sub.next_renewal_at) == (S.CANCELLED, None)
    assert subscriptions_renew_due(now=period_end)["renewed"] == 0
    assert subscriptions_end_due(now=period_end - timedelta(seconds=1)) == 0
    assert subscriptions_end_due(now=period_end) == 1
    sub.refresh_from_db()
    sub.did.refresh_from_db()
    assert (sub.status, sub.did.status, sub.did.owner) == (S.ENDED, DIDStatus.IN_STOCK, None)
    assert subscriptions_end_due(now=period_end) == 0
    assert balance_for(customer) == Decimal("15.00")


def test_cancel_a_held_subscription_releases_now(customer, customer_admin):
    fund(customer, "5.00")
    sub = start(customer, price="5.00")
    subscriptions_renew_due(now=sub.next_renewal_at)
    sub = subscription_cancel(subscription=sub, actor=customer_admin)
    sub.did.refresh_from_db()
    assert (sub.status, sub.did.status) == (S.ENDED, DIDStatus.IN_STOCK)


def test_who_may_cancel(customer, customer_member, stranger, reseller_admin):
    fund(customer)
    sub = start(customer)
    for actor in (customer_member, stranger, reseller_admin):
        with pytest.raises(PermissionDenied):
            subscription_cancel(subscription=sub, actor=actor)
    sub.refresh_from_db()
    assert sub.status == S.ACTIVE


def test_commands(customer):
    fund(customer, "20.00")
    start(customer, unit="day", price="1.00")
    call_command("renew_subscriptions")
    call_command("end_subscriptions")
    assert LedgerEntry.objects.filter(kind="charge").count() == 1  # nothing due yet


def test_spend_helper_still_works(customer):
    fund(customer, "3.00")
    spend(customer, "1.00")
    assert balance_for(customer) == Decimal("2.00")
