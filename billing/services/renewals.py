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

A reseller's customer's period is charged on both sides together (``period_rows`` /
``stage_period``: the customer's sale, the reseller's wholesale), or neither. Why a renewal
was not made is the hold's cause (``Subscription.HoldCause``):
- ``customer_unpaid``: the customer's balance is short — it is e-mailed to top up, and its
  top-up resumes it;
- ``reseller_unpaid``: the reseller's balance is short for the wholesale side — the
  customer is not charged and not e-mailed; the reseller's admins get one e-mail per
  renewal batch listing them, queued in the batch's transaction (so a worker killed after
  the batch commits loses no notice), and the reseller's top-up resumes them, oldest first;
- ``account_suspended``: a suspended customer is not renewed (its numbers work until the
  paid period ends, then wait here, uncharged, unmailed); its reactivation resumes them
  (``subscriptions_resume_after_reactivation``).
A resume that finds the other side short changes the cause to that side.
"""

import logging

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account
from inventory.services import did_paid
from webhooks.services import events_emit

from ..models import Subscription, SubscriptionCharge
from ..notifications import renewal_failed_email_send, reseller_unpaid_renewals_email_send
from .capacity import prorata
from .ledger import InsufficientBalance, LedgerBatch, update_rows
from .subscriptions import (
    PeriodDecisions,
    capacity_number_unpaid,
    did_still_held,
    hold_cause_change,
    mark_ended,
    mark_held,
    number_event_data,
    period_advance,
    period_bounds_of,
    period_next,
    period_rows,
    record_charge,
    stage_period,
    subscription_transition,
)

logger = logging.getLogger(__name__)

Status = Subscription.Status
Kind = Subscription.Kind
HoldCause = Subscription.HoldCause

RENEWAL_FIELDS = [
    "current_period_index",
    "current_period_start",
    "current_period_end",
    "next_renewal_at",
]
RELEASED = "the number was released"
WAITS_FOR_NUMBER = "its number is on hold: its renewal is unpaid"


def _due(now):
    return Subscription.objects.select_related("account", "did", "reseller").filter(
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


def _reseller_notices_send(notices, *, now):
    """One e-mail per reseller listing its customers' subscriptions put on hold for
    "reseller unpaid" (``notices``: reseller id → subscription ids) by a batch of a run at
    ``now``; call it in the batch's transaction. A subscription is held once, so its id
    names the e-mail of its batch."""
    for reseller_id, subscription_ids in sorted(notices.items()):
        reseller_unpaid_renewals_email_send(
            reseller_id=reseller_id,
            subscription_ids=subscription_ids,
            key=(
                f"reseller-unpaid-renewals:{reseller_id}:{now.isoformat()}:{min(subscription_ids)}"
            ),
        )


def subscriptions_renew_due(*, now=None, job="renew_subscriptions", batch_size=500):
    """Renew every active subscription due by ``now``; returns counts per outcome.

    Each batch is one transaction claiming its rows with ``select_for_update(skip_locked)``,
    so several workers share a run and a second run finds nothing due. Rows are processed
    in account order, so two workers take balance locks in the same order (no deadlock).
    Should a batch fail, it is rolled back and renewed one subscription at a time (each a
    batch of one in its own savepoint), so one failure leaves the others renewed; a batch
    whose connection is lost is rolled back whole and the run raises (its task retries).
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
    held = {}
    try:
        with transaction.atomic():
            outcomes = renew_locked(claimed, now=now, job=job, reseller_holds=held)
    except Exception:  # e.g. IntegrityError on a key: the slow path sorts it out, per row
        if transaction.get_rollback() or not connection.is_usable():
            # Not one row's fault: the batch's transaction is broken (its connection was
            # lost, say), so no row can be renewed in it. Rolled back whole, the run fails
            # and is retried, rather than reporting every row "failed" and skipping it.
            raise
        logger.warning("renewing %s subscriptions together failed", len(claimed), exc_info=True)
        held = {}
        outcomes = [
            _renew_alone(row.pk, now=now, job=job, exclude=exclude, reseller_holds=held)
            for row in claimed
        ]
    # Told once per reseller, about the holds this batch commits, in its transaction.
    _reseller_notices_send(held, now=now)
    for outcome in outcomes:
        counts[outcome] += 1
    return len(claimed)


