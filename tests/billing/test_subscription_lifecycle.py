"""A subscription's life: the status table and its history, the resume after a top-up as a
task (never in the finance request), a resume that never charges time spent on hold, extra
channels that follow their number, and "Keep this number" before the period end.

The time-travel tests jump the clock from one event to the next (time-machine)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from billing.models import Subscription, SubscriptionEvent
from billing.selectors import balance_for, balance_mismatches
from billing.services import topup_record
from billing.services.capacity import (
    capacity_add,
    capacity_reduce,
    number_channels,
    number_rental_cancel,
    number_rental_keep,
)
from billing.services.renewals import subscription_renew, subscriptions_renew_due
from billing.services.subscriptions import (
    ALLOWED_TRANSITIONS,
    InvalidTransition,
    subscription_keep,
    subscription_transition,
)
from billing.tasks import (
    end_subscriptions,
    renew_subscription,
    renew_subscriptions,
    resume_subscriptions,
)
from didportal.celery import app
from inventory.choices import DIDStatus
from inventory.tasks import release_holds
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

S = Subscription.Status
MAY = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _buyer_outside_the_eu(customer):
    """No VAT: each charge is exactly the price (VAT: tests/billing/test_charge_vat.py)."""
    customer.country = "US"
    customer.save(update_fields=["country"])


def published():
    """Drain the in-memory broker the tests use: ``[(task name, args), …]`` published."""
    tasks = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        while queue.qsize():
            message = queue.get(timeout=1)
            tasks.append((message.headers["task"], message.payload[0]))
            message.ack()
    return tasks


def channel_priced_did(account):
    """A number whose block prices an extra channel at 13.00 a month: 3.00 a week."""
    block = NumberBlockFactory(extra_channel_monthly_price=Decimal("13.00"), channels_included=2)
    return held_did(account, block=block)


def events(sub):
    return list(
        SubscriptionEvent.objects.filter(subscription=sub)
        .order_by("pk")
        .values_list("from_status", "to_status", "job", "actor_id")
    )


def charges(sub):
    return list(sub.charges.order_by("period_index"))


def refresh(*objects):
    for obj in objects:
        obj.refresh_from_db()


# --- Item 7: the status table and its history -------------------------------------------------


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [
        (from_status, to_status)
        for from_status in S.values
        for to_status in S.values
        if to_status not in ALLOWED_TRANSITIONS[from_status]
    ],
)
def test_a_transition_the_table_refuses_changes_nothing(customer, from_status, to_status):
    fund(customer, "10.00")
    sub = start(customer, price="5.00")
    Subscription.objects.filter(pk=sub.pk).update(
        status=from_status,
        next_renewal_at=sub.next_renewal_at if from_status == S.ACTIVE else None,
        renewal_failed_at=timezone.now() if from_status == S.HOLD else None,
        hold_cause="customer_unpaid" if from_status == S.HOLD else "",
        ended_at=timezone.now() if from_status == S.ENDED else None,
    )
    sub.refresh_from_db()
    with pytest.raises(InvalidTransition):
        subscription_transition(subscription=sub, to_status=to_status, reason="test", job="t")
    sub.refresh_from_db()
    assert sub.status == from_status
    assert SubscriptionEvent.objects.filter(subscription=sub).count() == 1  # the start only


def test_every_status_change_is_recorded_with_who_and_why(customer, customer_admin):
    with time_machine.travel(MAY, tick=False) as clock:
        fund(customer, "5.00")
        sub = start(customer, unit="week", price="5.00")
        clock.move_to(sub.current_period_end)
        assert subscription_renew(subscription=sub) == "hold"
        fund(customer, "5.00")
        resume_subscriptions.apply(args=[customer.pk])
        sub.refresh_from_db()
        number_rental_cancel(number_subscription=sub, actor=customer_admin)
        number_rental_keep(number_subscription=sub, actor=customer_admin)
        number_rental_cancel(number_subscription=sub, actor=customer_admin)
        clock.move_to(sub.current_period_end)
        end_subscriptions.apply()
    assert events(sub) == [
        ("", S.ACTIVE, "tests", None),
        (S.ACTIVE, S.HOLD, "renew_subscriptions", None),
        (S.HOLD, S.ACTIVE, "resume_subscriptions", None),
        (S.ACTIVE, S.CANCELLED, "", customer_admin.pk),
        (S.CANCELLED, S.ACTIVE, "", customer_admin.pk),
        (S.ACTIVE, S.CANCELLED, "", customer_admin.pk),
        # The end job releases the number; the release ends what runs on it.
        (S.CANCELLED, S.ENDED, "did_release", None),
    ]
    reasons = list(sub.events.order_by("pk").values_list("reason", flat=True))
    assert "insufficient balance" in reasons[1]
    assert "a new period from now" in reasons[2]
    assert "kept" in reasons[4]
    assert "paid period over" in reasons[6]
    sub.refresh_from_db()
    assert sub.end_reason == reasons[6]


# --- Item 4: a top-up enqueues the resume; the task resumes -------------------------------------


def test_a_topup_on_the_finance_page_enqueues_the_resume_and_charges_nothing(
    client, customer, finance_user, django_capture_on_commit_callbacks
):
    fund(customer, "5.00")
    sub = start(customer, price="5.00")
    subscriptions_renew_due(now=sub.next_renewal_at)
    sub.refresh_from_db()
    assert sub.status == S.HOLD
    published()  # whatever earlier work left in the broker
    client.force_login(finance_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("billing:topup", args=[customer.pk]),
            {
                "amount": "20.00",
                "method": "bank_transfer",
                "external_reference": "BANK-1",
                "token": "0b6f1f6e-5f55-4b53-9a0c-7f7a1f1f1f1f",
            },
        )

    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == S.HOLD  # nothing resumed or charged inside the request
    assert balance_for(customer) == Decimal("20.00")
    assert ("billing.tasks.resume_subscriptions", [customer.pk]) in published()

    resume_subscriptions.apply(args=[customer.pk])  # as a worker runs it
    resume_subscriptions.apply(args=[customer.pk])  # a redelivery changes nothing
    sub.refresh_from_db()
    assert sub.status == S.ACTIVE
    assert len(charges(sub)) == 2
    assert balance_for(customer) == Decimal("15.00")


def test_the_ledger_does_not_import_subscriptions():
    import ast
    from pathlib import Path

    import billing.services.ledger as ledger

    tree = ast.parse(Path(ledger.__file__).read_text())
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {name for name in imported if "renewals" in name or "subscriptions" in name}
    assert not {name for name in imported if name.endswith("tasks")}


def test_the_renew_subscription_task_renews_once(customer):
    with time_machine.travel(MAY, tick=False) as clock:
        fund(customer, "20.00")
        sub = start(customer, unit="week", price="5.00")
        clock.move_to(sub.current_period_end)
        assert renew_subscription.apply(args=[sub.pk]).get() == "renewed"
        assert renew_subscription.apply(args=[sub.pk]).get() == "skipped"
    assert len(charges(sub)) == 2
    assert balance_for(customer) == Decimal("10.00")


# --- Item 8: one renewal implementation ---------------------------------------------------------


def test_a_single_renewal_is_a_batch_of_one(customer, monkeypatch):
    import billing.services.renewals as renewals

    batches = []
    renew_locked = renewals.renew_locked

    def spy(subscriptions, **kwargs):
        batches.append([sub.pk for sub in subscriptions])
        return renew_locked(subscriptions, **kwargs)

    monkeypatch.setattr(renewals, "renew_locked", spy)
    with time_machine.travel(MAY, tick=False) as clock:
        fund(customer, "20.00")
        sub = start(customer, unit="week", price="5.00")
        clock.move_to(sub.current_period_end)
        assert subscription_renew(subscription=sub) == "renewed"
    assert batches == [[sub.pk]]


# --- Item 9: a resume never charges a period spent on hold -------------------------------------


def test_weeks_on_hold_are_never_charged_and_the_resume_starts_a_new_period(
    customer, customer_admin, settings
):
    """A weekly number runs out, stays on hold three weeks and a half, comes back after a
    top-up with a new full week from that moment, then holds and resumes again."""
    settings.DID_HOLD_DAYS = 60
    with time_machine.travel(MAY, tick=False) as clock:

        def run_jobs_at(moment):
            clock.move_to(moment)
            release_holds.apply()
            end_subscriptions.apply()
            renew_subscriptions.apply()
            refresh(sub, sub.did)

        fund(customer, "10.00")  # two weeks
        sub = start(customer, unit="week", price="5.00")
        run_jobs_at(MAY + timedelta(weeks=1))
        assert (sub.status, balance_for(customer)) == (S.ACTIVE, Decimal("0.00"))
        run_jobs_at(MAY + timedelta(weeks=2))  # unpaid: on hold
        assert (sub.status, sub.did.status) == (S.HOLD, DIDStatus.HOLD)
        for weeks_on_hold in (3, 4, 5):  # renewal runs during the hold charge nothing
            run_jobs_at(MAY + timedelta(weeks=weeks_on_hold))
            assert sub.status == S.HOLD
        assert len(charges(sub)) == 2

        back = MAY + timedelta(weeks=5, days=3, hours=7)
        clock.move_to(back)
        topup_record(account=customer, amount="12.00", external_reference="T1", actor=None, job="t")
        resume_subscriptions.apply(args=[customer.pk])
        refresh(sub, sub.did)
        assert (sub.status, sub.did.status) == (S.ACTIVE, DIDStatus.ACTIVE)
        assert (sub.current_period_start, sub.current_period_end) == (
            back,
            back + timedelta(weeks=1),
        )
        assert sub.next_renewal_at == back + timedelta(weeks=1)
        assert balance_for(customer) == Decimal("7.00")  # one week charged, none for the hold

        run_jobs_at(back + timedelta(weeks=1))  # renews on the new anchor: 2.00 left
        run_jobs_at(back + timedelta(weeks=2))  # unpaid again
        assert sub.status == S.HOLD
        second_back = back + timedelta(weeks=4, days=1)
        run_jobs_at(second_back)
        fund(customer, "3.00")
        resume_subscriptions.apply(args=[customer.pk])
        refresh(sub)
        assert sub.current_period_start == second_back

    paid = [(c.period_index, c.period_start, c.period_end) for c in charges(sub)]
    week = timedelta(weeks=1)
    assert paid == [
        (0, MAY, MAY + week),
        (1, MAY + week, MAY + 2 * week),
        (2, back, back + week),
        (3, back + week, back + 2 * week),
        (4, second_back, second_back + week),
    ]
    on_hold = [(MAY + 2 * week, back), (back + 2 * week, second_back)]
    for hold_start, hold_end in on_hold:  # no charged period overlaps a hold
        assert all(end <= hold_start or start >= hold_end for _, start, end in paid)
    assert balance_for(customer) == Decimal("0.00")
    assert list(balance_mismatches()) == []


def test_the_hold_email_and_the_balance_page_say_how_a_resume_is_charged(
    client, customer, customer_admin, mailoutbox
):
    from outbox.services import outbox_flush

    fund(customer, "5.00")
    sub = start(customer, price="5.00")
    subscriptions_renew_due(now=sub.next_renewal_at)
    outbox_flush()
    held = [m for m in mailoutbox if "on hold" in m.subject]
    assert "new full period starting then" in held[0].body
    assert "The time on hold is never charged" in held[0].body
    client.force_login(customer_admin)
    text = client.get(reverse("billing:balance")).content.decode()
    assert sub.did.number in text
    assert "new full period starting then" in text
    assert "The time on hold is never charged" in text


# --- Item 10: extra channels follow their number -----------------------------------------------


def test_channels_stay_on_hold_with_their_number_and_come_back_with_it(customer, customer_admin):
    """Weeks of hold: the channels are never renewed or resumed while the number is held,
    do not count as live capacity, and come back aligned with the number's new period."""
    with time_machine.travel(MAY, tick=False) as clock:
        fund(customer, "16.00")
        number = start(
            customer, did=channel_priced_did(customer), unit="week", price="10.00", channels=2
        )
        channels = capacity_add(
            number_subscription=number,
            extra_channels=2,
            actor=customer_admin,
            idempotency_key="capacity:two",
        )
        assert balance_for(customer) == Decimal("0.00")  # 10.00 + 2 × 3.00
        clock.move_to(MAY + timedelta(weeks=1))
        renew_subscriptions.apply()
        refresh(number, channels)
        assert (number.status, channels.status) == (S.HOLD, S.HOLD)
        totals = number_channels(number)
        assert (totals.total, totals.extra, totals.extra_on_hold) == (2, 0, 2)

        # 6.00 would pay the channels' week but not the number's: nothing may resume.
        clock.move_to(MAY + timedelta(weeks=2, days=2))
        fund(customer, "6.00")
        resume_subscriptions.apply(args=[customer.pk])
        renew_subscriptions.apply()  # its resume pass too
        refresh(number, channels)
        assert (number.status, channels.status) == (S.HOLD, S.HOLD)
        assert balance_for(customer) == Decimal("6.00")

        clock.move_to(MAY + timedelta(weeks=3, days=4))
        back = timezone.now()
        fund(customer, "10.00")
        resume_subscriptions.apply(args=[customer.pk])
        refresh(number, channels)
        assert (number.status, channels.status) == (S.ACTIVE, S.ACTIVE)
        assert number_channels(number).total == 4
        for sub in (number, channels):
            assert (sub.current_period_start, sub.current_period_end) == (
                back,
                back + timedelta(weeks=1),
            )
        assert channels.next_renewal_at == number.next_renewal_at
        assert balance_for(customer) == Decimal("0.00")  # a full week of both, nothing else

        fund(customer, "16.00")
        clock.move_to(back + timedelta(weeks=1))
        assert renew_subscriptions.apply().get()["renewed"] == 2  # together again
    assert [c.amount for c in charges(channels)] == [Decimal("6.00")] * 3
    assert [c.amount for c in charges(number)] == [Decimal("10.00")] * 3
    assert list(balance_mismatches()) == []


