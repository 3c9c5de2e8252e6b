"""Subscriptions: price snapshots, start, charges of a period, the status table, hold,
cancel, keep and end. Renewals and resumes are in ``renewals``.

Every status change goes through ``subscription_transition``, which applies
``ALLOWED_TRANSITIONS``, sets the fields that go with the new status and writes a
``SubscriptionEvent`` (from, to, who — a user or a job —, when and why).

Every charge is a ledger debit with the key ``subscription:<id>:period:<index>``, recorded
as a ``SubscriptionCharge`` (unique per subscription, period and side) in the same
transaction, so a retried task, two overlapping runs or two beat schedulers charge a period
once. A reseller's customer's subscription (``Subscription.reseller`` set, with its wholesale
price snapshot) has two charges per period, written together: the customer's ``sale`` charge
(retail + VAT with the reseller as the seller) and the reseller's ``wholesale`` charge
(wholesale + VAT by the platform's rule, key ``…:period:<index>:wholesale``); both balances
are locked by one statement (account-pk order) and both debits checked before either is
staged, so a shortfall on either side charges nothing (``InsufficientBalance.account`` says
whose). A single period goes through ``record_charge`` (a ``LedgerBatch`` of one period); the
renewal run posts a claimed batch's debits together through the same ``LedgerBatch``.
DID status changes go through ``inventory.services.did_transition``; a failed renewal puts
the number on hold through it. A number leaves its owner through inventory's one release
(``inventory.services.release``: hold expiry, cancellation, the console), which ends its
live subscriptions in the same transaction (``billing.services.numbers``, registered in
``BillingConfig.ready``); ``subscriptions_end_released`` is only a safety net.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.permissions import may_manage_numbers_of
from catalog.pricing import PERIOD_OF_UNIT, block_prices, wholesale_prices
from didportal.batches import drain
from didportal.status_history import require_author
from inventory.choices import OWNED_STATUSES, DIDStatus
from inventory.models import DID
from inventory.services import did_hold_unpaid, did_release
from webhooks.services import event_emit

from ..models import Subscription, SubscriptionCharge, SubscriptionEvent
from ..notifications import renewal_failed_email_send
from ..periods import period_bounds
from ..tax import tax_for
from .ledger import LedgerBatch, money

logger = logging.getLogger(__name__)

Status = Subscription.Status
BillingType = Subscription.BillingType
HoldCause = Subscription.HoldCause
Side = SubscriptionCharge.Side
ZERO = Decimal("0.00")

# Why a hold happened, as the status history and the number's history tell it.
HOLD_REASONS = {
    HoldCause.CUSTOMER_UNPAID: "renewal unpaid: insufficient balance",
    HoldCause.RESELLER_UNPAID: "reseller unpaid: the reseller's balance does not cover it",
    HoldCause.ACCOUNT_SUSPENDED: "account suspended: not renewed at the period end",
}
# …and the number's history (short: its reason field holds 100 characters with the job).
DID_HOLD_REASONS = {
    HoldCause.CUSTOMER_UNPAID: "renewal of subscription {pk} failed: insufficient balance",
    HoldCause.RESELLER_UNPAID: "renewal of subscription {pk} not made: reseller unpaid",
    HoldCause.ACCOUNT_SUSPENDED: "renewal of subscription {pk} not made: account suspended",
}

# NumberBlock price-plan names → (unit, count).
BLOCK_PERIODS = {"monthly": ("month", 1), "weekly": ("week", 1), "daily": ("day", 1)}


# --- Status ---------------------------------------------------------------------------------

ALLOWED_TRANSITIONS = {
    # Registration approved (the first period starts then), or never completed (refunded).
    Status.PENDING: {Status.ACTIVE, Status.ENDED},
    # Renewal unpaid; cancelled (runs to the period end); ended (number released, or a
    # one-time rental cancelled).
    Status.ACTIVE: {Status.HOLD, Status.CANCELLED, Status.ENDED},
    # Resumed after a top-up; ended (cancelled on hold, hold expired, number released).
    Status.HOLD: {Status.ACTIVE, Status.ENDED},
    # Kept before the period end ("Keep this number"); ended at the period end.
    Status.CANCELLED: {Status.ACTIVE, Status.ENDED},
    Status.ENDED: set(),
}


class InvalidTransition(ValidationError):
    pass


@transaction.atomic
def subscription_transition(
    *, subscription, to_status, reason, actor=None, job="", now=None, hold_cause=""
):
    """Move a subscription (its row locked by the caller) to ``to_status`` and record who,
    when and why. Sets what goes with the new status: the renewal date (only an active
    recurring subscription renews, at its period end), the failed renewal and its
    ``hold_cause`` (default: the customer did not pay), the cancellation or the end.
    Raises ``InvalidTransition`` for a move the table refuses."""
    from_status = subscription.status
    if to_status not in ALLOWED_TRANSITIONS.get(from_status, set()):
        raise InvalidTransition(
            f"{subscription} cannot go from {Status(from_status).label.lower()} to "
            f"{Status(to_status).label.lower()}."
        )
    require_author(actor, job)
    now = now or timezone.now()
    subscription.next_renewal_at = None
    subscription.hold_cause = ""
    if to_status == Status.ACTIVE:
        subscription.renewal_failed_at = subscription.cancelled_at = None
        if subscription.is_recurring:
            subscription.next_renewal_at = subscription.current_period_end
    elif to_status == Status.HOLD:
        subscription.renewal_failed_at = now
        subscription.hold_cause = hold_cause or HoldCause.CUSTOMER_UNPAID
    elif to_status == Status.CANCELLED:
        subscription.cancelled_at = now
    else:
        subscription.ended_at = now
        subscription.end_reason = reason[:255]
    subscription.status = to_status
    subscription.save()
    event_record(
        subscription, from_status=from_status, actor=actor, job=job, reason=reason, now=now
    )
    return subscription


def event_record(subscription, *, from_status, actor, job, reason, now):
    """The history row of a status change; ``from_status`` blank: the subscription started."""
    SubscriptionEvent.objects.create(
        subscription=subscription,
        from_status=from_status,
        to_status=subscription.status,
        actor=actor,
        job=job or "",
        reason=reason[:255],
        created_at=now,
    )


# --- Prices ---------------------------------------------------------------------------------


def block_price_snapshot(*, block, period, channels=None, account=None):
    """The price ``account`` pays (``catalog.pricing``) for ``block`` rented per ``period``
    ("monthly", "weekly", "daily") with ``channels`` channels.

    Returns the keyword arguments of ``subscription_start`` that describe the price:
    ``recurring_price`` (the period price plus the extra channels' per-period price, rounded
    once), ``extra_channels_price`` (that extra part, rounded alone), ``setup_fee``,
    ``period_unit``, ``period_count``, ``channels`` and ``included_channels``; for a
    reseller's customer also the wholesale ones (``wholesale_snapshot``), which
    ``subscription_start`` would otherwise take itself.
    """
    if period not in BLOCK_PERIODS:
        raise ValidationError(f"Unknown billing period “{period}”.")
    prices = block_prices(block, account)
    price = prices.for_period(period)
    if price is None:
        raise ValidationError(f"This block is not offered {period}.")
    channels = prices.channels_included if channels is None else channels
    extra = prices.extra_channels_price(channels, period)
    unit, count = BLOCK_PERIODS[period]
    included = min(channels, prices.channels_included)
    snapshot = {
        "recurring_price": money(Decimal(price) + extra),
        "extra_channels_price": money(extra),
        "setup_fee": money(prices.setup_fee),
        "period_unit": unit,
        "period_count": count,
        "channels": channels,
        "included_channels": included,
    }
    reseller = account.reseller if account is not None else None
    if reseller is not None:
        snapshot.update(
            wholesale_snapshot(
                block=block,
                reseller=reseller,
                billing_type=BillingType.RECURRING,
                period_unit=unit,
                period_count=count,
                extra_channels=channels - included,
            )
        )
    return snapshot


def wholesale_snapshot(
    *, block, reseller, billing_type, period_unit="", period_count=1, extra_channels=0
):
    """What ``reseller`` pays the platform (``catalog.pricing.wholesale_prices``) for its
    customer's rental of a number of ``block``: the ``wholesale_*`` keyword arguments of
    ``subscription_start`` (the period price with ``extra_channels`` extra channels, that
    extra part, the setup fee), rounded as the retail snapshot is. A one-time rental has
    no period price: extra channels are charged once, as checkout does."""
    prices = wholesale_prices(block, reseller)
    if billing_type == BillingType.ONE_TIME:
        period, base = "one_time", ZERO
    else:
        period = PERIOD_OF_UNIT[period_unit]
        # A rental priced apart (a client package's own price) for a period the block does
        # not offer: the reseller pays nothing per period for it (nothing to derive from).
        base = Decimal(prices.for_period(period) or 0) * period_count
    extra = prices.extra_channel_price(period) * max(extra_channels, 0)
    if period != "one_time":
        extra *= period_count
    return {
        "wholesale_recurring_price": money(base + extra),
        "wholesale_extra_channels_price": money(extra),
        "wholesale_setup_fee": money(prices.setup_fee),
    }


# --- Periods --------------------------------------------------------------------------------


def period_bounds_of(subscription, index):
    """``(start, end)`` of period ``index``, counted from the anchor (re-set by a resume)."""
    anchor = timezone.localtime(subscription.anchor_at)
    offset = index - subscription.anchor_index
    return period_bounds(anchor, subscription.period_unit, subscription.period_count, offset)


def _charge_key(subscription, index, side=Side.SALE):
    key = f"subscription:{subscription.pk}:period:{index}"
    return key if side == Side.SALE else f"{key}:{side}"


def charge_row(subscription, *, decision, index, start, end, recurring, setup, job, side=Side.SALE):
    """The unsaved ``SubscriptionCharge`` of period ``index`` on ``side`` taxed by
    ``decision``: a sale charge is the subscription's account's, a wholesale charge its
    reseller's."""
    taxed = decision.amounts(setup, recurring)
    return SubscriptionCharge(
        subscription=subscription,
        account=subscription.reseller if side == Side.WHOLESALE else subscription.account,
        side=side,
        period_index=index,
        period_start=start,
        period_end=end,
        net=taxed.net,
        setup_net=setup,
        vat_rate=decision.rate,
        vat_country=decision.country,
        reverse_charge=decision.reverse_charge,
        buyer_country=decision.buyer_country,
        buyer_vat_number=decision.buyer_vat_number,
        vat_confirmed=decision.vat_confirmed,
        vat=taxed.vat,
        amount=taxed.gross,
        created_by_job=job,
    )


