"""Renewals: every due period of a subscription charged once, and held subscriptions resumed
after a top-up. The renewal run claims due subscriptions in batches and renews each batch
together (per-batch queries); ``subscription_renew`` renews one.
"""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.services import did_paid

from ..models import Subscription, SubscriptionCharge
from ..tax import tax_for
from .ledger import DebitBatch, InsufficientBalance, update_rows
from .subscriptions import (
    capacity_number_unpaid,
    charge_row,
    debit_fields,
    did_still_held,
    mark_ended,
    mark_held,
    period_advance,
    period_charge_next,
    period_next,
)

logger = logging.getLogger(__name__)

Status = Subscription.Status
BillingType = Subscription.BillingType

# NumberBlock price-plan names → (unit, count).
BLOCK_PERIODS = {"monthly": ("month", 1), "weekly": ("week", 1), "daily": ("day", 1)}


RENEWAL_FIELDS = [
    "current_period_index",
    "current_period_start",
    "current_period_end",
    "next_renewal_at",
]


@transaction.atomic
def subscription_renew(*, subscription, now=None, job="renew_subscriptions"):
    """Charge every period of ``subscription`` that has started by ``now``, one charge each.

    Returns ``"renewed"``, ``"hold"`` (the balance ran out: the subscription and its number
    are on hold), ``"ended"`` (its number was released meanwhile) or ``"skipped"``
    (not due, not active, or one-time). Safe to call twice: a charged period is never due.
    """
    now = now or timezone.now()
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("account", "did")
        .get(pk=subscription.pk)
    )
    if (
        subscription.status != Status.ACTIVE
        or subscription.next_renewal_at is None
        or subscription.next_renewal_at > now
    ):
        return "skipped"
    if not did_still_held(subscription):
        mark_ended(subscription, now=now, reason="the number was released")
        return "ended"
    if capacity_number_unpaid(subscription):
        mark_held(subscription, now=now, job=job, notify=False)
        return "hold"
    try:
        while subscription.current_period_end <= now:
            period_charge_next(subscription, job=job)
    except InsufficientBalance:
        mark_held(subscription, now=now, job=job)
        return "hold"
    subscription.next_renewal_at = subscription.current_period_end
    subscription.save()
    return "renewed"


def subscriptions_renew_due(*, now=None, job="renew_subscriptions", batch_size=500):
    """Renew every active subscription due by ``now``; returns counts per outcome.

    Each batch is one transaction claiming its rows with ``select_for_update(skip_locked)``,
    so several workers share a run and a second run finds nothing due. Rows are processed
    in account order, so two workers take balance locks in the same order (no deadlock).
    A batch is renewed together (``_renew_together``); should that fail, it is rolled back
    and renewed one subscription at a time, each its own savepoint, so one failure leaves
    the others renewed.
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
        Subscription.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("account", "did")
        .filter(status=Status.ACTIVE, next_renewal_at__lte=now)
        .exclude(pk__in=exclude)
        .order_by("next_renewal_at", "pk")[:batch_size]
    )
    claimed.sort(key=lambda row: (row.account_id, row.pk))
    try:
        with transaction.atomic():
            outcomes = _renew_together(claimed, now=now, job=job)
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


def _renew_together(subscriptions, *, now, job):
    """Renew claimed, locked, due ``subscriptions`` (sorted by account, then pk) together.

    The outcome of each is the one ``subscription_renew`` would give it, one after the
    other in this order: every period started by ``now`` charged, or, from the first period
    the balance does not cover, on hold (periods paid before stay paid); ended when its
    number was released. The queries are per batch, not per subscription: every balance
    locked by one SELECT, the VAT decided once per buyer situation, the debits, the charges
    and the subscriptions' new periods each written by one statement (``DebitBatch``).
    Holds and ends, rare, go one by one. Returns the outcomes in order.
    """
    debits = DebitBatch(job=job)
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
        mark_held(subscription, now=now, job=job, notify=False)
    for subscription in ended:
        mark_ended(subscription, now=now, reason="the number was released")
    return outcomes


# --- Resume after a top-up ------------------------------------------------------------------


def _did_reactivate(subscription, *, job):
    """The number goes back to active, unless something else (its package) holds it."""
    did_paid(
        did=subscription.did,
        job=job,
        reason=f"subscription {subscription.pk} renewed after a top-up",
    )


def subscriptions_resume_after_topup(*, account, job="topup", now=None):
    """Renew and reactivate ``account``'s held subscriptions, oldest failure first.

    Each subscription is all or nothing: every period since the failed renewal is charged
    and the number goes back to active, or nothing changes. Stops at the first one the
    balance does not cover. Returns the number reactivated.
    """
    account_id = getattr(account, "pk", account)
    now = now or timezone.now()
    resumed = 0
    held = (
        Subscription.objects.filter(account_id=account_id, status=Status.HOLD)
        .order_by("renewal_failed_at", "pk")
        .values_list("pk", flat=True)
    )
    for pk in list(held):
        outcome = subscription_resume(subscription=Subscription(pk=pk), now=now, job=job)
        if outcome == "insufficient":
            break
        resumed += outcome == "resumed"
    return resumed


def subscription_resume(*, subscription, now=None, job="topup"):
    """Charge a held subscription's missed periods and reactivate it, all or nothing.

    Returns ``"resumed"``, ``"insufficient"``, ``"ended"`` (its number was released) or
    ``"skipped"`` (not on hold).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            subscription = (
                Subscription.objects.select_for_update(of=("self",))
                .select_related("account", "did")
                .get(pk=subscription.pk)
            )
            if subscription.status != Status.HOLD:
                return "skipped"
            if not did_still_held(subscription):
                mark_ended(subscription, now=now, reason="the number was released")
                return "ended"
            if subscription.is_recurring:
                period_charge_next(subscription, job=job)  # the period whose renewal failed
                while subscription.current_period_end <= now:
                    period_charge_next(subscription, job=job)
                subscription.next_renewal_at = subscription.current_period_end
            subscription.status = Status.ACTIVE
            subscription.renewal_failed_at = None
            subscription.save()
            if subscription.kind == Subscription.Kind.NUMBER:
                _did_reactivate(subscription, job=job)
            return "resumed"
    except InsufficientBalance:
        return "insufficient"


def subscriptions_resume_due(*, job="renew_subscriptions", now=None):
    """The periodic safety net for a top-up whose resume never ran (a crash after commit):
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
