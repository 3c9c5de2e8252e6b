"""Renewals: every due period of a subscription charged once, and held subscriptions resumed
after a top-up.

One implementation: ``renew_locked`` renews locked, due subscriptions together with
per-batch queries. The renewal run claims due subscriptions in batches and hands each batch
to it; ``subscription_renew`` hands it a batch of one.

A resume never charges for time spent on hold: a held number (or account-wide capacity)
comes back with a new full period starting at the resume — it is re-anchored there, so its
renewal date moves to the day it came back. Extra channels follow their number: they wait
on hold while it does, and come back aligned with its current period, charged pro rata for
what is left of it (the whole period when the number has just resumed).
"""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.services import did_paid

from ..models import Subscription, SubscriptionCharge
from ..tax import tax_for
from .capacity import prorata
from .ledger import InsufficientBalance, LedgerBatch, update_rows
from .subscriptions import (
    capacity_number_unpaid,
    charge_row,
    debit_fields,
    did_still_held,
    mark_ended,
    mark_held,
    period_advance,
    period_bounds_of,
    period_next,
    record_charge,
    subscription_transition,
)

logger = logging.getLogger(__name__)

Status = Subscription.Status
Kind = Subscription.Kind

RENEWAL_FIELDS = [
    "current_period_index",
    "current_period_start",
    "current_period_end",
    "next_renewal_at",
]
RELEASED = "the number was released"
WAITS_FOR_NUMBER = "its number is on hold: its renewal is unpaid"


def _due(now):
    return Subscription.objects.select_related("account", "did").filter(
        status=Status.ACTIVE, next_renewal_at__lte=now
    )


@transaction.atomic
def subscription_renew(*, subscription, now=None, job="renew_subscriptions"):
    """Charge every period of ``subscription`` that has started by ``now``, one charge each:
    a batch of one through ``renew_locked``.

    Returns ``"renewed"``, ``"hold"`` (the balance ran out, or its number is on hold for an
    unpaid renewal), ``"ended"`` (its number was released meanwhile) or ``"skipped"`` (not
    due, not active, or one-time). Safe to call twice: a charged period is never due.
    """
    now = now or timezone.now()
    due = list(_due(now).select_for_update(of=("self",)).filter(pk=subscription.pk))
    if not due:
        return "skipped"
    return renew_locked(due, now=now, job=job)[0]


def subscriptions_renew_due(*, now=None, job="renew_subscriptions", batch_size=500):
    """Renew every active subscription due by ``now``; returns counts per outcome.

    Each batch is one transaction claiming its rows with ``select_for_update(skip_locked)``,
    so several workers share a run and a second run finds nothing due. Rows are processed
    in account order, so two workers take balance locks in the same order (no deadlock).
    Should a batch fail, it is rolled back and renewed one subscription at a time (each a
    batch of one in its own savepoint), so one failure leaves the others renewed.
    """
    now = now or timezone.now()
    counts = {"renewed": 0, "hold": 0, "ended": 0, "skipped": 0, "failed": 0}
    failed = set()
    while True:
        claimed = _renew_batch(
            now=now, job=job, batch_size=batch_size, exclude=failed, counts=counts
        )
        if claimed < batch_size:
            return counts


@transaction.atomic
def _renew_batch(*, now, job, batch_size, exclude, counts):
    claimed = list(
        _due(now)
        .select_for_update(skip_locked=True, of=("self",))
        .exclude(pk__in=exclude)
        .order_by("next_renewal_at", "pk")[:batch_size]
    )
    claimed.sort(key=lambda row: (row.account_id, row.pk))
    try:
        with transaction.atomic():
            outcomes = renew_locked(claimed, now=now, job=job)
    except Exception:  # e.g. IntegrityError on a key: the slow path sorts it out, per row
        logger.warning("renewing %s subscriptions together failed", len(claimed), exc_info=True)
        outcomes = [_renew_alone(row.pk, now=now, job=job, exclude=exclude) for row in claimed]
    for outcome in outcomes:
        counts[outcome] += 1
    return len(claimed)


