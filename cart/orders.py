"""Checkout: ``order_place`` turns a cart into an order, in one transaction.

The order of work inside the transaction is the lock order everywhere:
1. the buyer's balance row and, for a reseller's customer, its reseller's, in one
   statement in account-pk order (``billing.services.balances_lock``): an account's
   checkouts and charges go one at a time, and a second request with the same token waits
   here, then finds the first one's order. The cart is re-read and re-quoted under this lock, and
   everything decided from the total (the balance rule, whether the e-mailed transaction
   code is needed) is decided on that quote;
2. the transaction code is spent (marked used) here, so a later refusal rolls it back;
3. the buyer's client packages (``sale_packages_lock``), before any number, as
   ``did_assign`` takes them (package, then number): the other order deadlocks;
4. the specific numbers, in primary-key order; then "any N" numbers with ``skip_locked``;
   then each number's sale, subscription and first charge, each in a savepoint: a number
   that cannot be sold (gone, a constraint, its reseller's balance short of the wholesale
   price) fails its item, not the order, and nobody is charged for it; a reseller short
   for any item is e-mailed once per order;
5. the order's totals and status, the agreements, the cart lines and the confirmation
   e-mail's text;
6. the invoice number (``billing.services.invoices``), last, so the sequence lock, which
   every order and daily invoice waits for, is held only for the invoice's own rows.
E-mails are queued in the outbox inside the transaction and sent after commit.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.codes import confirmation_code_spend, confirmation_code_verify
from accounts.permissions import require_may_buy, require_may_buy_for
from billing.models import Invoice, Subscription
from billing.notifications import reseller_unpaid_checkout_email_send
from billing.services import InsufficientBalance, LedgerBatch, balances_lock
from billing.services.invoices import invoice_for_charges
from billing.services.subscriptions import (
    BLOCK_PERIODS,
    SubscriptionStarts,
    subscription_start,
)
from billing.tax import sale_tax_for
from catalog.selectors import formatted
from compliance.selectors import (
    approved_requirement_ids,
    requirements_at_versions,
    requirements_for_blocks,
)
from compliance.selectors_checkout import registrations_of_order
from compliance.services import agreements_record
from compliance.services.registrations import (
    number_registration_record,
    number_registrations_record,
)
from inventory.services.sales import (
    did_sell,
    dids_lock_any,
    dids_lock_specific,
    dids_sell,
    sale_package,
    sale_packages_lock,
)
from outbox.services import email_queue
from webhooks.services import events_emit

from .models import CartItem
from .models_orders import Order, OrderItem, OrderStatusChange
from .order_status import order_transition
from .pricing import items_quote

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
GONE = "This number is no longer available: someone else bought or reserved it."
NOT_SOLD = "This number could not be sold just now (nothing was charged for it): try again later."
RESELLER_SHORT = (
    "This number cannot be supplied right now; nothing was charged for it. {seller} has been told."
)
INVOICE_NUMBER_SLOT = "[[invoice-number]]"


class CheckoutRefused(ValidationError):
    """The balance does not allow this purchase; carries the figures for the message."""

    def __init__(self, *, balance, total, minimum, currency):
        self.balance, self.total, self.minimum = balance, total, minimum
        self.needed = max(total, minimum)
        self.shortfall = self.needed - balance
        if balance < minimum:
            reason = f"buying needs a balance of at least {minimum} {currency}"
        else:
            reason = f"this order costs {total} {currency}"
        super().__init__(
            f"Your balance is {balance} {currency} and {reason}: top up at least "
            f"{self.shortfall} {currency} to complete it.",
            code="insufficient_balance",
        )


def checkout_purpose(token):
    """What a transaction code confirms: this one checkout."""
    return f"checkout:{token}"


def code_required(total) -> bool:
    """A code is asked when the platform always wants one, or above the set total."""
    return settings.CHECKOUT_CODE_REQUIRED or total > settings.CHECKOUT_CODE_ABOVE


def _existing_order(token, account):
    order = Order.objects.filter(token=token).first()
    if order is not None and order.account_id != account.pk:
        raise ValidationError("This checkout form is not valid any more: reload the cart.")
    return order


def _cart_items(user):
    return list(
        CartItem.objects.filter(cart__user=user)
        .select_related("block", "did")
        .order_by("created_at", "pk")
    )


def order_place(
    *,
    user,
    token,
    agreed=None,
    ip_address=None,
    code=None,
    now=None,
    for_account=None,
    items=None,
    by_api_key=False,
) -> Order:
    """Buy everything in ``user``'s cart. Returns the order (the same one for a repeated
    ``token``).

    ``for_account`` and ``items`` (unsaved ``CartItem`` lines: block, quantity, channels,
    period) buy those lines for another account, whose balance pays at its price: a
    reseller's admins and support buying on their customer's behalf
    (``accounts.permissions.may_buy_for``). The order is the customer's, placed by ``user``.

    ``agreed`` maps requirement ids to the version the buyer was shown and agreed to.
    ``code`` is the e-mailed transaction code when ``code_required`` (decided on the total
    quoted under the balance lock); ``by_api_key`` orders need none: the key is a secret an
    account admin made for scripts (optionally bound to IP ranges), and a script cannot read
    an e-mail. Raises ``ValidationError`` (nothing saved, nothing
    charged, the code not spent) for an empty cart, a missing agreement, a missing or wrong
    code, or ``CheckoutRefused`` when the balance is short. Items whose number was taken
    meanwhile, or could not be sold, fail on the order, uncharged.
    """
    if not token or len(token) > 64:
        raise ValidationError("This checkout form is not valid: reload the cart.")
    account = for_account or user.account
    existing = _existing_order(token, account)
    if existing is not None:
        return existing
    if for_account is None:
        require_may_buy(user)
    else:
        require_may_buy_for(user, for_account)
    if not account.is_active:
        whose = "Your account" if for_account is None else str(account)
        raise ValidationError(f"{whose} is suspended: buying is not possible.")
    if code:
        # Checked before the order's transaction, so a wrong guess is counted even though
        # the order is refused; the code is spent only inside that transaction.
        try:
            confirmation_code_verify(user=user, purpose=checkout_purpose(token), code=code)
        except ValidationError:
            existing = _existing_order(token, account)  # a twin spent it on the order
            if existing is not None:
                return existing
            raise
    try:
        return _place(
            user=user,
            token=token,
            agreed=agreed or {},
            ip_address=ip_address,
            code=code,
            now=now,
            account=account,
            items=items,
            by_api_key=by_api_key,
        )
    except IntegrityError:
        # A twin request with the same token committed first.
        existing = _existing_order(token, account)
        if existing is None:
            raise
        return existing


@transaction.atomic
def _place(*, user, token, agreed, ip_address, code, now, account, items=None, by_api_key=False):
    now = now or timezone.now()
    balances = balances_lock([account, account.reseller])
    balance = balances[account.pk]
    existing = _existing_order(token, account)
    if existing is not None:
        return existing
    items = _cart_items(user) if items is None else list(items)
    if not items:
        raise ValidationError("Your cart is empty.")
    decision = sale_tax_for(account)
    quote = items_quote(items, account, decision=decision)
    requirements = _agreed_requirements(items, agreed)
    minimum = settings.MIN_PURCHASE_BALANCE
    if balance.amount < minimum or balance.amount < quote.gross:
        raise CheckoutRefused(
            balance=balance.amount, total=quote.gross, minimum=minimum, currency=account.currency
        )
    if code_required(quote.gross) and not by_api_key:
        if not code:
            raise ValidationError(
                f"This order comes to {quote.gross} {account.currency}: enter the code we "
                "e-mailed you to complete it.",
                code="code_required",
            )
        # Spent in this transaction: any refusal below rolls it back and the code still works.
        confirmation_code_spend(user=user, purpose=checkout_purpose(token), code=code)

    history = []  # the order's status changes, written together by ``_finish``
    order = order_transition(
        order=Order(
            account=account,
            placed_by=user,
            token=token,
            status="",
            currency=account.currency,
            net=ZERO,
            vat=ZERO,
            gross=ZERO,
            vat_rate=decision.rate,
            reverse_charge=decision.reverse_charge,
            tax_note=decision.note,
            ip_address=ip_address,
            created_at=now,
        ),
        to_status=Order.Status.PENDING,
        actor=user,
        reason="placed at checkout",
        now=now,
        history=history,
    )
    items_written, reseller_short, registering, events = _sell(
        order, quote, user=user, now=now, balances=balances
    )
    sold = [item for item in items_written if item.status == OrderItem.Status.COMPLETED]
    changed = _finish(order, items_written, user=user, now=now, events=events, history=history)
    if reseller_short:
        reseller_unpaid_checkout_email_send(
            reseller=account.reseller,
            customer=account,
            order_reference=order.reference,
            numbers=reseller_short,
            key=f"reseller-unpaid-order:{order.pk}",
        )
    if requirements:
        agreements_record(
            user=user,
            account=account,
            requirements=requirements,
            order_id=order.pk,
            ip_address=ip_address,
        )
    CartItem.objects.filter(pk__in=[item.pk for item in items if item.pk]).delete()
    text, html = _render_confirmation(
        order, items_written, registrations=None if registering else {}
    )
    # Last: the invoice number's row lock is held from here to commit.
    # Numbers awaiting registration are invoiced when approved (their period starts then).
    invoiced = [item for item in sold if item.subscription.status != Subscription.Status.PENDING]
    if invoiced:
        order.invoice = invoice_for_charges(
            account=account,
            charges=[item.charge for item in invoiced],
            source=Invoice.Source.ORDER,
            idempotency_key=f"order:{order.pk}",
            reference=("order", order.pk),
            actor=user,
            new_key=True,  # names this new order
        )
        if order.invoice is not None:
            changed.append("invoice")
    order.save(update_fields=changed)  # its status and totals from ``_finish``, its invoice
    _queue_confirmation(order, text, html)
    return order


def _agreed_requirements(items, agreed):
    """The requirements of the cart's blocks, each at the version the buyer agreed to."""
    required = requirements_for_blocks({item.block for item in items})
    missing = [r.title for r in required if r.pk not in agreed]
    if missing:
        raise ValidationError(
            [f"Read and agree to “{title}” to complete the order." for title in missing]
        )
    return requirements_at_versions({r.pk: int(agreed[r.pk]) for r in required})