def debit_fields(subscription, *, index, start, end, side=Side.SALE):
    """The ledger debit's key, description and reference for period ``index`` on ``side``."""
    description = f"{subscription} — {_period_label(start, end)}"
    if side == Side.WHOLESALE:
        description = f"Wholesale for {subscription.account}: {description}"
    return {
        "idempotency_key": _charge_key(subscription, index, side),
        "description": description[:255],
        "reference": ("subscription", subscription.pk),
    }


@dataclass
class PeriodDecisions:
    """The VAT decisions a batch of periods is charged by, made once per buyer and seller
    situation: the sale side (``sale_tax_for``: the reseller sells to its customer) and the
    wholesale side (``tax_for(reseller)``: the platform sells to the reseller)."""

    cache: dict = field(default_factory=dict)

    def _decide(self, account, seller):
        key = (
            account.country.code if account.country else "",
            account.vat_number,
            seller.country.code if seller is not None and seller.country else "",
            seller is None,
        )
        if key not in self.cache:
            self.cache[key] = tax_for(account, seller=seller)
        return self.cache[key]

    def sale(self, subscription):
        return self._decide(subscription.account, subscription.reseller)

    def wholesale(self, subscription):
        return self._decide(subscription.reseller, None)


def period_rows(
    subscription,
    *,
    index,
    start,
    end,
    recurring,
    setup=ZERO,
    wholesale_recurring=None,
    wholesale_setup=ZERO,
    job="",
    decisions,
    sale_decision=None,
):
    """The unsaved charges of period ``index``: the sale charge, and for a reseller's
    customer the wholesale one (``wholesale_recurring`` defaulting to the snapshot's
    period price), each with the debit it needs (None for a free one) as
    ``[(row, debit keywords or None), …]``."""
    sale = charge_row(
        subscription,
        decision=sale_decision or decisions.sale(subscription),
        index=index,
        start=start,
        end=end,
        recurring=recurring,
        setup=setup,
        job=job,
    )
    rows = [sale]
    if subscription.reseller_id is not None:
        if wholesale_recurring is None:
            wholesale_recurring = subscription.wholesale_recurring_price
        rows.append(
            charge_row(
                subscription,
                decision=decisions.wholesale(subscription),
                index=index,
                start=start,
                end=end,
                recurring=wholesale_recurring,
                setup=wholesale_setup,
                job=job,
                side=Side.WHOLESALE,
            )
        )
    return [
        (
            row,
            {
                "account": row.account,
                "amount": row.amount,
                **debit_fields(subscription, index=index, start=start, end=end, side=row.side),
            }
            if row.amount > 0
            else None,
        )
        for row in rows
    ]


