"""Two years of renewals, the clock jumped from one renewal to the next by time-machine."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from billing.models import Subscription
from billing.periods import period_start
from billing.selectors import balance_for, balance_mismatches
from billing.services import topup_record
from billing.services.renewals import subscriptions_renew_due
from billing.tasks import end_subscriptions, renew_subscriptions, resume_subscriptions
from inventory.choices import DIDStatus
from inventory.tasks import release_holds
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start, walk_renewals

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _buyer_outside_the_eu(customer):
    """These tests are about periods, holds and balances: a buyer without VAT keeps each
    charge equal to the price (VAT on charges: tests/billing/test_charge_vat.py)."""
    customer.country = "US"
    customer.save(update_fields=["country"])


S = Subscription.Status
JAN31 = datetime(2025, 1, 31, 10, 0, tzinfo=UTC)
DAYS = 731  # 24 months


def assert_periods_contiguous(sub):
    charges = list(sub.charges.order_by("period_index"))
    assert [c.period_index for c in charges] == list(range(len(charges)))
    for before, after in zip(charges, charges[1:], strict=False):
        assert after.period_start == before.period_end  # nothing skipped, nothing twice
    anchor = timezone.localtime(sub.anchor_at)
    for c in charges:
        assert c.period_start == period_start(
            anchor, sub.period_unit, sub.period_count, c.period_index
        )
    return charges


@pytest.mark.parametrize(
    ("unit", "count", "expected"),
    [
        ("day", 1, DAYS + 1),
        ("week", 1, DAYS // 7 + 1),
        ("month", 1, 25),
        ("day", 10, DAYS // 10 + 1),
    ],
)
def test_two_years_of_renewals(customer, unit, count, expected):
    with time_machine.travel(JAN31, tick=False) as clock:
        fund(customer, "10000.00")
        sub = start(customer, unit=unit, count=count, price="1.00")

        def run_twice():
            renew_subscriptions()
            assert renew_subscriptions()["renewed"] == 0  # a second run changes nothing

        walk_renewals(clock, [sub], until=JAN31 + timedelta(days=DAYS), run=run_twice)
        sub.refresh_from_db()
        charges = assert_periods_contiguous(sub)
        assert len(charges) == expected
        assert sub.current_period_end > timezone.now() >= sub.current_period_start
        assert balance_for(customer) == Decimal("10000.00") - expected
        assert list(balance_mismatches()) == []
    if unit == "month":
        days = [timezone.localtime(c.period_start).date().isoformat() for c in charges[:5]]
        assert days == ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]
        assert timezone.localtime(charges[13].period_start).date().isoformat() == "2026-02-28"


def test_a_beat_outage_is_caught_up_without_skipping(customer):
    with time_machine.travel(JAN31, tick=False) as clock:
        fund(customer, "100.00")
        sub = start(customer, unit="week", price="1.00")
        clock.shift(timedelta(days=45))  # six weeks without a run
        assert renew_subscriptions()["renewed"] == 1
        sub.refresh_from_db()
        assert len(assert_periods_contiguous(sub)) == 7


def test_hold_topup_reactivate_then_hold_expiry(customer, finance_user, settings):
    """Jumps from event to event: two renewals, a failed one, a top-up ten days into the
    hold (a new month from then: the ten days are not charged), three renewals on the new
    anchor, a failed one, and the hold's expiry."""
    settings.DID_HOLD_DAYS = 30
    with time_machine.travel(JAN31, tick=False) as clock:
        fund(customer, "15.00")  # three months
        did = held_did(customer, after_hold_status=DIDStatus.ARCHIVE)
        sub = start(customer, did=did, unit="month", price="5.00")

        def jobs_at(day):
            clock.move_to(datetime.fromisoformat(f"{day}T10:01:00+00:00"))
            release_holds()
            end_subscriptions()
            renew_subscriptions()
            sub.refresh_from_db()
            did.refresh_from_db()

        jobs_at("2025-02-28")
        jobs_at("2025-03-31")  # February and March paid, the balance is empty
        assert (sub.status, sub.current_period_index) == (S.ACTIVE, 2)
        assert balance_for(customer) == Decimal("0.00")
        jobs_at("2025-04-29")
        assert sub.status == S.ACTIVE
        jobs_at("2025-04-30")  # the renewal fails
        assert (sub.status, did.status) == (S.HOLD, DIDStatus.HOLD)

        jobs_at("2025-05-10")
        topup_record(account=customer, amount="20.00", external_reference="T1", actor=finance_user)
        resume_subscriptions.apply(args=[customer.pk])  # the task the top-up enqueues
        sub.refresh_from_db()
        did.refresh_from_db()
        assert (sub.status, did.status) == (S.ACTIVE, DIDStatus.ACTIVE)
        assert timezone.localtime(sub.current_period_start).date().isoformat() == "2025-05-10"
        assert balance_for(customer) == Decimal("15.00")

        for day in ("2025-06-10", "2025-07-10", "2025-08-10"):  # paid from the 15.00
            jobs_at(day)
            assert sub.status == S.ACTIVE
        jobs_at("2025-09-10")  # the renewal fails
        assert (sub.status, did.status) == (S.HOLD, DIDStatus.HOLD)
        jobs_at("2025-10-09")
        assert did.status == DIDStatus.HOLD
        jobs_at("2025-10-11")  # past DID_HOLD_DAYS: released to its after-hold status, ended
        assert (did.status, did.owner) == (DIDStatus.ARCHIVE, None)
        assert sub.status == S.ENDED
        fund(customer, "50.00")
        jobs_at("2025-11-20")
        assert subscriptions_renew_due()["renewed"] == 0
    starts = [timezone.localtime(c.period_start).date().isoformat() for c in sub.charges.all()]
    # January to April 30 on the first anchor; from the resume on, the 10th of each month.
    assert starts == [
        "2025-01-31",
        "2025-02-28",
        "2025-03-31",
        "2025-05-10",
        "2025-06-10",
        "2025-07-10",
        "2025-08-10",
    ]
    call_command("check_balances")