def _seller_name(reseller):
    """How a reseller's customer knows its seller: the brand's name, else the account's."""
    brand = getattr(reseller, "brand", None)
    return getattr(brand, "display_name", "") or reseller.name


def _sell(order, quote, *, user, now, balances):
    """Claim, sell and charge every number of the quote; returns the order's items (failed
    ones are written too, uncharged) in position order, the numbers that failed because the
    buyer's reseller could not pay their wholesale price, the registrations needed and the
    numbers' webhook events still to emit.

    On PostgreSQL every number is sold, subscribed and charged together (``_sell_together``:
    a few statements whatever the order's size) in one savepoint; a constraint it did not
    foresee (a number whose previous subscription is still running, ...) rolls that back and
    the numbers are sold one by one, each in its own savepoint, so only that one fails."""
    packages = sale_packages_lock(account=order.account)
    specific = [item.did_id for item, _ in quote.lines if item.did_id]
    buyable = dids_lock_specific(ids=specific, user=user, now=now)
    taken = set(buyable)
    claims = []  # (cart item, line quote, DID or None, failure reason)
    for item, line in quote.lines:
        if item.did_id:
            did = buyable.get(item.did_id)
            claims.append((item, line, did, "" if did else GONE))
            continue
        dids = dids_lock_any(block=item.block, count=item.quantity, user=user, exclude=taken)
        taken.update(did.pk for did in dids)
        claims += [(item, line, did, "") for did in dids]
        short = item.quantity - len(dids)
        reason = f"Only {len(dids)} of {item.quantity} numbers were still available here."
        claims += [(item, line, None, reason)] * short
    package = sale_package(packages=packages, adding=sum(1 for c in claims if c[2]))
    registering = _registrations_needed(order.account, {item.block for item, _ in quote.lines})
    sell = (order, claims, package, registering)
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                together = _sell_together(*sell, user=user, now=now, quote=quote, balances=balances)
            return together[0], together[1], registering, together[2]
        except (IntegrityError, ValidationError) as exc:
            logger.warning("order %s: selling one by one: %r", order.pk, exc)
    return (*_sell_each(*sell, user=user, now=now, quote=quote), registering, [])