def stage_period(debits, pairs):
    """Stage the debits of one period's charges (``period_rows``) on ``debits`` (a
    ``LedgerBatch``) all or nothing, linking each charge to its entry; raises
    ``InsufficientBalance`` (naming whose balance) and stages nothing when either side is
    short. Returns the charges."""
    wanted = [(row, debit) for row, debit in pairs if debit is not None]
    entries = debits.charge_all([debit for _, debit in wanted])
    for (row, _), entry in zip(wanted, entries, strict=True):
        row.ledger_entry = entry
    return [row for row, _ in pairs]


def record_charge(
    subscription,
    *,
    index,
    start,
    end,
    recurring,
    setup=ZERO,
    wholesale_recurring=None,
    wholesale_setup=ZERO,
    created_by=None,
    job="",
    decision=None,
):
    """Debit period ``index`` (plus ``setup`` on the first) with VAT and record it; for a
    reseller's customer also the reseller's wholesale side of the same period
    (``wholesale_recurring``, default the snapshot's period price, plus
    ``wholesale_setup``), in this transaction, both or neither.

    VAT is decided now, at the time of supply, by ``billing.tax`` (the sale side's may be
    the ``decision`` the caller's quote already made, so a quote and its charges agree);
    raises ``InsufficientBalance`` (``.account``: whose balance) when a balance does not
    cover its side, having charged nothing. Returns the sale charge.
    """
    pairs = period_rows(
        subscription,
        index=index,
        start=start,
        end=end,
        recurring=recurring,
        setup=setup,
        wholesale_recurring=wholesale_recurring,
        wholesale_setup=wholesale_setup,
        job=job,
        decisions=PeriodDecisions(),
        sale_decision=decision,
    )
    debits = LedgerBatch(job=job, created_by=created_by)
    debits.lock(row.account_id for row, debit in pairs if debit is not None)
    rows = stage_period(debits, pairs)
    debits.post()
    SubscriptionCharge.objects.bulk_create(rows)
    return rows[0]


