"""Reads for My numbers: the requesting customer account's numbers with their rental.

Every read starts from ``scoped(...)`` and the user's own account, so a number of another
account is never fetched (its id answers 404). A page of numbers costs a fixed number of
queries whatever its length: the numbers with their blocks, then one query each for the
number subscriptions, the capacity subscriptions, the registrations awaiting and the
assigned users of the page.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404

from accounts.models import Account
from accounts.permissions import serves_customers
from accounts.scoping import scoped
from billing.models import Subscription
from billing.services.capacity import ChannelTotals, channel_totals
from billing.services.registration import pending_refund_due
from catalog.selectors import formatted
from compliance.models import NumberRegistration
from inventory.choices import OWNED_STATUSES, DIDStatus
from inventory.models import DID

PAGE_SIZE = 25
Kind = Subscription.Kind
SubStatus = Subscription.Status
SHOWN_STATUSES = Subscription.RUNNING_STATUSES
PERIOD_NOUNS = {"day": "day", "week": "week", "month": "month"}
# A held rental's status as its customer reads it (never the reseller's balance).
HOLD_LABELS = {
    Subscription.HoldCause.CUSTOMER_UNPAID: "On hold — renewal unpaid",
    Subscription.HoldCause.RESELLER_UNPAID: "On hold — your provider is sorting it out",
    Subscription.HoldCause.ACCOUNT_SUSPENDED: "On hold — account suspended",
}


@dataclass
class NumberRow:
    """One of the account's numbers as My numbers shows it."""

    did: DID
    rental: Subscription | None  # the live number subscription (active, hold or cancelled)
    capacity: list  # capacity subscriptions of this account on the number (shown statuses)
    assigned: list  # users of the account the number is assigned to
    # compliance's NumberRegistration while the number awaits its registration, else None
    registration: NumberRegistration | None = None

    @cached_property
    def _formatted(self):
        return formatted(self.did.number)

    @property
    def national(self):
        return self._formatted[0]

    @property
    def international(self):
        return self._formatted[1]

    @property
    def place(self):
        """ "New York, US"; the country's name when the block has no city."""
        block = self.did.block
        return f"{block.city}, {block.country.code}" if block.city else block.country.name

    @property
    def awaiting(self):
        """Sold awaiting registration: owned and charged, not routed until approved."""
        return self.did.status == DIDStatus.AWAITING_REGISTRATION

    @property
    def deadline_at(self):
        """When an awaiting number is cancelled and refunded unless approved."""
        return self.registration.deadline_at if self.registration else None

    @property
    def can_cancel_registration(self):
        """Awaiting, with its pending rental: cancelling refunds it in full."""
        return (
            self.awaiting
            and self.registration is not None
            and self.rental is not None
            and self.rental.status == SubStatus.PENDING
        )

    @property
    def on_hold(self):
        return self.did.status == DIDStatus.HOLD

    @property
    def hold_cause(self):
        """Why the rental is on hold (``Subscription.HoldCause``), "" when it is not."""
        if self.rental is None or self.rental.status != SubStatus.HOLD:
            return ""
        return self.rental.hold_cause

    @property
    def renewal_unpaid(self):
        """On hold because the account's own balance did not cover the renewal (not its
        reseller's, not a suspension): a top-up brings it back."""
        return self.hold_cause == Subscription.HoldCause.CUSTOMER_UNPAID

    @property
    def status_label(self):
        """ "Active", or on hold and why: its renewal is unpaid, its provider is sorting it
        out, the account is suspended, or something else (a deactivated package) put it on
        hold."""
        if self.awaiting:
            return "Awaiting registration"
        if not self.on_hold:
            return "Active"
        return HOLD_LABELS.get(self.hold_cause, "On hold")

    @property
    def ending(self):
        """Cancelled: runs to the end of its paid period, then the number is released."""
        return self.rental is not None and self.rental.status == SubStatus.CANCELLED

    @property
    def channels(self) -> ChannelTotals:
        if self.rental is None:
            included = self.did.channels or self.did.block.channels_included
            return ChannelTotals(included=included, extra=0)
        return channel_totals(self.rental, self.capacity)

    @property
    def period_noun(self):
        rental = self.rental
        if rental is None or not rental.is_recurring:
            return ""
        noun = PERIOD_NOUNS[rental.period_unit]
        return noun if rental.period_count == 1 else f"{rental.period_count} {noun}s"

    @property
    def live_capacity(self):
        """Capacity that renews with the number (active or held, not cancelled)."""
        return [sub for sub in self.capacity if sub.status in Subscription.LIVE_STATUSES]

    @property
    def price_per_period(self):
        """What the next period costs without VAT: the number and its renewing capacity."""
        if self.rental is None or not self.rental.is_recurring:
            return None
        return self.rental.recurring_price + self.capacity_price

    @property
    def capacity_price(self):
        return sum((sub.recurring_price for sub in self.live_capacity), Decimal("0.00"))

    @property
    def extra_channels_price(self):
        """Per period, the channels above the plan: chosen at checkout and added since."""
        return self.rental.extra_channels_price + self.capacity_price

    @property
    def plan_price(self):
        """Per period, the number with its plan's included channels."""
        return self.rental.recurring_price - self.rental.extra_channels_price

    @property
    def next_renewal_at(self):
        return self.rental.next_renewal_at if self.rental else None

    @property
    def paid_until(self):
        return self.rental.current_period_end if self.rental else None

    @property
    def can_add_channels(self):
        rental = self.rental
        return bool(
            rental
            and rental.status == SubStatus.ACTIVE
            and rental.is_recurring
            and self.did.status == DIDStatus.ACTIVE
        )

    @property
    def can_cancel(self):
        return self.rental is not None and self.rental.status in Subscription.LIVE_STATUSES