def _short_reason(order, did, exc, reseller_short):
    """A number's failure reason when a balance did not cover it: the buyer's reseller's
    (counted in ``reseller_short`` for its e-mail), else the buyer's own."""
    reseller = order.account.reseller
    if reseller is not None and exc.account_id == reseller.pk:
        logger.info("order %s: %s: reseller balance short", order.pk, did.number)
        reseller_short.append(formatted(did.number)[1])
        return RESELLER_SHORT.format(seller=_seller_name(reseller))
    # the buyer's own balance was checked on the quote
    logger.warning("order %s: number %s not sold: %r", order.pk, did.number, exc)
    return _failure_reason(exc)


def _sell_each(order, claims, package, registering, *, user, now, quote):
    """Sell the claimed numbers one by one, each in a savepoint: a number that cannot be
    sold fails its item, not the order."""
    items, reseller_short = [], []
    for position, (item, line, did, reason) in enumerate(claims, start=1):
        if did is not None:
            try:
                with transaction.atomic():  # a savepoint: this number fails, not the order
                    requirement = registering.get(item.block.requirement_id)
                    items.append(
                        _sell_one(
                            order, position, did, item, line, package, user, now, quote, requirement
                        )
                    )
                continue
            except InsufficientBalance as exc:
                reason = _short_reason(order, did, exc, reseller_short)
            except (IntegrityError, ValidationError) as exc:
                logger.warning("order %s: number %s not sold: %r", order.pk, did.number, exc)
                reason = _failure_reason(exc)
        items.append(_write_item(order, position, item, line, did=did or item.did, reason=reason))
    return items, reseller_short