def test_channels_held_alone_resume_for_the_rest_of_their_numbers_period(customer, customer_admin):
    with time_machine.travel(MAY, tick=False) as clock:
        fund(customer, "8.00")
        number = start(customer, did=channel_priced_did(customer), unit="week", price="5.00")
        channels = capacity_add(
            number_subscription=number,
            extra_channels=1,
            actor=customer_admin,
            idempotency_key="capacity:one",
        )
        fund(customer, "5.00")  # the number's next week, not its channel's
        clock.move_to(MAY + timedelta(weeks=1))
        renew_subscriptions.apply()  # the number renews, its channel does not
        refresh(number, channels)
        assert (number.status, channels.status) == (S.ACTIVE, S.HOLD)
        clock.move_to(MAY + timedelta(weeks=1, days=5))  # 2 of the number's 7 days left
        fund(customer, "10.00")
        resume_subscriptions.apply(args=[customer.pk])
        refresh(number, channels)
    assert channels.status == S.ACTIVE
    assert charges(channels)[-1].amount == Decimal("0.86")  # 3.00 × 2/7
    assert (channels.current_period_index, channels.next_renewal_at) == (
        number.current_period_index,
        number.next_renewal_at,
    )
    assert balance_for(customer) == Decimal("9.14")


# --- Item 23: keep a cancelled number ----------------------------------------------------------