def _renew_alone(pk, *, now, job, exclude):
    try:
        with transaction.atomic():
            return subscription_renew(subscription=Subscription(pk=pk), now=now, job=job)
    except Exception:  # one broken subscription must not stop the run
        logger.exception("renewing subscription %s failed", pk)
        exclude.add(pk)
        return "failed"


def renew_locked(subscriptions, *, now, job):
    """Renew locked, due ``subscriptions`` (sorted by account, then pk) together.

    The outcome of each is the one renewing them one after the other in this order would
    give: every period started by ``now`` charged, or, from the first period the balance
    does not cover, on hold (periods paid before stay paid); extra channels of a number on
    hold for an unpaid renewal wait on hold with it, uncharged; ended when its number was
    released. The queries are per batch, not per subscription: every balance
    locked by one SELECT, the VAT decided once per buyer situation, the debits, the charges
    and the subscriptions' new periods each written by one statement (``LedgerBatch``).
    Holds and ends, rare, go one by one. Returns the outcomes in order.
    """
    debits = LedgerBatch(job=job)
    debits.lock(row.account_id for row in subscriptions if did_still_held(row))
    # tax_for reads the buyer's country and VAT number (and the rates, fixed for the batch).
    decisions = {}
    rows, renewed, held, quiet_holds, ended, outcomes = [], [], [], [], [], []
    unpaid_numbers = set()  # numbers going on hold in this batch
    for subscription in subscriptions:
        if not did_still_held(subscription):
            ended.append(subscription)
            outcomes.append("ended")
            continue
        if capacity_number_unpaid(subscription, unpaid_numbers):
            quiet_holds.append(subscription)
            outcomes.append("hold")
            continue
        account = subscription.account
        situation = (account.country.code if account.country else "", account.vat_number)
        if situation not in decisions:
            decisions[situation] = tax_for(account)
        try:
            while subscription.current_period_end <= now:
                index, start, end = period_next(subscription)
                row = charge_row(
                    subscription,
                    decision=decisions[situation],
                    index=index,
                    start=start,
                    end=end,
                    recurring=subscription.recurring_price,
                    setup=Decimal("0.00"),
                    job=job,
                )
                if row.amount > 0:
                    row.ledger_entry = debits.charge(
                        account=account,
                        amount=row.amount,
                        **debit_fields(subscription, index=index, start=start, end=end),
                    )
                rows.append(row)
                period_advance(subscription, index, start, end)
        except InsufficientBalance:
            held.append(subscription)
            outcomes.append("hold")
            if subscription.kind == Subscription.Kind.NUMBER:
                unpaid_numbers.add(subscription.did_id)
            continue
        subscription.next_renewal_at = subscription.current_period_end
        renewed.append(subscription)
        outcomes.append("renewed")
    debits.post()
    SubscriptionCharge.objects.bulk_create(rows)
    update_rows(renewed, RENEWAL_FIELDS)
    for subscription in held:
        mark_held(subscription, now=now, job=job)
    for subscription in quiet_holds:
        mark_held(subscription, now=now, job=job, notify=False, reason=WAITS_FOR_NUMBER)
    for subscription in ended:
        mark_ended(subscription, now=now, reason=RELEASED, job=job)
    return outcomes


# --- Resume after a top-up ------------------------------------------------------------------


def subscriptions_resume_after_topup(*, account, job="topup", now=None):
    """Resume ``account``'s held subscriptions: numbers (oldest failure first), then extra
    channels whose number is active again. Stops at the first one the balance does not
    cover. Returns the number resumed. Safe to run twice: a resumed one is skipped."""
    account_id = getattr(account, "pk", account)
    now = now or timezone.now()
    held = (
        Subscription.objects.filter(account_id=account_id, status=Status.HOLD)
        .order_by("renewal_failed_at", "pk")
        .values_list("pk", "kind", "did_id")
    )
    channels_last = sorted(held, key=lambda row: row[1] == Kind.CAPACITY and row[2] is not None)
    resumed = 0
    for pk, _, _ in channels_last:
        outcome = subscription_resume(subscription=Subscription(pk=pk), now=now, job=job)
        if outcome == "insufficient":
            break
        resumed += outcome == "resumed"
    return resumed