def _sell_together(order, claims, package, registering, *, user, now, quote, balances):
    """What ``_sell_each`` does, set-based: each number's subscription is built and its
    first period's debits staged in position order (a balance short for one fails that
    item, uncharged, as one by one), then the numbers are sold, the subscriptions, charges,
    registrations and items written, one statement per kind of row."""
    debits = LedgerBatch(created_by=user)
    debits.balances.update(balances)  # locked by ``_place``
    starts = SubscriptionStarts(
        account=order.account,
        actor=user,
        now=now,
        tax_decision=quote.decision,
        debits=debits,
        count=sum(1 for claim in claims if claim[2] is not None),
    )
    items, reseller_short, selling, awaiting, registrations = [], [], [], set(), []
    for position, (item, line, did, reason) in enumerate(claims, start=1):
        charge = None
        if did is not None:
            requirement = registering.get(item.block.requirement_id)
            waits = requirement is not None and not requirement.approved
            try:
                charge = starts.add(
                    did=did,
                    awaiting_registration=waits,
                    **_subscription_terms(order, position, did, item, line),
                )
            except InsufficientBalance as exc:
                reason = _short_reason(order, did, exc, reseller_short)
            except ValidationError as exc:
                logger.warning("order %s: number %s not sold: %r", order.pk, did.number, exc)
                reason = _failure_reason(exc)
            else:
                selling.append(did)
                if waits:
                    awaiting.add(did.pk)
                if requirement is not None:
                    registrations.append((did, requirement, waits, position))
        items.append(
            _order_item(
                order, position, item, line, did=did or item.did, reason=reason, charge=charge
            )
        )
    events = dids_sell(
        dids=selling,
        account=order.account,
        client_package=package,
        actor=user,
        reason=f"sold in order {order.pk}",
        awaiting=awaiting,
    )
    starts.save()
    number_registrations_record(
        account=order.account, sales=registrations, order_id=order.pk, now=now
    )
    OrderItem.objects.bulk_create(items)
    return items, reseller_short, events