def test_keep_undoes_a_cancellation_before_the_period_ends(
    customer, customer_admin, customer_member
):
    with time_machine.travel(MAY, tick=False) as clock:
        fund(customer, "50.00")
        number = start(customer, unit="month", price="5.00", channels=2)
        extra = [
            capacity_add(
                number_subscription=number,
                extra_channels=1,
                actor=customer_admin,
                idempotency_key=f"capacity:{i}",
            )
            for i in range(2)
        ]
        capacity_reduce(number_subscription=number, channels=3, actor=customer_admin)
        clock.shift(timedelta(days=1))
        number_rental_cancel(number_subscription=number, actor=customer_admin)
        with pytest.raises(PermissionDenied):
            number_rental_keep(number_subscription=number, actor=customer_member)
        number = number_rental_keep(number_subscription=number, actor=customer_admin)
        refresh(*extra)
        assert (number.status, number.cancelled_at) == (S.ACTIVE, None)
        assert number.next_renewal_at == number.current_period_end
        # The channel cancelled with the number is back; the one reduced earlier is not.
        assert [sub.status for sub in extra] == [S.ACTIVE, S.CANCELLED]
        assert number_rental_keep(number_subscription=number, actor=customer_admin) == number

        number_rental_cancel(number_subscription=number, actor=customer_admin)
        clock.move_to(number.current_period_end)
        with pytest.raises(InvalidTransition):
            subscription_keep(subscription=number, actor=customer_admin)