def _period_label(start, end):
    start = timezone.localtime(start).date()
    if end is None:
        return f"from {start}"
    last = (timezone.localtime(end) - timedelta(microseconds=1)).date()
    return f"{start} – {last}"


# --- Start ----------------------------------------------------------------------------------


def _check_did_held_by(did, account):
    if did.owner_id != account.pk or did.status not in OWNED_STATUSES:
        raise ValidationError(f"The number {did.number} is not held by {account}.")


def subscription_new(
    *,
    account,
    did,
    billing_type,
    recurring_price,
    idempotency_key,
    setup_fee=Decimal("0.00"),
    period_unit="",
    period_count=1,
    channels=0,
    included_channels=None,
    extra_channels_price=Decimal("0.00"),
    kind=Subscription.Kind.NUMBER,
    description="",
    now=None,
    wholesale_recurring_price=None,
    wholesale_extra_channels_price=None,
    wholesale_setup_fee=None,
    awaiting_registration=False,
) -> Subscription:
    """The unsaved subscription ``subscription_start`` starts (its keywords, checked and
    rounded; the wholesale snapshot for a reseller's customer; the first period's end):
    nothing is read or written here."""
    if billing_type not in BillingType.values:
        raise ValidationError(f"Unknown billing type “{billing_type}”.")
    recurring_price, setup_fee = money(recurring_price), money(setup_fee)
    if recurring_price < 0 or setup_fee < 0:
        raise ValidationError("Prices cannot be negative.")
    included_channels = channels if included_channels is None else included_channels
    extra_channels_price = money(extra_channels_price)
    if not 0 <= included_channels <= channels or not 0 <= extra_channels_price <= recurring_price:
        raise ValidationError("The extra channels do not fit the rental's channels and price.")
    if billing_type == BillingType.ONE_TIME:
        period_unit, period_count = "", 1
    elif period_unit not in Subscription.PeriodUnit.values or period_count < 1:
        raise ValidationError("A recurring subscription needs a period (day, week or month, N≥1).")
    reseller = account.reseller
    if reseller is None:
        wholesale = {}
    elif wholesale_recurring_price is None:
        if did is None:
            raise ValidationError("A reseller's customer's capacity needs its wholesale price.")
        wholesale = wholesale_snapshot(
            block=did.block,
            reseller=reseller,
            billing_type=billing_type,
            period_unit=period_unit,
            period_count=period_count,
            extra_channels=channels - included_channels,
        )
    else:
        wholesale = {
            "wholesale_recurring_price": money(wholesale_recurring_price),
            "wholesale_extra_channels_price": money(wholesale_extra_channels_price or 0),
            "wholesale_setup_fee": money(wholesale_setup_fee or 0),
        }
    now = now or timezone.now()
    subscription = Subscription(
        account=account,
        kind=kind,
        did=did,
        description=description or (f"Number {did.number}" if did else "Extra capacity"),
        billing_type=billing_type,
        period_unit=period_unit,
        period_count=period_count,
        anchor_at=now,
        channels=channels,
        included_channels=included_channels,
        recurring_price=recurring_price,
        extra_channels_price=extra_channels_price,
        setup_fee=setup_fee,
        currency=account.currency,
        current_period_index=0,
        current_period_start=now,
        idempotency_key=idempotency_key,
        created_at=now,
        reseller=reseller,
        **wholesale,
    )
    if subscription.is_recurring:
        _, end = period_bounds_of(subscription, 0)
        subscription.current_period_end = subscription.next_renewal_at = end
    if awaiting_registration:
        subscription.status = Status.PENDING
        subscription.next_renewal_at = None
    return subscription