def subscription_resume(*, subscription, now=None, job="topup"):
    """Bring a held subscription back, all or nothing, never charging time spent on hold.

    A number (or account-wide capacity) starts a new full period now, re-anchored here.
    Extra channels of a number resume only while their number is active, aligned with its
    current period and charged pro rata for what is left of it.

    Returns ``"resumed"``, ``"insufficient"``, ``"waiting"`` (extra channels whose number
    is not active), ``"ended"`` (its number was released) or ``"skipped"`` (not on hold).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            number = _number_locked(subscription)  # lock order: the number before its channels
            subscription = (
                Subscription.objects.select_for_update(of=("self",))
                .select_related("account", "did")
                .get(pk=subscription.pk)
            )
            if subscription.status != Status.HOLD:
                return "skipped"
            if not did_still_held(subscription):
                mark_ended(subscription, now=now, reason=RELEASED, job=job)
                return "ended"
            if subscription.kind == Kind.CAPACITY and subscription.did_id is not None:
                if number is None or number.status != Status.ACTIVE or number.did.unpaid:
                    return "waiting"
                _resume_aligned(subscription, number=number, now=now, job=job)
                reason = "resumed with its number: charged for the rest of its period"
            else:
                _resume_reanchored(subscription, now=now, job=job)
                reason = "resumed after a top-up: a new period from now"
            subscription_transition(
                subscription=subscription, to_status=Status.ACTIVE, reason=reason, job=job, now=now
            )
            if subscription.kind == Kind.NUMBER:
                did_paid(
                    did=subscription.did,
                    job=job,
                    reason=f"subscription {subscription.pk} renewed after a top-up",
                )
            return "resumed"
    except InsufficientBalance:
        return "insufficient"


def _number_locked(subscription):
    """The live number subscription that extra channels belong to, locked; None for any
    other subscription."""
    row = Subscription.objects.filter(pk=subscription.pk, kind=Kind.CAPACITY).values(
        "did_id", "account_id"
    )
    row = row.first()
    if row is None or row["did_id"] is None:
        return None
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("did")
        .filter(kind=Kind.NUMBER, status__in=Subscription.RUNNING_STATUSES)
        .filter(**row)
        .first()
    )


def _resume_reanchored(subscription, *, now, job):
    """Charge a full period starting now and make now the anchor of the periods after it."""
    if not subscription.is_recurring:
        return
    index = subscription.current_period_index + 1
    # Never before the paid period's end (a resume always comes after a failed renewal).
    subscription.anchor_at = max(now, subscription.current_period_end)
    subscription.anchor_index = index
    start, end = period_bounds_of(subscription, index)
    record_charge(
        subscription,
        index=index,
        start=start,
        end=end,
        recurring=subscription.recurring_price,
        job=job,
    )
    period_advance(subscription, index, start, end)


def _resume_aligned(capacity, *, number, now, job):
    """Align extra channels with their number's current period; charge what is left of it."""
    start, end = number.current_period_start, number.current_period_end
    if now < end:
        left = prorata(capacity.recurring_price, now=now, period_start=start, period_end=end)
        record_charge(
            capacity,
            index=number.current_period_index,
            start=now,
            end=end,
            recurring=left,
            job=job,
        )
    capacity.anchor_at, capacity.anchor_index = number.anchor_at, number.anchor_index
    period_advance(capacity, number.current_period_index, start, end)


def subscriptions_resume_due(*, job="renew_subscriptions", now=None):
    """The periodic safety net for a top-up whose resume task never ran (lost enqueue):
    try every account with a held subscription whose price its balance now covers."""
    accounts = (
        Subscription.objects.filter(status=Status.HOLD)
        .filter(
            account__balance__amount__gte=F("recurring_price"),
        )
        .values_list("account_id", flat=True)
        .distinct()
    )
    return sum(
        subscriptions_resume_after_topup(account=account_id, job=job, now=now)
        for account_id in list(accounts)
    )
