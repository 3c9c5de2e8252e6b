"""Extra capacity on a rented number: more channels now (charged pro rata), fewer from the
end of the paid period, and cancelling a number together with its capacity.

Extra capacity is a ``Subscription`` of its own (``kind="capacity"``, ``did`` = the number,
``channels`` = the extra channels, ``recurring_price`` = extra × the per-channel price of one
period), aligned with the number's subscription: the same anchor, period unit and count,
current period (index, start, end) and next renewal, so billing's renewal job renews both
at the same moment and every later period of the capacity costs its full price. The
per-channel price is the buyer's, from ``catalog.pricing`` (per month, spread over the
number's period); callers never pass a price.

Channels chosen at checkout above the plan's included ones are part of the number's own
rental (``channels`` − ``included_channels``, costing ``extra_channels_price`` of its
``recurring_price``). They can be given up like added capacity: a reduction that needs them
splits them off into a capacity subscription of their own (already paid for this period)
and cancels it, and the rental's price drops by their part from the next period.

Its first charge covers only what is left of the current period: remaining time / period
length × the period price, rounded half-up to the cent, with VAT through the same
``record_charge`` the other charges use. That charge is a ``SubscriptionCharge`` like any
other, so the daily invoice job bills it.

A number's channels = its subscription's channels + the channels of its active capacity
subscriptions; cancelled capacity still works until its period ends. Capacity follows its
number: it is not renewed while the number is on hold for an unpaid renewal, and capacity
on hold is not live (it does not count) until it resumes with the number (``renewals``).

On a reseller's customer's number, capacity records the reseller and its wholesale price
(the reseller's wholesale per-channel price × channels) beside the retail one, and each
charge, pro rata ones included, is made on both sides at once (``record_charge``).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import combinations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.permissions import may_change_channels, may_manage_numbers_of
from catalog.pricing import PER_PERIOD, PERIOD_OF_UNIT, block_prices, wholesale_prices
from didportal.templatetags.portal import money as money_text
from inventory.choices import DIDStatus

from ..models import Subscription
from ..tax import TaxDecision, tax_for
from .ledger import CENT, money
from .subscriptions import (
    event_record,
    lock_after_number,
    record_charge,
    subscription_cancel,
    subscription_keep,
)

Kind = Subscription.Kind
Status = Subscription.Status

MAX_EXTRA_CHANNELS = 1000
# Above this many live capacity purchases on one number, reductions skip the search for an
# exact combination and simply cancel the newest first.
EXACT_SEARCH_LIMIT = 16
MICROSECOND = timedelta(microseconds=1)


# --- Reads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelTotals:
    """The channels of one number.

    ``total`` is what it has from the next period on: its plan's plus extra channels.
    ``ending`` counts cancelled capacity that still works until ``ending_at``.
    """

    included: int  # the channels the number's plan includes
    extra: int  # chosen at checkout above the plan + active capacity
    ending: int = 0
    ending_at: datetime | None = None
    extra_on_hold: int = 0  # held capacity: not live, back when its renewal is paid

    @property
    def total(self):
        return self.included + self.extra

    @property
    def now(self):
        return self.total + self.ending


def channel_totals(number_subscription, capacity_subscriptions) -> ChannelTotals:
    """Channel totals from a number subscription and its capacity subscriptions (any status:
    ended ones are ignored). Pure: pass prefetched rows to total many numbers at once."""
    extra = ending = on_hold = 0
    ending_at = None
    for sub in capacity_subscriptions:
        if sub.status == Status.ACTIVE:
            extra += sub.channels
        elif sub.status == Status.HOLD:
            on_hold += sub.channels
        elif sub.status == Status.CANCELLED:
            ending += sub.channels
            ending_at = max(filter(None, (ending_at, sub.current_period_end)), default=None)
    return ChannelTotals(
        included=number_subscription.included_channels,
        extra=extra + checkout_channels(number_subscription),
        ending=ending,
        ending_at=ending_at,
        extra_on_hold=on_hold,
    )


def capacity_subscriptions(number_subscription, *, statuses=(Status.ACTIVE,)):
    """The capacity subscriptions of the number's account on the number, oldest first
    (active ones unless ``statuses`` says otherwise)."""
    return Subscription.objects.filter(
        kind=Kind.CAPACITY,
        did_id=number_subscription.did_id,
        account_id=number_subscription.account_id,
        status__in=statuses,
    ).order_by("pk")


def number_channels(number_subscription) -> ChannelTotals:
    """The selector: a number's channels (own + active capacity; held and cancelled apart)."""
    subs = capacity_subscriptions(number_subscription, statuses=Subscription.RUNNING_STATUSES)
    return channel_totals(number_subscription, subs)