def _registrations_needed(account, blocks):
    """``{requirement id: requirement}`` of the blocks' requirements that need a
    registration, each with ``.approved``: whether ``account``'s is approved already (its
    numbers go live at once) or not (they are sold awaiting it)."""
    needed = [r for r in requirements_for_blocks(blocks) if r.needs_registration]
    approved = approved_requirement_ids(account, needed)
    for requirement in needed:
        requirement.approved = requirement.pk in approved
    return {r.pk: r for r in needed}


def _sell_one(order, position, did, item, line, package, user, now, quote, requirement=None):
    """Sell, subscribe and charge one number; ``requirement``: the registration it needs
    (from ``_registrations_needed``). Until that is approved, the number is sold awaiting
    it: owned and charged, not routed, its subscription pending until approval."""
    awaiting = requirement is not None and not requirement.approved
    did_sell(
        did=did,
        account=order.account,
        client_package=package,
        actor=user,
        reason=f"sold in order {order.pk}",
        awaiting_registration=awaiting,
    )
    subscription = _subscribe(
        order,
        position,
        did,
        item,
        line,
        user=user,
        now=now,
        decision=quote.decision,
        awaiting=awaiting,
    )
    if requirement is not None:
        number_registration_record(
            account=order.account,
            did=did,
            requirement=requirement,
            awaiting=awaiting,
            order_id=order.pk,
            order_item_position=position,
            now=now,
        )
    return _write_item(order, position, item, line, did=did, subscription=subscription)


def _failure_reason(exc):
    """What the buyer reads on a failed item: no constraint names, no SQL."""
    if isinstance(exc, ValidationError) and exc.messages:
        return " ".join(exc.messages)[:255]
    return NOT_SOLD


def _subscription_terms(order, position, did, item, line):
    """``subscription_start``'s price, period and key for a number of ``line``."""
    if item.billing_period == "one_time":
        billing = {"billing_type": "one_time"}
    else:
        unit, count = BLOCK_PERIODS[item.billing_period]
        billing = {"billing_type": "recurring", "period_unit": unit, "period_count": count}
    return {
        "recurring_price": line.recurring,
        "setup_fee": line.setup_fee,
        "channels": item.channels,
        "included_channels": item.channels - line.extra_channels,
        "extra_channels_price": line.extra_capacity,
        "idempotency_key": f"order:{order.pk}:item:{position}",
        "description": _describe(did),
        **billing,
    }


def _subscribe(order, position, did, item, line, *, user, now, decision, awaiting=False):
    return subscription_start(
        account=order.account,
        did=did,
        actor=user,
        now=now,
        tax_decision=decision,  # the quote's: its order's rate and its charges agree
        awaiting_registration=awaiting,
        **_subscription_terms(order, position, did, item, line),
    )


def _describe(did):
    return f"Number {formatted(did.number)[1]}"


def _order_item(order, position, item, line, *, did, reason="", charge=None):
    """The unsaved item; ``charge``: the sale charge of its number's first period, its
    subscription loaded (None: failed, with ``reason``). The charge stays on the item for
    the order's invoice."""
    order_item = OrderItem(
        order=order,
        position=position,
        block=item.block,
        did=did,
        description=_describe(did) if did else f"A number in {item.block}",
        status=OrderItem.Status.COMPLETED if charge else OrderItem.Status.FAILED,
        failure_reason="" if charge else reason,
        channels=item.channels,
        billing_period=item.billing_period,
        setup_fee=line.setup_fee,
        recurring_price=line.recurring,
        net=charge.net if charge else ZERO,
        vat_rate=line.vat_rate,
        vat=charge.vat if charge else ZERO,
        gross=charge.amount if charge else ZERO,
        subscription=charge.subscription if charge else None,
    )
    order_item.charge = charge
    return order_item


