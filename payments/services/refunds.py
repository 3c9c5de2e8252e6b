"""Payouts of unused balance: asked for by a customer, started or declined by whoever
collects its money (``may_record_topup_for``), paid back to the cards it paid with
(Stripe refunds) or by a bank transfer finance made.

Paying is one transaction that takes, in the lock order, the account's balance, the
payout row (it must still be ``requested``: a double click pays once) and the card
payments it refunds (held across the Stripe calls). The ledger debit (kind payout) is
written in it with the payout marked paid, and each refunded card payment's
``refunded_amount`` grows by what we refunded, so Stripe's ``charge.refunded`` event that
follows finds nothing new to debit.

A payout split across several card payments is one paid ``Payout`` row per refund (each
with its card payment, Stripe refund id and ledger debit): the first is the request
itself. When Stripe refuses the first refund nothing is written; when it refuses a later
one, the refunds Stripe made stay booked (the money did leave) and the rest is left as a
new request, with the reason.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.permissions import may_fund_balance, may_record_topup_for
from billing.services import balance_lock, money, payout_record
from outbox.services import email_queue

from .. import stripe_api
from ..models import CardPayment, Payout, seller_for
from ..notifications import money_contacts

logger = logging.getLogger(__name__)
Status = Payout.Status
Method = Payout.Method
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Paid:
    payout: Payout
    # False when the payout was no longer open (paid or declined already): nothing done now.
    applied: bool
    # Card refunds beyond the first (one paid row each), and what is left to pay after a
    # later refund failed (a new request) with the provider's message.
    parts: tuple = ()
    remainder: Payout | None = None
    error: str = ""


def _require_decider(actor, account):
    if not may_record_topup_for(actor, account):
        raise PermissionDenied(f"You may not pay out money of {account}.")


def _amount(value, field="amount"):
    amount = money(value)
    if amount <= 0:
        raise ValidationError({field: "Enter an amount above 0.00."})
    return amount


def _open_request(account):
    return Payout.objects.filter(account=account, status=Status.REQUESTED).first()


def _create(*, account, amount, user, customer_note="", by_customer):
    """A new open payout of ``account`` (its balance is locked by the caller)."""
    existing = _open_request(account)
    if existing is not None:
        raise ValidationError(
            f"{account} already has an open payout request of {existing.amount} "
            f"{account.currency} (since {timezone.localtime(existing.requested_at):%-d %b %Y}): "
            "it is paid or declined before another can be made."
        )
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                account=account,
                seller=seller_for(account),
                amount=amount,
                requested_by=user,
                customer_note=customer_note[:500],
            )
    except IntegrityError as exc:  # a twin request committed after our look
        raise ValidationError(
            f"{account} already has an open payout request: it is paid or declined before "
            "another can be made."
        ) from exc
    if by_customer:
        _email(
            payout,
            "received",
            subject=f"Refund request received: {amount} {account.currency}",
            body=(
                f"We received your request to pay back {amount} {account.currency} of the "
                f"prepaid balance of {account.name}.\n\n"
                "It goes back to the card you paid with where possible, else by bank "
                "transfer. You will get an e-mail when it is paid."
            ),
        )
    return payout


def _check_covered(balance, amount, account, field="amount"):
    if amount > balance.amount:
        raise ValidationError(
            {
                field: f"The balance of {account} is {balance.amount} {account.currency}: "
                f"{amount} {account.currency} cannot be paid out. Enter at most the balance."
            }
        )


def payout_request(*, user, amount, note="") -> Payout:
    """A customer asks for ``amount`` of its unused balance back (one open request per
    account; at most the balance)."""
    if not may_fund_balance(user):
        raise PermissionDenied("You may not ask for this account's balance back.")
    account = user.account
    amount = _amount(amount)
    with transaction.atomic():
        balance = balance_lock(account)
        _check_covered(balance, amount, account)
        return _create(
            account=account, amount=amount, user=user, customer_note=note.strip(), by_customer=True
        )


def payout_start(*, actor, account, amount, method, bank_reference="", note="") -> Paid:
    """Finance pays out ``amount`` of ``account``'s balance nobody asked for: a payout made
    and paid in one transaction (a refusal, by us or by Stripe, leaves nothing behind)."""
    _require_decider(actor, account)
    amount = _amount(amount)
    with transaction.atomic():
        balance = balance_lock(account)
        _check_covered(balance, amount, account)
        payout = _create(account=account, amount=amount, user=actor, by_customer=False)
        return payout_pay(
            actor=actor,
            payout_id=payout.pk,
            method=method,
            bank_reference=bank_reference,
            note=note,
        )


def card_refundable(account) -> Decimal:
    """How much of ``account``'s card payments can still go back to the cards."""
    total = ZERO
    for payment in _refundable_payments(account):
        if stripe_api.keys_for(payment.seller) is not None:
            total += payment.refundable
    return total