# --- Adding channels ------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityQuote:
    """What adding ``extra_channels`` costs: now (pro rata, with VAT) and per period."""

    extra_channels: int
    channel_price: Decimal  # per channel and period, as priced for the buyer
    recurring_price: Decimal  # per period from the next one on, 2 decimals, without VAT
    net: Decimal  # due now: the rest of the current period
    vat: Decimal
    gross: Decimal
    vat_rate: Decimal
    starts_at: datetime
    period_end: datetime
    decision: TaxDecision | None = None  # the VAT decision the quote was taxed by


def _checked_extra_channels(extra_channels):
    if isinstance(extra_channels, bool) or not isinstance(extra_channels, int):
        raise ValidationError({"extra_channels": "Enter a whole number of channels."})
    if not 1 <= extra_channels <= MAX_EXTRA_CHANNELS:
        raise ValidationError(
            {"extra_channels": f"Add between 1 and {MAX_EXTRA_CHANNELS} channels at a time."}
        )
    return extra_channels


def channel_price(number_subscription) -> Decimal:
    """One extra channel for one period of the number's plan, at the price its account pays
    (``catalog.pricing``: per month, spread over a week or a day)."""
    sub = number_subscription
    prices = block_prices(sub.did.block, sub.account)
    return prices.extra_channel_price(PERIOD_OF_UNIT[sub.period_unit]) * sub.period_count


def wholesale_channel_price(number_subscription) -> Decimal:
    """One extra channel for one period of a reseller's customer's number at the wholesale
    price its reseller pays; 0 without a reseller. Never shown to the customer."""
    sub = number_subscription
    if sub.reseller_id is None:
        return Decimal("0")
    prices = wholesale_prices(sub.did.block, sub.reseller)
    return prices.extra_channel_price(PERIOD_OF_UNIT[sub.period_unit]) * sub.period_count


def _check_can_grow(number_subscription, now):
    """Extra channels go only on an active, recurring number subscription mid-period."""
    sub = number_subscription
    if sub.kind != Kind.NUMBER:
        raise ValidationError("Extra capacity is added to a number's subscription.")
    did = sub.did
    if sub.status == Status.PENDING or did.status == DIDStatus.AWAITING_REGISTRATION:
        raise ValidationError(
            {
                "extra_channels": f"{did.number} is awaiting registration: channels can be added "
                "once its registration is approved."
            }
        )
    if (
        sub.status != Status.ACTIVE
        or did.status != DIDStatus.ACTIVE
        or did.owner_id != sub.account_id
    ):
        state = {
            Status.HOLD: "on hold until its renewal is paid",
            Status.CANCELLED: "cancelled",
            Status.ENDED: "no longer rented",
        }.get(sub.status, "not active")
        raise ValidationError(
            f"{did.number} is {state}: channels can be added to an active number only."
        )
    if not sub.is_recurring:
        raise ValidationError(
            f"{did.number} was bought once, without renewals: extra channels need a number "
            "rented by period."
        )
    if sub.current_period_end <= now:
        raise ValidationError(
            f"The renewal of {did.number} is being processed; try again in a few minutes."
        )