def _renew_alone(pk, *, now, job, exclude, reseller_holds):
    try:
        with transaction.atomic():
            held = {}
            due = list(_due(now).select_for_update(of=("self",)).filter(pk=pk))
            if not due:
                return "skipped"
            outcome = renew_locked(due, now=now, job=job, reseller_holds=held)[0]
        for reseller_id, ids in held.items():
            reseller_holds.setdefault(reseller_id, []).extend(ids)
        return outcome
    except Exception:  # one broken subscription must not stop the run
        logger.exception("renewing subscription %s failed", pk)
        exclude.add(pk)
        return "failed"


def renew_locked(subscriptions, *, now, job, reseller_holds=None):
    """Renew locked, due ``subscriptions`` (sorted by account, then pk) together.

    The outcome of each is the one renewing them one after the other in this order would
    give: every period started by ``now`` charged (a reseller's customer's on both sides),
    or, from the first period a balance does not cover, on hold (periods paid before stay
    paid) with the cause of the side that was short; extra channels of a number on hold
    wait on hold with it, uncharged, for the same cause; a suspended customer's
    subscription on hold ("account suspended"), uncharged; ended when its number was
    released. The queries are per batch, not per subscription: every balance (customers'
    and resellers') locked by one SELECT, the VAT decided once per buyer and seller
    situation, the debits, the charges and the subscriptions' new periods each written by
    one statement (``LedgerBatch``). Holds and ends, rare, go one by one.

    Reseller-unpaid holds are added to ``reseller_holds`` (reseller id → subscription ids)
    for the caller to report once per batch; without it they are reported here (a batch of
    one). Returns the outcomes in order.
    """
    debits = LedgerBatch(job=job)
    accounts = set()
    for row in subscriptions:
        if did_still_held(row):
            accounts.add(row.account_id)
            if row.reseller_id is not None:
                accounts.add(row.reseller_id)
    debits.lock(accounts)
    decisions = PeriodDecisions()
    rows, renewed, held, ended, outcomes = [], [], [], [], []
    unpaid_numbers = {}  # numbers going on hold in this batch → why
    for subscription in subscriptions:
        if not did_still_held(subscription):
            ended.append(subscription)
            outcomes.append("ended")
            continue
        outcomes.append("hold")
        if not subscription.account.is_active:
            cause, reason = HoldCause.ACCOUNT_SUSPENDED, None
        elif capacity_number_unpaid(subscription, unpaid_numbers):
            cause, reason = _number_cause(subscription, unpaid_numbers), WAITS_FOR_NUMBER
        else:
            cause = _renew_periods(
                subscription, now=now, job=job, debits=debits, rows=rows, decisions=decisions
            )
            reason = None
        if cause is None:
            subscription.next_renewal_at = subscription.current_period_end
            renewed.append(subscription)
            outcomes[-1] = "renewed"
            continue
        held.append((subscription, cause, reason))
        if subscription.kind == Kind.NUMBER:
            unpaid_numbers[subscription.did_id] = cause
    debits.post()
    SubscriptionCharge.objects.bulk_create(rows)
    update_rows(renewed, RENEWAL_FIELDS)
    events_emit(
        [
            (row.account_id, "number.renewed", number_event_data(row))
            for row in renewed
            if row.kind == Kind.NUMBER
        ],
        now=now,
    )
    notices = {}
    for subscription, cause, reason in held:
        quiet = reason is not None
        mark_held(subscription, now=now, job=job, cause=cause, reason=reason, notify=not quiet)
        if cause == HoldCause.RESELLER_UNPAID and not quiet:
            notices.setdefault(subscription.reseller_id, []).append(subscription.pk)
    for subscription in ended:
        mark_ended(subscription, now=now, reason=RELEASED, job=job)
    if reseller_holds is None:
        _reseller_notices_send(notices, now=now)
    else:
        for reseller_id, ids in notices.items():
            reseller_holds.setdefault(reseller_id, []).extend(ids)
    return outcomes


def _renew_periods(subscription, *, now, job, debits, rows, decisions):
    """Stage every period of ``subscription`` started by ``now`` (both sides each) on
    ``debits`` and ``rows``; None when all are paid, else the hold cause of the first
    period a balance does not cover."""
    try:
        while subscription.current_period_end <= now:
            index, start, end = period_next(subscription)
            pairs = period_rows(
                subscription,
                index=index,
                start=start,
                end=end,
                recurring=subscription.recurring_price,
                job=job,
                decisions=decisions,
            )
            rows += stage_period(debits, pairs)
            period_advance(subscription, index, start, end)
    except InsufficientBalance as exc:
        return _shortfall_cause(subscription, exc)
    return None


