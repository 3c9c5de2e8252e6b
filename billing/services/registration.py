"""Billing of numbers sold awaiting registration (compliance).

Such a number's subscription starts ``pending``: its first period (and setup fee) is charged
at purchase, like any sale, but it neither renews nor appears on an invoice yet. Then either:

- the registration is approved: ``subscriptions_start_after_registration`` starts the first
  period **at approval** (not at purchase, so no paid day is lost while the customer waits
  for review), renewals follow from there, and the charges are invoiced then;
- it never is (the deadline passed, or the buyer gave up): ``subscription_refund_unregistered``
  gives every charge back in full — the buyer's and, for a reseller's customer, the reseller's
  wholesale one — and the rental ends. A refunded charge is never invoiced.

Callers are compliance's services, which move the number itself (inventory) in the same
transaction. Lock order as everywhere: balances → numbers → subscriptions.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from ..models import Invoice, LedgerEntry, Subscription, SubscriptionCharge
from .invoices import invoice_for_charges
from .ledger import balances_lock, ledger_post
from .subscriptions import lock_after_number, mark_ended, period_bounds_of, subscription_transition

Status = Subscription.Status


def pending_subscription_of(did_id):
    """The number's subscription awaiting registration, or None."""
    return (
        Subscription.objects.filter(
            did_id=did_id, kind=Subscription.Kind.NUMBER, status=Status.PENDING
        )
        .order_by("pk")
        .first()
    )


def pending_refund_due(*, did_id, account):
    """What ``account`` would get back if the number's pending subscription were refunded
    now (``subscription_refund_unregistered``): the sum of its own charges not yet refunded.
    Zero when the number has no pending subscription."""
    subscription = pending_subscription_of(did_id)
    if subscription is None:
        return Decimal("0.00")
    total = subscription.charges.filter(
        account=account, amount__gt=0, refund_entry__isnull=True
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def _start_now(subscription, *, now, actor, job):
    """The locked pending ``subscription``'s first period starts at ``now``."""
    subscription.anchor_at = now
    subscription.anchor_index = 0
    subscription.current_period_index = 0
    subscription.current_period_start = now
    end = None
    if subscription.is_recurring:
        _, end = period_bounds_of(subscription, 0)
        subscription.current_period_end = end
    subscription.charges.filter(period_index=0).update(period_start=now, period_end=end)
    return subscription_transition(
        subscription=subscription,
        to_status=Status.ACTIVE,
        reason="registration approved: the first period starts now",
        actor=actor,
        job=job,
        now=now,
    )


@transaction.atomic
def subscriptions_start_after_registration(
    *, account, did_ids, idempotency_key, actor=None, job="", now=None
):
    """Start the pending subscriptions of ``account``'s numbers ``did_ids`` (locked by the
    caller) at ``now`` and invoice their first periods on one invoice (``idempotency_key``
    names it: the approval). Returns ``(subscriptions started, invoice or None)``; numbers
    without a pending subscription are skipped, so a repeat starts nothing twice."""
    now = now or timezone.now()
    pending = (
        Subscription.objects.select_for_update()
        .filter(account=account, did_id__in=list(did_ids), status=Status.PENDING)
        .order_by("pk")
    )
    started = [_start_now(sub, now=now, actor=actor, job=job) for sub in pending]
    charges = list(
        SubscriptionCharge.objects.filter(
            subscription__in=started,
            period_index=0,
            side=SubscriptionCharge.Side.SALE,
            refund_entry__isnull=True,
        )
        .select_related("subscription")
        .order_by("subscription_id")
    )
    invoice = None
    if charges:
        invoice = invoice_for_charges(
            account=account,
            charges=charges,
            source=Invoice.Source.REGISTRATION,
            idempotency_key=idempotency_key,
            reference=("registration", idempotency_key.rsplit(":", 1)[-1]),
            actor=actor,
            job=job,
        )
    return started, invoice


@transaction.atomic
def subscription_refund_unregistered(*, subscription, reason, actor=None, job="", now=None):
    """Give back every charge of the pending ``subscription`` in full and end it.

    Balances are locked first (buyer and reseller, in pk order), then the number and the
    subscription. A subscription no longer pending is returned unchanged (a repeat refunds
    nothing twice; each refund's key names its charge). Returns the refund entries posted
    to the buyer (the reseller's are posted too, not returned)."""
    now = now or timezone.now()
    balances_lock([subscription.account, subscription.reseller])
    locked = lock_after_number(Subscription.objects.select_related("account"), pk=subscription.pk)
    if locked.status != Status.PENDING:
        return []
    refunds = []
    charges = locked.charges.select_related("account").filter(
        amount__gt=0, refund_entry__isnull=True
    )
    for charge in charges.order_by("account_id", "pk"):
        entry = ledger_post(
            account=charge.account,
            kind=LedgerEntry.Kind.REFUND,
            amount=charge.amount,
            idempotency_key=f"registration-refund:charge:{charge.pk}",
            description=f"Refund: {locked} — {reason}"[:255],
            reference=("subscription", locked.pk),
            created_by=actor,
            job=job or ("" if actor else "registration_refund"),
        )
        charge.refund_entry = entry
        charge.save(update_fields=["refund_entry"])
        if charge.account_id == locked.account_id:
            refunds.append(entry)
    mark_ended(locked, now=now, reason=reason, actor=actor, job=job or "registration_refund")
    return refunds