def _refundable_payments(account, *, lock=False):
    payments = CardPayment.objects.filter(
        account=account, status=CardPayment.Status.PAID, refunded_amount__lt=F("amount")
    ).exclude(payment_intent_id="")
    if lock:
        payments = payments.select_for_update()
    return list(payments.select_related("seller").order_by("-paid_at", "-pk"))


def payout_pay(*, actor, payout_id, method, amount=None, bank_reference="", note="") -> Paid:
    """Pay an open payout: ``method`` card (refunds of the account's card payments, newest
    first) or bank transfer (``bank_reference``: the transfer finance made). ``amount``
    (default the payout's) may be lowered, never above the balance.

    Raises ValidationError (nothing written), ``stripe_api.PaymentProviderError`` when
    Stripe refuses the first refund (nothing written), PermissionDenied."""
    head = Payout.objects.select_related("account").get(pk=payout_id)
    account = head.account
    _require_decider(actor, account)
    if method not in Method.values:
        raise ValidationError({"method": "Choose how the money is paid back."})
    bank_reference = (bank_reference or "").strip()
    if method == Method.BANK_TRANSFER and not bank_reference:
        raise ValidationError(
            {"bank_reference": "Enter the reference of the bank transfer you made."}
        )
    with transaction.atomic():
        balance = balance_lock(account)
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status != Status.REQUESTED:
            return Paid(payout, applied=False)
        payout.account = account
        amount = payout.amount if amount in (None, "") else _amount(amount)
        _check_covered(balance, amount, account)
        if method == Method.CARD:
            return _pay_to_cards(payout, amount, actor=actor, note=note)
        _settle(payout, amount, method=method, actor=actor, note=note, bank=bank_reference)
        _paid_email(payout, [payout])
        return Paid(payout, applied=True)


def _settle(row, amount, *, method, actor, note, bank="", payment=None, refund_id=None):
    """Mark ``row`` paid with its ledger debit (inside the caller's transaction)."""
    account = row.account
    if payment is not None:
        what = f"Refund to the card of {payment.reference}"
    else:
        what = f"Bank transfer {bank}"
    row.ledger_entry = payout_record(
        account=account,
        amount=amount,
        idempotency_key=f"payout:{row.pk}",
        description=f"Paid back: {what}"[:255],
        reference=("payout", row.pk),
        actor=actor,
    )
    row.amount = amount
    row.method = method
    row.status = Status.PAID
    row.card_payment = payment
    row.provider_refund_id = refund_id
    row.bank_reference = bank[:100]
    row.note = note.strip()[:500]
    row.decided_by = actor
    row.decided_at = timezone.now()
    row.save()
    return row


def _plan(payout, amount):
    """(payment, keys, amount) of each refund that pays ``amount``, newest payment first;
    the payments are locked until commit."""
    plan, remaining, available = [], amount, ZERO
    for payment in _refundable_payments(payout.account, lock=True):
        keys = stripe_api.keys_for(payment.seller)
        if keys is None:
            continue
        available += payment.refundable
        if remaining > 0:
            take = min(payment.refundable, remaining)
            plan.append((payment, keys, take))
            remaining -= take
    if remaining > 0:
        currency = payout.account.currency
        raise ValidationError(
            {
                "method": f"Only {available} {currency} of card payments can go back to the "
                f"cards: pay at most {available} {currency} to cards, or pay by bank transfer."
            }
        )
    return plan


def _refund(payout, payment, keys, take):
    refund = stripe_api.refund_create(
        keys,
        payment_intent_id=payment.payment_intent_id,
        amount=take,
        # With these parameters a retry after a lost answer replays the same refund; once
        # the card payment's refunds changed (a webhook booked one), the key no longer
        # matches and Stripe refuses rather than refund twice.
        idempotency_key=f"payout-{payout.pk}-{payment.pk}",
        metadata={
            "payout_id": str(payout.pk),
            "card_payment": payment.reference,
            "refunded_before": str(payment.refunded_amount),
        },
    )
    if getattr(refund, "status", "") in ("failed", "canceled"):
        raise stripe_api.PaymentProviderError(
            f"The card processor did not refund {payment.reference}."
        )
    return refund


