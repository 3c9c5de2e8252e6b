"""A reseller's price list applied to its customers' existing subscriptions, from a date.

New purchases take the reseller's price list of the day (``catalog.pricing``); a running
subscription keeps the price it was bought at (its snapshot). The reseller moves them to
its current price list with ``renewal_price_change_schedule``: from a date at least
``NOTICE_DAYS`` ahead, e-mailing each affected customer's admins the old → new price of
every number. On that date ``renewal_price_changes_apply_due`` (the beat job, and the
renewal run before it renews) writes the new retail prices into the subscriptions
(``recurring_price`` and ``extra_channels_price``; the setup fee is past), so every renewal
from then on charges them. The wholesale snapshot is the platform's, and stays.

A new retail price is never below the subscription's wholesale snapshot (what the reseller
pays the platform for the period). What changes is fixed when the change is scheduled
(``RenewalPriceChangeLine``: the new period price and extra-channel price per unit, as the
customer was told); channels added or given up meanwhile are priced at the announced channel
price on the date.

Subscriptions in scope: the reseller's customers' recurring number and capacity
subscriptions that are running (active, on hold or cancelled to the end of their period are
left out: they do not renew) and whose price would change. Numbers assigned by the platform
under a package (``assignment:`` subscriptions) keep the package's price.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.permissions import may_edit_price_list
from catalog.models import RenewalPriceChange, RenewalPriceChangeLine
from catalog.pricing import PER_PERIOD, PERIOD_OF_UNIT, price_list_of, retail_prices
from catalog.services import customer_admin_emails, lines_by_customer
from outbox.services import email_queue

from ..models import Subscription
from .ledger import money

NOTICE_DAYS = 30
Kind = Subscription.Kind
Status = Subscription.Status
REPRICED_STATUSES = (Status.ACTIVE, Status.HOLD)


def _in_scope(reseller):
    return (
        Subscription.objects.filter(
            reseller=reseller,
            billing_type=Subscription.BillingType.RECURRING,
            status__in=REPRICED_STATUSES,
            kind__in=[Kind.NUMBER, Kind.CAPACITY],
            did__isnull=False,
        )
        .exclude(idempotency_key__startswith="assignment:")
        .select_related("account", "did__block")
        .order_by("account_id", "pk")
    )


def _new_prices(subscription, retail):
    """(period price, extra-channel price, recurring price) of ``subscription`` at the
    ``retail`` prices of its block, per its own period; None when the block no longer
    offers that period."""
    period = PERIOD_OF_UNIT[subscription.period_unit]
    count = subscription.period_count
    channel_price = retail.extra_channel_price(period) * count
    if subscription.kind == Kind.CAPACITY:
        return Decimal(0), channel_price, money(subscription.channels * channel_price)
    base = retail.for_period(period)
    if base is None:
        return None
    period_price = Decimal(base) * count
    extra = subscription.channels - subscription.included_channels
    return period_price, channel_price, money(period_price + extra * channel_price)


def renewal_price_change_plan(*, reseller):
    """The unsaved lines a change scheduled now would hold: one per subscription in scope
    whose price differs from the reseller's current price list."""
    price_list = price_list_of(reseller)
    lines = []
    for subscription in _in_scope(reseller):
        retail = retail_prices(subscription.did.block, reseller, price_list=price_list)
        prices = _new_prices(subscription, retail)
        if prices is None:
            continue
        period_price, channel_price, recurring = prices
        recurring = max(recurring, subscription.wholesale_recurring_price)
        if recurring == subscription.recurring_price:
            continue
        lines.append(
            RenewalPriceChangeLine(
                subscription_id=subscription.pk,
                account=subscription.account,
                description=str(subscription)[:255],
                period_unit=subscription.period_unit,
                new_period_price=period_price,
                new_channel_price=channel_price,
                old_recurring=subscription.recurring_price,
                new_recurring=recurring,
            )
        )
    return lines


def _check_date(effective_on, now):
    earliest = timezone.localdate(now) + timedelta(days=NOTICE_DAYS)
    if effective_on is None:
        raise ValidationError({"effective_on": "Renewals from: choose a date."})
    if effective_on < earliest:
        raise ValidationError(
            {
                "effective_on": f"Renewals from: give your customers at least {NOTICE_DAYS} "
                f"days' notice — {earliest:%d %B %Y} or later."
            }
        )