@transaction.atomic
def subscription_start(
    *,
    account,
    did,
    billing_type,
    recurring_price,
    idempotency_key,
    setup_fee=Decimal("0.00"),
    period_unit="",
    period_count=1,
    channels=0,
    included_channels=None,
    extra_channels_price=Decimal("0.00"),
    kind=Subscription.Kind.NUMBER,
    description="",
    actor=None,
    job="",
    now=None,
    tax_decision=None,
    wholesale_recurring_price=None,
    wholesale_extra_channels_price=None,
    wholesale_setup_fee=None,
    awaiting_registration=False,
):
    """Start a subscription and charge its first period (plus the setup fee) in advance.

    ``awaiting_registration``: the number awaits registration; the subscription is
    ``pending`` (charged, not renewing) until ``billing.services.registration`` starts its
    first period at approval or refunds it.

    The number must already be held by ``account`` (checkout assigns it in the same
    transaction). ``included_channels`` (default: all of ``channels``) are the plan's; the
    ones above cost ``extra_channels_price`` of ``recurring_price`` and can be given up
    later. A repeated ``idempotency_key`` returns the first subscription.

    The prices given are the buyer's (retail for a reseller's customer, wholesale for a
    reseller buying for itself: a direct sale). For a reseller's customer the subscription
    records the reseller and the wholesale prices beside them (the ``wholesale_*`` given,
    else ``wholesale_snapshot`` of the number's block) and the first period is charged on
    both sides. Raises ``InsufficientBalance`` (nothing saved; ``.account`` says whose
    balance) when a balance does not cover its side.
    """
    existing = Subscription.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.account_id != account.pk:
            raise ValidationError("This idempotency key belongs to another subscription.")
        return existing
    subscription = subscription_new(
        account=account,
        did=did,
        billing_type=billing_type,
        recurring_price=recurring_price,
        idempotency_key=idempotency_key,
        setup_fee=setup_fee,
        period_unit=period_unit,
        period_count=period_count,
        channels=channels,
        included_channels=included_channels,
        extra_channels_price=extra_channels_price,
        kind=kind,
        description=description,
        now=now,
        wholesale_recurring_price=wholesale_recurring_price,
        wholesale_extra_channels_price=wholesale_extra_channels_price,
        wholesale_setup_fee=wholesale_setup_fee,
        awaiting_registration=awaiting_registration,
    )
    if did is not None:
        did = subscription.did = DID.objects.select_for_update().get(pk=did.pk)
        _check_did_held_by(did, account)
        running = did.subscriptions.filter(kind=kind, status__in=Subscription.RUNNING_STATUSES)
        if kind == Subscription.Kind.NUMBER and running.exists():
            # The one-running-subscription-per-number constraint, said in words.
            raise ValidationError(
                f"The previous service on {did.number} is still being ended: try again in a "
                "few minutes."
            )
    elif kind == Subscription.Kind.NUMBER:
        raise ValidationError("A number subscription needs its number.")

    now = subscription.created_at
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError as exc:
        existing = Subscription.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None and existing.account_id == account.pk:
            return existing
        raise ValidationError(f"The number {did} already has a live subscription.") from exc
    job = job or ("" if actor else "subscription_start")
    started = "started, awaiting registration" if awaiting_registration else "started"
    event_record(subscription, from_status="", actor=actor, job=job, reason=started, now=now)
    record_charge(
        subscription,
        index=0,
        start=now,
        end=subscription.current_period_end,
        recurring=subscription.recurring_price,
        setup=subscription.setup_fee,
        wholesale_recurring=subscription.wholesale_recurring_price,
        wholesale_setup=subscription.wholesale_setup_fee,
        created_by=actor,
        job=job,
        decision=tax_decision,
    )
    return subscription