def _shortfall_cause(subscription, exc):
    """Whose balance ``exc`` says was short, as a hold cause."""
    if subscription.reseller_id is not None and exc.account_id == subscription.reseller_id:
        return HoldCause.RESELLER_UNPAID
    return HoldCause.CUSTOMER_UNPAID


def _number_cause(capacity, unpaid_numbers):
    """Why the number extra ``capacity`` waits for is on hold (going on hold in this batch,
    or held before)."""
    if capacity.did_id in unpaid_numbers:
        return unpaid_numbers[capacity.did_id]
    cause = (
        Subscription.objects.filter(
            kind=Kind.NUMBER,
            did_id=capacity.did_id,
            account_id=capacity.account_id,
            status=Status.HOLD,
        )
        .values_list("hold_cause", flat=True)
        .first()
    )
    return cause or HoldCause.CUSTOMER_UNPAID


# --- Resume after a top-up ------------------------------------------------------------------


def _held_in_order(queryset):
    """Held subscriptions' pks, oldest failure first, extra channels of a number after the
    numbers (they resume with their number)."""
    held = queryset.filter(status=Status.HOLD).order_by("renewal_failed_at", "pk")
    held = held.values_list("pk", "kind", "did_id")
    channels_last = sorted(held, key=lambda row: row[1] == Kind.CAPACITY and row[2] is not None)
    return [pk for pk, _, _ in channels_last]


def _resume_each(pks, *, now, job, stop_at):
    """Resume ``pks`` in order until one comes back ``stop_at`` (its payer's balance ran
    out); returns how many resumed."""
    resumed = 0
    for pk in pks:
        outcome = subscription_resume(subscription=Subscription(pk=pk), now=now, job=job)
        if outcome == stop_at:
            break
        resumed += outcome == "resumed"
    return resumed


def subscriptions_resume_after_topup(*, account, job="topup", now=None):
    """Resume what ``account``'s top-up pays for, charging both sides of a reseller's
    customer's period. Returns the number resumed. Safe to run twice: a resumed one is
    skipped.

    - A reseller: its customers' subscriptions held for "reseller unpaid", oldest failure
      first, until its balance runs out (a customer found short there waits for its own
      top-up: the cause becomes "customer unpaid"); then its own held ones.
    - Any account: its own subscriptions held for "customer unpaid" (numbers oldest
      failure first, then extra channels whose number is active again), until its
      balance runs out; one whose reseller is found short now waits for the reseller
      ("reseller unpaid"). Never those held for "reseller unpaid" (the customer's money
      is not what is missing) or "account suspended" (its reactivation resumes them).
    """
    account_id = getattr(account, "pk", account)
    now = now or timezone.now()
    kind = Account.objects.filter(pk=account_id).values_list("kind", flat=True).first()
    resumed = 0
    if kind == Account.Kind.RESELLER:
        waiting = Subscription.objects.filter(
            reseller_id=account_id, hold_cause=HoldCause.RESELLER_UNPAID
        )
        resumed += _resume_each(
            _held_in_order(waiting), now=now, job=job, stop_at="reseller_insufficient"
        )
    own = Subscription.objects.filter(account_id=account_id, hold_cause=HoldCause.CUSTOMER_UNPAID)
    return resumed + _resume_each(_held_in_order(own), now=now, job=job, stop_at="insufficient")


def subscriptions_resume_after_reactivation(*, account, job="reactivation", now=None):
    """A suspended customer is active again: its subscriptions held for "account
    suspended" wait for its balance like an unpaid renewal ("customer unpaid") and are
    resumed now as its top-up would (both sides charged; oldest first). Call it after the
    account's status is back to active (lane console's reactivation does). Returns the
    number resumed."""
    account_id = getattr(account, "pk", account)
    now = now or timezone.now()
    if not Account.objects.filter(pk=account_id, status=Account.Status.ACTIVE).exists():
        return 0
    suspended = Subscription.objects.filter(
        account_id=account_id, status=Status.HOLD, hold_cause=HoldCause.ACCOUNT_SUSPENDED
    )
    with transaction.atomic():
        for subscription in suspended.select_for_update(of=("self",)).order_by("pk"):
            hold_cause_change(subscription, cause=HoldCause.CUSTOMER_UNPAID, now=now, job=job)
    return subscriptions_resume_after_topup(account=account_id, job=job, now=now)