def prorata(amount, *, now, period_start, period_end) -> Decimal:
    """``amount`` × the share of [period_start, period_end) still ahead at ``now``, rounded
    half-up to the cent. Exact: time is counted in whole microseconds."""
    period = (period_end - period_start) // MICROSECOND
    remaining = min(max((period_end - now) // MICROSECOND, 0), period)
    value = Decimal(amount) * Decimal(remaining) / Decimal(period)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def capacity_quote(*, number_subscription, extra_channels, now=None):
    """The price of adding ``extra_channels`` to the number now (read only; refuses what
    ``capacity_add`` would refuse)."""
    now = now or timezone.now()
    extra_channels = _checked_extra_channels(extra_channels)
    _check_can_grow(number_subscription, now)
    price = channel_price(number_subscription)
    recurring_price = money(extra_channels * price)
    net = prorata(
        recurring_price,
        now=now,
        period_start=number_subscription.current_period_start,
        period_end=number_subscription.current_period_end,
    )
    # The seller is the one the number was bought from (its reseller, else the platform).
    decision = tax_for(number_subscription.account, seller=number_subscription.reseller)
    taxed = decision.amounts(net)
    return CapacityQuote(
        extra_channels=extra_channels,
        channel_price=price,
        recurring_price=recurring_price,
        net=taxed.net,
        vat=taxed.vat,
        gross=taxed.gross,
        vat_rate=decision.rate,
        starts_at=now,
        period_end=number_subscription.current_period_end,
        decision=decision,
    )


def _lock_number_subscription(number_subscription):
    return lock_after_number(
        Subscription.objects.select_related("account", "did", "reseller").filter(kind=Kind.NUMBER),
        pk=number_subscription.pk,
    )


def _check_may_change(actor, number_subscription):
    if actor is None or not may_change_channels(
        actor, number_subscription.account, number_subscription.did
    ):
        raise PermissionDenied("You may not change this number's channels.")


def _existing_capacity(idempotency_key, number_subscription):
    existing = Subscription.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        return None
    if (existing.kind, existing.account_id, existing.did_id) != (
        Kind.CAPACITY,
        number_subscription.account_id,
        number_subscription.did_id,
    ):
        raise ValidationError("This request was already used for something else; reload the page.")
    return existing


def _aligned_capacity(number, *, channels, recurring_price, description, **fields):
    """An unsaved capacity subscription on ``number``'s number, in step with its rental."""
    return Subscription(
        account=number.account,
        kind=Kind.CAPACITY,
        did=number.did,
        description=f"Extra capacity: {channels} channel{'s' if channels != 1 else ''} on "
        f"{number.did.number}{description}",
        billing_type=Subscription.BillingType.RECURRING,
        period_unit=number.period_unit,
        period_count=number.period_count,
        anchor_at=number.anchor_at,
        anchor_index=number.anchor_index,
        channels=channels,
        recurring_price=recurring_price,
        setup_fee=Decimal("0.00"),
        currency=number.currency,
        current_period_index=number.current_period_index,
        current_period_start=number.current_period_start,
        current_period_end=number.current_period_end,
        next_renewal_at=number.next_renewal_at,
        reseller=number.reseller,
        **fields,
    )


@transaction.atomic
def capacity_add(*, number_subscription, extra_channels, actor, idempotency_key, now=None):
    """Add ``extra_channels`` channels to a rented number, starting now, at the price
    ``catalog.pricing`` gives the number's account.

    Creates the capacity subscription aligned with the number's and charges the rest of the
    current period pro rata (plus VAT). Idempotent on ``idempotency_key``: a repeat returns
    the first capacity subscription. Raises ``InsufficientBalance`` (nothing saved) when the
    balance does not cover the charge, ``ValidationError`` when the number is not active.
    """
    if not idempotency_key:
        raise ValidationError("An idempotency key is required.")
    now = now or timezone.now()
    number = _lock_number_subscription(number_subscription)
    _check_may_change(actor, number)
    existing = _existing_capacity(idempotency_key, number)
    if existing is not None:
        return existing
    quote = capacity_quote(number_subscription=number, extra_channels=extra_channels, now=now)
    wholesale = money(extra_channels * wholesale_channel_price(number))
    capacity = _aligned_capacity(
        number,
        channels=extra_channels,
        recurring_price=quote.recurring_price,
        description=f" at {money_text(quote.channel_price)} {PER_PERIOD[number.period_unit]} each",
        idempotency_key=idempotency_key,
        created_at=now,
        wholesale_recurring_price=wholesale,
    )
    try:
        with transaction.atomic():
            capacity.save()
    except IntegrityError:
        existing = _existing_capacity(idempotency_key, number)
        if existing is None:
            raise
        return existing
    job = "" if actor else "capacity_add"
    event_record(capacity, from_status="", actor=actor, job=job, reason="started", now=now)
    record_charge(
        capacity,
        index=number.current_period_index,
        start=now,
        end=number.current_period_end,
        recurring=quote.net,
        wholesale_recurring=prorata(
            wholesale,
            now=now,
            period_start=number.current_period_start,
            period_end=number.current_period_end,
        ),
        created_by=actor,
        job=job,
        decision=quote.decision,
    )
    return capacity


# --- Fewer channels -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReducePlan:
    """What ``capacity_reduce`` does for a wish of ``asked`` channels."""

    asked: int
    before: int  # total now (own + live capacity)
    after: int  # total from ``effective_at`` on
    effective_at: datetime | None
    cancel: list = field(default_factory=list)  # capacity subscriptions to cancel

    @property
    def exact(self):
        return self.after == self.asked

    @property
    def changes_anything(self):
        return bool(self.cancel)


def _choose(newest_first, excess):
    """The capacity subscriptions whose channels add up to ``excess``, preferring newer ones;
    without an exact combination, the newest first until at least ``excess`` is removed."""
    if len(newest_first) <= EXACT_SEARCH_LIMIT:
        for size in range(1, len(newest_first) + 1):
            for combo in combinations(newest_first, size):
                if sum(sub.channels for sub in combo) == excess:
                    return list(combo)
    chosen, removed = [], 0
    for sub in newest_first:
        if removed >= excess:
            break
        chosen.append(sub)
        removed += sub.channels
    return chosen


def checkout_channels(number_subscription) -> int:
    """The channels above its plan that the number's own rental pays for (chosen at
    checkout, not yet given up)."""
    sub = number_subscription
    return sub.channels - sub.included_channels if sub.kind == Kind.NUMBER else 0


@dataclass(frozen=True)
class CheckoutChannels:
    """The checkout's extra channels as one reducible purchase (the oldest) in a plan."""

    channels: int
    created_at: datetime
    pk: int = 0
    description: str = "Extra channels chosen at checkout"


def capacity_reduce_plan(*, number_subscription, channels, live=None):
    """Which purchases of extra channels to give up so the number has ``channels`` from the
    end of the paid period (read only): capacity subscriptions, and the channels chosen at
    checkout as one ``CheckoutChannels``. Raises ValidationError naming ``channels`` when
    that is below the channels the number's plan includes or above what it has."""
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValidationError({"channels": "Enter a whole number of channels, at least 1."})
    _refuse_awaiting(number_subscription, "its channels can be changed")
    if live is None:
        live = list(capacity_subscriptions(number_subscription))
    number = number_subscription
    if checkout_channels(number):
        live = [CheckoutChannels(checkout_channels(number), number.created_at), *live]
    included = number.included_channels
    before = included + sum(sub.channels for sub in live)
    if channels > before:
        raise ValidationError(
            {"channels": f"The number has {before} channels; adding channels is a purchase."}
        )
    if channels < included:
        raise ValidationError(
            {
                "channels": f"{included} channels come with this number's plan; "
                f"it cannot go below {included}."
            }
        )
    newest_first = sorted(live, key=lambda sub: (sub.created_at, sub.pk), reverse=True)
    cancel = _choose(newest_first, before - channels) if channels < before else []
    return ReducePlan(
        asked=channels,
        before=before,
        after=before - sum(sub.channels for sub in cancel),
        effective_at=number_subscription.current_period_end,
        cancel=cancel,
    )


def _refuse_awaiting(number_subscription, what):
    """A number awaiting registration keeps what it was bought with until approved (its
    refund gives back exactly what was charged)."""
    if number_subscription.status == Status.PENDING:
        raise ValidationError(
            {
                "channels": f"{number_subscription.did.number} is awaiting registration: {what} "
                "once its registration is approved."
            }
        )


def _split_checkout_channels(number, *, actor):
    """Move the checkout's extra channels out of the number's rental into a capacity
    subscription of their own, already paid for the current period; the rental keeps its
    plan's channels and price."""
    capacity = _aligned_capacity(
        number,
        channels=checkout_channels(number),
        recurring_price=number.extra_channels_price,
        description=", chosen at checkout",
        idempotency_key=f"subscription:{number.pk}:checkout-channels",
        created_at=number.created_at,
        wholesale_recurring_price=number.wholesale_extra_channels_price,
    )
    capacity.save(force_insert=True)
    event_record(
        capacity,
        from_status="",
        actor=actor,
        job="",
        reason="split off the rental: the channels chosen at checkout",
        now=timezone.now(),
    )
    number.channels = number.included_channels
    number.recurring_price -= number.extra_channels_price
    number.extra_channels_price = Decimal("0.00")
    number.wholesale_recurring_price -= number.wholesale_extra_channels_price
    number.wholesale_extra_channels_price = Decimal("0.00")
    number.save(
        update_fields=[
            "channels",
            "recurring_price",
            "extra_channels_price",
            "wholesale_recurring_price",
            "wholesale_extra_channels_price",
        ]
    )
    return capacity


@transaction.atomic
def capacity_reduce(*, number_subscription, channels, actor, now=None):
    """Bring the number down to ``channels`` channels at the end of the paid period by
    cancelling purchases of extra channels (they run to their period end, as any
    cancellation); the channels chosen at checkout count as the oldest purchase.

    Cancels whole purchases only: an exact combination when one exists (newest preferred),
    else the newest first, which may leave fewer channels than asked — the plan returned
    (and shown before confirming) says how many. Asking for the current total changes
    nothing, so a repeated request is harmless.
    """
    number = _lock_number_subscription(number_subscription)
    _check_may_change(actor, number)
    live = list(capacity_subscriptions(number).select_for_update())
    plan = capacity_reduce_plan(number_subscription=number, channels=channels, live=live)
    for sub in plan.cancel:
        if isinstance(sub, CheckoutChannels):
            sub = _split_checkout_channels(number, actor=actor)
        subscription_cancel(subscription=sub, actor=actor, now=now)
    return plan


# --- Cancelling a number --------------------------------------------------------------------


@transaction.atomic
def number_rental_cancel(*, number_subscription, actor, now=None):
    """Cancel a number's rental and its extra capacity together.

    Nothing renews any more; a paid period runs to its end and the number is then released
    (billing's end job); a held or one-time rental ends now and the number is released now.
    Returns the number subscription.
    """
    now = now or timezone.now()
    number = _lock_number_subscription(number_subscription)
    if actor is None or not may_manage_numbers_of(actor, number.account):
        raise PermissionDenied("You may not cancel this number.")
    if number.status == Status.PENDING:
        raise ValidationError(
            f"{number.did.number} is awaiting registration: cancel it from its registration, "
            "which refunds it in full."
        )
    live = capacity_subscriptions(number, statuses=Subscription.LIVE_STATUSES)
    for sub in live.select_for_update():
        subscription_cancel(subscription=sub, actor=actor, now=now)
    return subscription_cancel(subscription=number, actor=actor, now=now)


@transaction.atomic
def number_rental_keep(*, number_subscription, actor, now=None):
    """Undo ``number_rental_cancel`` before the paid period ends: the number and the extra
    channels cancelled with it renew again (channels cancelled earlier by a reduction stay
    cancelled). Returns the number subscription."""
    now = now or timezone.now()
    number = _lock_number_subscription(number_subscription)
    if actor is None or not may_manage_numbers_of(actor, number.account):
        raise PermissionDenied("You may not keep this number.")
    cancelled_with_it = capacity_subscriptions(number, statuses=(Status.CANCELLED,)).filter(
        cancelled_at=number.cancelled_at
    )
    number = subscription_keep(subscription=number, actor=actor, now=now)
    for sub in cancelled_with_it.select_for_update():
        subscription_keep(subscription=sub, actor=actor, now=now)
    return number