def _write_item(order, position, item, line, *, did, reason="", subscription=None):
    charge = None
    if subscription is not None:
        charge = subscription.charges.get(period_index=0, side="sale")
        charge.subscription = subscription
    order_item = _order_item(order, position, item, line, did=did, reason=reason, charge=charge)
    order_item.save()
    return order_item


def _finish(order, items, *, user, now, events=(), history=None):
    """The order's totals (what was charged) and its final status, set (returns the fields
    for the caller to save with its invoice), and its status changes (``history``: the
    earlier ones not written yet, and this one) written in one statement; its webhook event,
    after ``events`` (its numbers', when not emitted yet), in one go."""
    history = [] if history is None else history
    sold = [item for item in items if item.status == OrderItem.Status.COMPLETED]
    failed = len(items) - len(sold)
    totals = []
    if sold:
        order.net = sum((item.net for item in sold), ZERO)
        order.vat = sum((item.vat for item in sold), ZERO)
        order.gross = sum((item.gross for item in sold), ZERO)
        totals = ["net", "vat", "gross"]
    if not sold:
        status, reason = Order.Status.FAILED, "no number could be sold"
    elif failed:
        status, reason = Order.Status.PARTIAL, f"{failed} of {failed + len(sold)} items failed"
    else:
        status, reason = Order.Status.COMPLETED, "every number sold"
    order_transition(
        order=order,
        to_status=status,
        actor=user,
        reason=reason,
        now=now,
        history=history,
        save_order=False,
    )
    OrderStatusChange.objects.bulk_create(history)
    event = "order.failed" if status == Order.Status.FAILED else "order.completed"
    events_emit([*events, (order.account, event, _order_event_data(order, items))], now=now)
    return ["status", *totals]


def _order_event_data(order, items):
    """An order's webhook payload: totals and every item (in position order) with its
    outcome."""
    return {
        "order": {
            "id": order.pk,
            "reference": order.reference,
            "status": order.status,
            "currency": order.currency,
            "net": order.net,
            "vat": order.vat,
            "gross": order.gross,
            "items": [
                {
                    "position": item.position,
                    "status": item.status,
                    "number": item.did.number if item.did else None,
                    "failure_reason": item.failure_reason,
                }
                for item in items
            ],
        }
    }


def _render_confirmation(order, items=None, *, registrations=None):
    """The confirmation e-mail's text and HTML, rendered before the invoice is numbered (no
    template is rendered while the sequence is locked): ``INVOICE_NUMBER_SLOT`` stands where
    the number goes. ``items`` (in position order) and ``registrations`` (by position; ``{}``
    when none of the order's numbers needed one) are read when not given."""
    if items is None:
        items = list(order.items.select_related("did", "block").order_by("position"))
    if registrations is None:
        registrations = registrations_of_order(order)
    for item in items:
        item.registration = registrations.get(item.position)
    awaiting = [i for i in items if i.registration and i.registration.status == "awaiting"]
    # Numbers awaiting registration are invoiced on approval: none invoiced now if all wait.
    invoiced = order.gross > 0 and any(
        item.status == OrderItem.Status.COMPLETED and item not in awaiting for item in items
    )
    context = {
        "order": order,
        "items": items,
        "awaiting": awaiting,
        "invoice_number": INVOICE_NUMBER_SLOT if invoiced else "",
        "portal_name": brand_for_account(order.account).name,
        "site_url": brand_for_account(order.account).site_url,
    }
    text = render_to_string("cart/email/order_confirmation.txt", context)
    html = render_to_string("cart/email/order_confirmation.html", context)
    return text, html


def _queue_confirmation(order, text, html):
    number = order.invoice.number if order.invoice else ""
    email_queue(
        to=[order.placed_by.email],
        account=order.account,
        subject=f"{brand_for_account(order.account).name}: order {order.reference} "
        f"{order.get_status_display().lower()}",
        text=text.replace(INVOICE_NUMBER_SLOT, number),
        html=html.replace(INVOICE_NUMBER_SLOT, number),
        key=f"order-confirmation:{order.pk}",
        new_key=True,  # names this new order
    )