def subscription_resume(*, subscription, now=None, job="topup"):
    """Bring a held subscription back, all or nothing, never charging time spent on hold.

    A number (or account-wide capacity) starts a new full period now, re-anchored here.
    Extra channels of a number resume only while their number is active, aligned with its
    current period and charged pro rata for what is left of it. A reseller's customer's
    period is charged on both sides.

    Returns ``"resumed"``, ``"insufficient"`` (the customer's balance is short: the cause
    becomes "customer unpaid"), ``"reseller_insufficient"`` (the reseller's is: the cause
    becomes "reseller unpaid"), ``"suspended"`` (its account is suspended: left as it is),
    ``"waiting"`` (extra channels whose number is not active), ``"ended"`` (its number was
    released) or ``"skipped"`` (not on hold).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            number = _number_locked(subscription)  # lock order: the number before its channels
            subscription = (
                Subscription.objects.select_for_update(of=("self",))
                .select_related("account", "did", "reseller")
                .get(pk=subscription.pk)
            )
            if subscription.status != Status.HOLD:
                return "skipped"
            if not did_still_held(subscription):
                mark_ended(subscription, now=now, reason=RELEASED, job=job)
                return "ended"
            if not subscription.account.is_active:
                return "suspended"
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
    except InsufficientBalance as exc:
        cause = _shortfall_cause(subscription, exc)
        _hold_cause_set(subscription.pk, cause=cause, now=now, job=job)
        return "reseller_insufficient" if cause == HoldCause.RESELLER_UNPAID else "insufficient"


@transaction.atomic
def _hold_cause_set(pk, *, cause, now, job):
    """The held subscription ``pk`` (and, for a number, its held extra channels) now waits
    for ``cause``."""
    subscription = Subscription.objects.select_for_update(of=("self",)).get(pk=pk)
    was = subscription.hold_cause
    hold_cause_change(subscription, cause=cause, now=now, job=job)
    if was != cause == HoldCause.CUSTOMER_UNPAID:
        # Now it waits for the customer's own top-up: tell the customer, as a failed renewal.
        renewal_failed_email_send(subscription_id=subscription.pk)
    if subscription.kind == Kind.NUMBER and subscription.status == Status.HOLD:
        channels = Subscription.objects.filter(
            kind=Kind.CAPACITY,
            did_id=subscription.did_id,
            account_id=subscription.account_id,
            status=Status.HOLD,
        ).exclude(hold_cause=cause)
        for capacity in channels.select_for_update(of=("self",)).order_by("pk"):
            hold_cause_change(capacity, cause=cause, now=now, job=job)


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
    """The periodic safety net for a top-up or reactivation whose resume never ran (a lost
    enqueue): try every account with a subscription held for "customer unpaid" whose price
    its balance now covers, every reseller with its customers' subscriptions held for
    "reseller unpaid" whose wholesale price its balance now covers, and every active
    account with subscriptions held for "account suspended"."""
    held = Subscription.objects.filter(status=Status.HOLD)
    customers = held.filter(
        hold_cause=HoldCause.CUSTOMER_UNPAID,
        account__status=Account.Status.ACTIVE,
        account__balance__amount__gte=F("recurring_price"),
    ).values_list("account_id", flat=True)
    resellers = held.filter(
        hold_cause=HoldCause.RESELLER_UNPAID,
        reseller__balance__amount__gte=F("wholesale_recurring_price"),
    ).values_list("reseller_id", flat=True)
    reactivated = held.filter(
        hold_cause=HoldCause.ACCOUNT_SUSPENDED, account__status=Account.Status.ACTIVE
    ).values_list("account_id", flat=True)
    resumed = sum(
        subscriptions_resume_after_reactivation(account=account_id, job=job, now=now)
        for account_id in sorted(set(reactivated))
    )
    return resumed + sum(
        subscriptions_resume_after_topup(account=account_id, job=job, now=now)
        for account_id in sorted(set(resellers) | set(customers))
    )