class SubscriptionStarts:
    """Number subscriptions started together, each with its first period charged: what
    ``subscription_start`` does for one, in a few statements however many (checkout's
    orders; PostgreSQL).

    ``add`` builds a subscription by ``subscription_new`` (the same rules and snapshots)
    and stages its first period's debits on ``debits`` (a ``LedgerBatch`` holding the
    locked balances) all or nothing, raising ``InsufficientBalance`` (``.account``: whose
    balance) or ``ValidationError`` with nothing staged, as ``subscription_start`` would;
    it returns the sale charge. ``save`` writes every subscription, start event, ledger
    entry, balance and charge, one statement each. The numbers must be held by the account
    when ``save`` runs (the caller sells them in the same transaction). A key used before
    or a number with a running subscription makes ``save`` raise ``IntegrityError`` (the
    unique constraints): the caller then starts them one by one, which says which.
    Subscription ids are taken from the sequence up front (one statement): the ledger keys
    and descriptions name them before anything is written.
    """

    def __init__(self, *, account, actor, now, tax_decision, debits, count):
        self.account, self.actor, self.now = account, actor, now
        self.tax_decision, self.debits = tax_decision, debits
        self.job = "" if actor else "subscription_start"
        self.decisions = PeriodDecisions()
        self.subscriptions, self.events, self.charges = [], [], []
        self._ids = iter(_reserve_ids(Subscription, count))

    def add(self, *, did, awaiting_registration=False, **keywords):
        subscription = subscription_new(
            account=self.account,
            did=did,
            now=self.now,
            awaiting_registration=awaiting_registration,
            **keywords,
        )
        subscription.pk = next(self._ids)  # before the rows: their keys name it
        pairs = period_rows(
            subscription,
            index=0,
            start=self.now,
            end=subscription.current_period_end,
            recurring=subscription.recurring_price,
            setup=subscription.setup_fee,
            wholesale_recurring=subscription.wholesale_recurring_price,
            wholesale_setup=subscription.wholesale_setup_fee,
            job=self.job,
            decisions=self.decisions,
            sale_decision=self.tax_decision,
        )
        rows = stage_period(self.debits, pairs)
        self.subscriptions.append(subscription)
        started = "started, awaiting registration" if awaiting_registration else "started"
        self.events.append(
            SubscriptionEvent(
                subscription=subscription,
                from_status="",
                to_status=subscription.status,
                actor=self.actor,
                job=self.job,
                reason=started,
                created_at=self.now,
            )
        )
        self.charges += rows
        return rows[0]

    def save(self):
        Subscription.objects.bulk_create(self.subscriptions)
        SubscriptionEvent.objects.bulk_create(self.events)
        self.debits.post()
        SubscriptionCharge.objects.bulk_create(self.charges)


def _reserve_ids(model, count):
    """``count`` primary keys taken from ``model``'s sequence (PostgreSQL)."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


# --- Renewal --------------------------------------------------------------------------------


def did_still_held(subscription):
    """Is the subscription's number still held (active or on hold) by its account?"""
    if subscription.did_id is None:
        return True
    did = subscription.did
    return did.owner_id == subscription.account_id and did.status in OWNED_STATUSES