def _pay_to_cards(payout, amount, *, actor, note) -> Paid:
    plan = _plan(payout, amount)
    rows, paid, error = [], ZERO, ""
    for index, (payment, keys, take) in enumerate(plan):
        try:
            refund = _refund(payout, payment, keys, take)
        except stripe_api.PaymentProviderError as exc:
            if index == 0:
                raise  # nothing refunded: the transaction rolls back, nothing is written
            logger.warning("payout %s: refund of %s failed: %s", payout.pk, payment, exc)
            error = exc.message
            break
        CardPayment.objects.filter(pk=payment.pk).update(
            refunded_amount=F("refunded_amount") + take, updated_at=timezone.now()
        )
        if index == 0:
            row = payout
        else:
            row = Payout.objects.create(
                account=payout.account,
                seller=payout.seller,
                amount=take,
                status=Status.REQUESTED,
                requested_by=payout.requested_by,
                requested_at=payout.requested_at,
                customer_note=payout.customer_note,
            )
            row.account = payout.account
        _settle(
            row,
            take,
            method=Method.CARD,
            actor=actor,
            note=note,
            payment=payment,
            refund_id=refund.id,
        )
        rows.append(row)
        paid += take
    remainder = None
    if error:
        remainder = Payout.objects.create(
            account=payout.account,
            seller=payout.seller,
            amount=amount - paid,
            requested_by=payout.requested_by,
            requested_at=payout.requested_at,
            customer_note=payout.customer_note,
            note=f"Left after a card refund failed: {error}"[:500],
        )
    _paid_email(payout, rows)
    return Paid(payout, applied=True, parts=tuple(rows[1:]), remainder=remainder, error=error)


def payout_decline(*, actor, payout_id, note) -> Payout:
    """Decline an open payout with a note the customer reads."""
    head = Payout.objects.select_related("account").get(pk=payout_id)
    _require_decider(actor, head.account)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say why: the customer reads this note."})
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        payout.account = head.account
        if payout.status != Status.REQUESTED:
            raise ValidationError(
                f"This payout is {payout.get_status_display().lower()} already: nothing changed."
            )
        payout.status = Status.DECLINED
        payout.note = note[:500]
        payout.decided_by = actor
        payout.decided_at = timezone.now()
        payout.save(update_fields=["status", "note", "decided_by", "decided_at"])
        account = payout.account
        _email(
            payout,
            "declined",
            subject=f"Refund request declined: {payout.amount} {account.currency}",
            body=(
                f"Your request to pay back {payout.amount} {account.currency} of the "
                f"prepaid balance of {account.name} was declined.\n\n"
                f"The reason given: {payout.note}\n\n"
                "Your balance is unchanged. Reply to this e-mail with any questions."
            ),
        )
    return payout


def payout_withdraw(*, user, payout_id) -> Payout:
    """The customer takes back its own open request (before finance paid it). Another
    account's payout is ``Payout.DoesNotExist``."""
    if not may_fund_balance(user):
        raise PermissionDenied("You may not change this account's payout requests.")
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout_id, account_id=user.account_id)
        if payout.status != Status.REQUESTED:
            raise ValidationError(
                f"This payout is {payout.get_status_display().lower()} already: nothing changed."
            )
        payout.status = Status.WITHDRAWN
        payout.decided_by = user
        payout.decided_at = timezone.now()
        payout.save(update_fields=["status", "decided_by", "decided_at"])
    return payout


# --- E-mails ------------------------------------------------------------------------------


def _recipients(payout):
    return money_contacts(payout.account, also=payout.requested_by)


def _email(payout, what, *, subject, body):
    recipients = _recipients(payout)
    if not recipients:
        return
    brand = brand_for_account(payout.account)
    email_queue(
        to=recipients,
        account=payout.account,
        key=f"payout:{payout.pk}:{what}",
        subject=f"[{brand.name}] {subject}",
        text=f"{body}\n\nYour balance: {brand.site_url}/billing/balance/\n",
    )


def _paid_email(payout, rows):
    account = payout.account
    total = sum((row.amount for row in rows), ZERO)
    lines, currency = [], account.currency
    for row in rows:
        if row.method == Method.CARD:
            lines.append(
                f"- {row.amount} {currency} back to the card of {row.card_payment.reference}"
            )
        else:
            lines.append(
                f"- {row.amount} {currency} by bank transfer (reference {row.bank_reference})"
            )
    _email(
        payout,
        "paid",
        subject=f"Balance paid back: {total} {account.currency}",
        body=(
            f"We paid back {total} {account.currency} of the prepaid balance of "
            f"{account.name}:\n" + "\n".join(lines) + "\n\n"
            "A card refund takes a few working days to show on the card's statement."
        ),
    )