def _digits_filter(text):
    """Digits anywhere in the number, however they were typed: "+31 20 555" (a prefix of the
    E.164 form), "0031 20 555" (00, the international prefix), "020 555" (0, a trunk prefix:
    the digits after it), or any run of digits ("5550")."""
    text = text.strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if text.startswith("+"):
        return Q(number__startswith=f"+{digits}")
    condition = Q(number__contains=digits)
    if digits.startswith("00") and len(digits) > 2:
        condition |= Q(number__startswith=f"+{digits[2:]}")
    elif digits.startswith("0") and len(digits) > 1:
        condition |= Q(number__contains=digits[1:])
    return condition


def my_numbers_queryset(user, *, owners=None):
    """The numbers the user's account holds (active, on hold or awaiting registration), with
    what a row shows.
    ``owners``: the accounts whose numbers to read instead (a queryset or ids; the
    reseller's customers when it acts for them), still within the user's scope."""
    owners = [user.account_id] if owners is None else owners
    subscriptions = Subscription.objects.filter(account_id__in=owners, status__in=SHOWN_STATUSES)
    return (
        scoped(DID.objects.filter(owner_id__in=owners, status__in=OWNED_STATUSES), user)
        .select_related("block", "owner")
        .prefetch_related(
            Prefetch(
                "subscriptions",
                queryset=subscriptions.filter(kind=Kind.NUMBER),
                to_attr="number_rentals",
            ),
            Prefetch(
                "subscriptions",
                queryset=subscriptions.filter(kind=Kind.CAPACITY).order_by("pk"),
                to_attr="capacity_rentals",
            ),
            Prefetch(
                "registrations",
                queryset=NumberRegistration.objects.filter(
                    account_id__in=owners, status=NumberRegistration.Status.AWAITING
                ),
                to_attr="awaiting_registrations",
            ),
            Prefetch(
                "assigned_users",
                queryset=get_user_model()
                .objects.filter(account_id__in=owners)
                .order_by("full_name", "email"),
                to_attr="assigned",
            ),
        )
    )


def _row(did):
    rentals = did.number_rentals
    return NumberRow(
        did=did,
        rental=rentals[0] if rentals else None,
        capacity=did.capacity_rentals,
        assigned=did.assigned,
        registration=did.awaiting_registrations[0] if did.awaiting_registrations else None,
    )


def number_rows(dids):
    """``NumberRow``s of numbers read through ``my_numbers_queryset`` (the API's pages)."""
    return [_row(did) for did in dids]


def my_numbers_page(user, *, search="", status="", page=None):
    """One page (PAGE_SIZE) of the account's numbers, by number; ``page.rows`` are
    NumberRows. ``status``: "active", "hold", "awaiting_registration" or "ending" (cancelled,
    running out)."""
    numbers = my_numbers_queryset(user)
    if search and (condition := _digits_filter(search)) is not None:
        numbers = numbers.filter(condition)
    if status in (DIDStatus.ACTIVE, DIDStatus.HOLD, DIDStatus.AWAITING_REGISTRATION):
        numbers = numbers.filter(status=status)
    elif status == "ending":
        cancelled = Subscription.objects.filter(
            did=OuterRef("pk"),
            account_id=user.account_id,
            kind=Kind.NUMBER,
            status=SubStatus.CANCELLED,
        )
        numbers = numbers.filter(Exists(cancelled))
    result = Paginator(numbers.order_by("number"), PAGE_SIZE).get_page(page)
    result.rows = [_row(did) for did in result.object_list]
    return result


def my_number(user, pk) -> NumberRow:
    """One of the account's numbers, or 404 (another account's, or no longer held). The
    admins and support of a reseller also reach its customers' numbers (to act for them;
    never another reseller's)."""
    owners = [user.account_id]
    if serves_customers(user):
        customers = Account.objects.filter(parent_id=user.account_id, kind=Account.Kind.CUSTOMER)
        owners = Account.objects.filter(
            Q(pk=user.account_id) | Q(pk__in=customers.values("pk"))
        ).values("pk")
    return _row(get_object_or_404(my_numbers_queryset(user, owners=owners), pk=pk))


def refund_due(row):
    """What cancelling an awaiting number gives back to its account: every charge of its
    pending rental not refunded yet (the setup fee and the first period, VAT included)."""
    if not row.can_cancel_registration:
        return Decimal("0.00")
    return pending_refund_due(did_id=row.did.pk, account=row.did.owner)