def period_next(subscription):
    """``(index, start, end)`` of the period after the current one."""
    index = subscription.current_period_index + 1
    return (index, *period_bounds_of(subscription, index))


def period_advance(subscription, index, start, end):
    subscription.current_period_index = index
    subscription.current_period_start, subscription.current_period_end = start, end


def mark_ended(subscription, *, now, reason, actor=None, job=""):
    return subscription_transition(
        subscription=subscription,
        to_status=Status.ENDED,
        reason=reason,
        actor=actor,
        job=job or ("" if actor else "end_subscriptions"),
        now=now,
    )


def mark_held(subscription, *, now, job, notify=True, reason=None, cause=HoldCause.CUSTOMER_UNPAID):
    """A renewal was not made: the subscription and its number go on hold for ``cause``.
    Only a customer who did not pay is told to top up (``notify``): a reseller unpaid or
    an account suspended is not the customer's balance."""
    subscription_transition(
        subscription=subscription,
        to_status=Status.HOLD,
        reason=reason or HOLD_REASONS[cause],
        job=job,
        now=now,
        hold_cause=cause,
    )
    if subscription.kind == Subscription.Kind.NUMBER:
        did_hold_unpaid(
            did=subscription.did,
            job=job,
            reason=DID_HOLD_REASONS[cause].format(pk=subscription.pk),
        )
    if notify and cause == HoldCause.CUSTOMER_UNPAID:
        renewal_failed_email_send(subscription_id=subscription.pk)  # queued in the outbox
    if subscription.kind == Subscription.Kind.NUMBER and cause == HoldCause.CUSTOMER_UNPAID:
        # The customer's own balance was short (a reseller's shortfall is the reseller's).
        data = number_event_data(subscription)
        event_emit(account=subscription.account_id, event="number.renewal_failed", data=data)


def number_event_data(subscription, **extra):
    """A number subscription's webhook payload (``number.renewed``, ``.renewal_failed``)."""
    did = subscription.did
    return {
        "did": {"id": did.pk, "number": did.number},
        "subscription_id": subscription.pk,
        "period_end": subscription.current_period_end,
        "recurring_price": subscription.recurring_price,
        "currency": subscription.account.currency,
        **extra,
    }


def hold_cause_change(subscription, *, cause, now, job):
    """A held subscription (locked by the caller) now waits for something else (a resume
    found the other side short): its cause changes, recorded as a hold → hold event."""
    if subscription.status != Status.HOLD or subscription.hold_cause == cause:
        return subscription
    subscription.hold_cause = cause
    subscription.save(update_fields=["hold_cause"])
    event_record(
        subscription,
        from_status=Status.HOLD,
        actor=None,
        job=job,
        reason=HOLD_REASONS[cause],
        now=now,
    )
    return subscription


def capacity_number_unpaid(subscription, held_now=()):
    """Is this extra capacity's number on hold for an unpaid renewal (or going on hold in
    this run: ``held_now`` holds such numbers' ids)? Its capacity then is not renewed: it
    waits on hold and resumes after the number (resumes go oldest failure first)."""
    if subscription.kind != Subscription.Kind.CAPACITY or subscription.did_id is None:
        return False
    did = subscription.did
    return did.pk in held_now or (did.status == DIDStatus.HOLD and did.unpaid)


# --- Cancel and end -------------------------------------------------------------------------


def _release_did(subscription, *, job, actor=None, reason):
    """The number leaves the account through inventory's one release, which ends the
    number's live subscriptions (its extra capacity too) in this transaction."""
    if subscription.kind != Subscription.Kind.NUMBER:
        return
    did_release(
        did=subscription.did, owner=subscription.account, actor=actor, job=job, reason=reason
    )


def lock_after_number(subscriptions, *, pk):
    """``subscriptions.get(pk=pk)``, locked after its number: numbers before subscriptions,
    as the release locks them, so a cancel or a change racing the hold-expiry job waits for
    it instead of deadlocking."""
    did_id = Subscription.objects.values_list("did_id", flat=True).get(pk=pk)
    if did_id is not None:
        list(DID.objects.select_for_update().filter(pk=did_id).values_list("pk"))
    return subscriptions.select_for_update(of=("self",)).get(pk=pk)