@transaction.atomic
def renewal_price_change_schedule(*, reseller, effective_on, actor, now=None):
    """Schedule ``reseller``'s current price list for its customers' renewals from
    ``effective_on`` (at least ``NOTICE_DAYS`` days ahead; one scheduled change at a time)
    and e-mail every affected customer's admins the old → new price of each number."""
    now = now or timezone.now()
    if not (
        reseller.is_reseller and may_edit_price_list(actor) and actor.account_id == reseller.pk
    ):
        raise PermissionDenied("Only the reseller's admins may change its customers' prices.")
    _check_date(effective_on, now)
    if RenewalPriceChange.objects.filter(
        reseller=reseller, status=RenewalPriceChange.Status.SCHEDULED
    ).exists():
        raise ValidationError(
            {
                "effective_on": "A change is already scheduled: cancel it first to choose "
                "another date."
            }
        )
    try:
        with transaction.atomic():
            change = RenewalPriceChange.objects.create(
                reseller=reseller, effective_on=effective_on, created_by=actor, created_at=now
            )
    except IntegrityError:
        raise ValidationError({"effective_on": "A change is already scheduled."}) from None
    lines = renewal_price_change_plan(reseller=reseller)
    for line in lines:
        line.change = change
    RenewalPriceChangeLine.objects.bulk_create(lines)
    _notify(change)
    return change


def _notify(change):
    """One e-mail per affected customer account, to its admins."""
    when = f"{change.effective_on:%d %B %Y}"
    for account, lines in lines_by_customer(change):
        recipients = customer_admin_emails(account)
        seller = brand_for_account(account).name
        if not recipients:
            continue
        rows = "\n".join(
            f"- {line.description}: {line.old_recurring} → {line.new_recurring} "
            f"{account.currency} {PER_PERIOD.get(line.period_unit, '')} (without VAT)"
            for line in lines
        )
        email_queue(
            to=recipients,
            subject=f"{seller}: new prices for your numbers from {when}",
            text=(
                f"Hello {account},\n\n{seller} is changing its prices. Renewals of "
                f"your numbers from {when} on will be charged the new price:\n\n{rows}\n\n"
                "Until then nothing changes. If you do not want to keep a number at the new "
                "price, you can cancel it before that date on the My numbers page.\n"
            ),
            key=f"renewal-price-change:{change.pk}:{account.pk}",
            account=account,
        )


def renewal_price_changes_apply_due(*, now=None, job=""):
    """Apply every scheduled change whose date has come; returns how many subscriptions
    were repriced. Safe to run twice or concurrently: a change is applied in one
    transaction, under its row lock, once (an applied change is no longer scheduled)."""
    now = now or timezone.now()
    due = RenewalPriceChange.objects.filter(
        status=RenewalPriceChange.Status.SCHEDULED, effective_on__lte=timezone.localdate(now)
    ).order_by("effective_on", "pk")
    return sum(
        renewal_price_change_apply(change=change, now=now)
        for change in due.values_list("pk", flat=True)
    )


@transaction.atomic
def renewal_price_change_apply(*, change, now=None):
    """Write ``change``'s new prices into its subscriptions that still renew; returns how
    many. Nothing happens for a change not (or no longer) scheduled, or not yet due."""
    now = now or timezone.now()
    change_id = getattr(change, "pk", change)
    change = RenewalPriceChange.objects.select_for_update().filter(pk=change_id).first()
    if (
        change is None
        or change.status != RenewalPriceChange.Status.SCHEDULED
        or change.effective_on > timezone.localdate(now)
    ):
        return 0
    lines = {line.subscription_id: line for line in change.lines.filter(applied_at__isnull=True)}
    subscriptions = (
        Subscription.objects.select_for_update()
        .filter(pk__in=list(lines), reseller_id=change.reseller_id, status__in=REPRICED_STATUSES)
        .order_by("pk")
    )
    repriced, applied_lines = [], []
    for subscription in subscriptions:
        line = lines[subscription.pk]
        channel_price = line.new_channel_price
        if subscription.kind == Kind.CAPACITY:
            recurring, extra = money(subscription.channels * channel_price), Decimal("0.00")
        else:
            extra_raw = (subscription.channels - subscription.included_channels) * channel_price
            recurring = money(line.new_period_price + extra_raw)
            extra = money(extra_raw)
        # Never below what the reseller pays the platform for the period (its snapshot).
        recurring = max(recurring, subscription.wholesale_recurring_price)
        subscription.recurring_price, subscription.extra_channels_price = recurring, extra
        repriced.append(subscription)
        line.applied_at = now
        applied_lines.append(line)
    Subscription.objects.bulk_update(repriced, ["recurring_price", "extra_channels_price"])
    RenewalPriceChangeLine.objects.bulk_update(applied_lines, ["applied_at"])
    change.status = RenewalPriceChange.Status.APPLIED
    change.applied_at = now
    change.save(update_fields=["status", "applied_at"])
    return len(repriced)