def _lock_for(actor, subscription, *, doing):
    """The subscription, locked (after its number), when ``actor`` may manage its account's
    numbers."""
    subscription = lock_after_number(
        Subscription.objects.select_related("account"), pk=subscription.pk
    )
    if not may_manage_numbers_of(actor, subscription.account):
        raise PermissionDenied(f"You may not {doing} this subscription.")
    return subscription


@transaction.atomic
def subscription_cancel(*, subscription, actor, now=None):
    """Stop renewing. A paid period runs to its end (``subscriptions_end_due`` ends it then,
    and ``subscription_keep`` undoes the cancellation until then); a held or one-time
    subscription ends now and its number is released."""
    now = now or timezone.now()
    subscription = _lock_for(actor, subscription, doing="cancel")
    if subscription.status not in Subscription.LIVE_STATUSES:
        return subscription
    if subscription.status == Status.ACTIVE and subscription.is_recurring:
        return subscription_transition(
            subscription=subscription,
            to_status=Status.CANCELLED,
            reason="cancelled: runs to the end of the paid period",
            actor=actor,
            now=now,
        )
    subscription.cancelled_at = now
    mark_ended(subscription, now=now, reason="cancelled", actor=actor)
    _release_did(
        subscription, actor=actor, job=None, reason=f"subscription {subscription.pk} cancelled"
    )
    return subscription


@transaction.atomic
def subscription_keep(*, subscription, actor, now=None):
    """Undo a cancellation before the paid period ends: the subscription is active again
    and renews at the period end as if never cancelled. Refuses once the period is over
    (the number is being released). Keeping an active subscription changes nothing."""
    now = now or timezone.now()
    subscription = _lock_for(actor, subscription, doing="keep")
    if subscription.status == Status.ACTIVE:
        return subscription
    if subscription.status != Status.CANCELLED or subscription.current_period_end <= now:
        raise InvalidTransition(f"{subscription} can no longer be kept: its paid period is over.")
    return subscription_transition(
        subscription=subscription,
        to_status=Status.ACTIVE,
        reason="kept: the cancellation is undone",
        actor=actor,
        now=now,
    )


def subscriptions_end_due(*, now=None, job="end_subscriptions", batch_size=500):
    """End cancelled subscriptions whose paid period is over and release their numbers."""
    return drain(_end_due_batch, now=now or timezone.now(), job=job, batch_size=batch_size)


@transaction.atomic
def _end_due_batch(*, now, job, batch_size):
    """Numbers first, then subscriptions (the release's lock order): releasing a number ends
    its subscriptions; what is still cancelled after that (extra capacity, a number already
    gone) ends here. A concurrent run finds the same rows ended and does nothing twice."""
    due = list(
        Subscription.objects.filter(status=Status.CANCELLED, current_period_end__lte=now)
        .select_related("account", "did")
        .order_by("pk")[:batch_size]
    )
    reason = "cancelled, paid period over"
    for subscription in due:
        _release_did(subscription, job=job, reason=f"subscription {subscription.pk} {reason}")
    still_cancelled = Subscription.objects.select_for_update().filter(
        pk__in=[subscription.pk for subscription in due], status=Status.CANCELLED
    )
    for subscription in still_cancelled.order_by("pk"):
        mark_ended(subscription, now=now, reason=reason, job=job)
    return len(due)


def subscriptions_end_released(*, now=None, job="end_subscriptions", batch_size=500):
    """End live subscriptions whose number is no longer held by their account (the hold
    expired in inventory's ``release_holds``, or an admin released it), and held extra
    capacity without a number whose renewal failed more than DID_HOLD_DAYS ago."""
    return drain(_end_released_batch, now=now or timezone.now(), job=job, batch_size=batch_size)


@transaction.atomic
def _end_released_batch(*, now, job, batch_size):
    cutoff = now - timedelta(days=getattr(settings, "DID_HOLD_DAYS", 30))
    released = Q(did__isnull=False) & ~Q(did__status__in=OWNED_STATUSES, did__owner=F("account"))
    expired = Q(did__isnull=True, status=Status.HOLD, renewal_failed_at__lte=cutoff)
    stale = list(
        Subscription.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status__in=Subscription.RUNNING_STATUSES)
        .filter(released | expired)
        .order_by("pk")[:batch_size]
    )
    for subscription in stale:
        reason = "the hold expired" if subscription.status == Status.HOLD else "number released"
        mark_ended(subscription, now=now, reason=reason, job=job)
    return len(stale)
