"""DIDWW's reservations and orders, through the web's own services.

A **reservation** is the cart's hold on one number (``inventory.services.holds``: the two
columns on the DID row, for ``CART_HOLD_MINUTES``), taken as the key's user within the
same hold limits as the web cart (``cart.services.hold_limits``: how many numbers an
account holds at a time, and, unfunded, how often one number is held again). The
``DidReservation`` row keeps the key and the description; it is live until it expires, is
deleted, or is ordered. At most one open reservation per number (a partial unique index);
an expired one is closed when somebody reserves the number again.

An **order** is ``cart.orders.order_place`` with unsaved cart lines built from the items:
a specific available number, a reservation's number, or "any N" of a SKU's block. Same
prices, VAT, prepaid rule, package limits, requirements (the key's agreed versions,
``api.selectors.key_agreed_versions``) and awaiting-registration flow as the web checkout.
The one transaction around ``order_place`` here exists so that what only the API has —
the key, the caller's ``external_reference_id``, the callback, the reservations it used —
is written in the order's own transaction (a twin request waiting on the balance lock then
finds all of it), and so that ``allow_back_ordering = false`` can undo an order that could
not buy every number (nothing sold, nothing charged).

Idempotency: ``external_reference_id`` becomes checkout's token (``api:`` + a hash of the
account and the reference), so checkout's own rule — one order per token, a twin waits on
the balance lock and finds the first one's order — makes a retry or a concurrent twin
return the first order; a unique constraint on (account, external_reference_id) backs it.
"""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.permissions import require_may_shop
from billing.services import balance_lock, balances_lock
from cart.models import CartItem, offered_periods
from cart.models_orders import Order, OrderItem
from cart.orders import order_place
from cart.services import MAX_CHANNELS, MAX_QUANTITY, hold_limits, hold_until
from inventory import services as inventory_services
from inventory.choices import DIDStatus
from inventory.models import DID, NumberBlock
from webhooks.services import callback_url_check, order_callback_queue

from .ids import sku_parse
from .models import DidReservation
from .selectors import key_agreed_versions

MAX_NUMBERS_PER_ORDER = 100
TOKEN_PREFIX = "api:"  # noqa: S105 (checkout tokens of API orders start so)
# An unfunded account may reserve one number again this often within this window (the web
# cart's "hold again" limit, counted over the account's reservations of that number).
RENEWAL_WINDOW = timedelta(hours=24)


# --- Reservations -------------------------------------------------------------------------


def reservations_live(account, now=None):
    """``account``'s reservations that still hold their number: not ended, not expired."""
    now = now or timezone.now()
    return DidReservation.objects.filter(account=account, ended_at__isnull=True, expires_at__gt=now)


def _reservation_refusal(*, account, user, did, now, limits):
    """Why ``user`` may not reserve ``did`` now (the web cart's hold limits), or ""."""
    held = DID.objects.filter(
        status=DIDStatus.IN_STOCK, cart_held_by__account=account, cart_held_until__gte=now
    ).exclude(pk=did.pk)
    if held.count() >= limits.numbers:
        until = "" if limits.funded else " until it is topped up"
        return (
            f"Your account can hold {limits.numbers} number"
            f"{'' if limits.numbers == 1 else 's'} at a time{until}: order or delete a "
            "reservation first."
        )
    if limits.renewals is not None:
        before = DidReservation.objects.filter(
            account=account, did=did, created_at__gte=now - RENEWAL_WINDOW
        ).count()
        if before > limits.renewals:
            return (
                "Until your account is topped up a number can be reserved again "
                f"{limits.renewals} time{'' if limits.renewals == 1 else 's'}: top up your "
                "balance to keep reserving it, or order it now."
            )
    return ""


@transaction.atomic
def did_reservation_create(*, key, did_id, description="", now=None) -> DidReservation:
    """Reserve the available number ``did_id`` (a DID pk) for ``key``'s account, as the
    key's user, for ``CART_HOLD_MINUTES``. ``ValidationError`` (nothing held) when the
    number is not available to this buyer, or a hold limit is reached."""
    user, account = key.created_by, key.account
    require_may_shop(user)
    now = now or timezone.now()
    limits = hold_limits(balance_lock(account))  # the lock order: balances, then numbers
    did = DID.objects.select_for_update().filter(pk=did_id).first()
    if did is None:
        raise ValidationError("This available number does not exist.", code="unknown")
    # A reservation that expired (or whose hold the number lost) no longer counts.
    DidReservation.objects.filter(did=did, ended_at__isnull=True, expires_at__lte=now).update(
        ended_at=now
    )
    if DidReservation.objects.filter(account=account, did=did, ended_at__isnull=True).exists():
        raise ValidationError("You have already reserved this number.", code="reserved")
    refusal = _reservation_refusal(account=account, user=user, did=did, now=now, limits=limits)
    if refusal:
        raise ValidationError(refusal, code="hold_limit")
    until = hold_until(now)
    held = inventory_services.dids_cart_hold(dids=[did.pk], user=user, until=until, now=now)
    if did.pk not in held:
        raise ValidationError(
            "This number is no longer available: someone else bought or reserved it.",
            code="gone",
        )
    try:
        with transaction.atomic():
            return DidReservation.objects.create(
                account=account,
                key=key,
                did=did,
                description=" ".join((description or "").split())[:100],
                created_at=now,
                expires_at=until,
            )
    except IntegrityError:  # another account's open reservation of it (its hold was mine)
        raise ValidationError(
            "This number is no longer available: someone else reserved it.", code="gone"
        ) from None


@transaction.atomic
def did_reservation_delete(*, key, reservation, now=None) -> None:
    """End ``reservation`` (of ``key``'s account) and free its number, unless the key's user
    also holds it in the web cart."""
    now = now or timezone.now()
    ended = DidReservation.objects.filter(
        pk=reservation.pk, account=key.account, ended_at__isnull=True
    ).update(ended_at=now)
    if not ended:
        return
    user = reservation.key.created_by
    in_cart = CartItem.objects.filter(cart__user=user, did_id=reservation.did_id).exists()
    if not in_cart:
        inventory_services.dids_cart_release(dids=[reservation.did_id], user=user)


# --- Orders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRequest:
    """One requested order item, as parsed from the API (ids not yet checked)."""

    available_did_id: int | None = None
    did_reservation_id: int | None = None
    sku_id: str | None = None
    qty: int | None = None


class Refused(ValidationError):
    """A refusal of one request item: ``pointer`` says which (``/data/attributes/items/0``)."""

    def __init__(self, message, *, index, code="invalid"):
        super().__init__(message, code=code)
        self.index = index


def order_token(account, external_reference_id) -> str:
    """Checkout's token for an API order: derived from the caller's reference (so a retry
    or a twin uses the same token), or random without one. At most 64 characters."""
    if not external_reference_id:
        return TOKEN_PREFIX + uuid.uuid4().hex
    digest = hashlib.sha256(f"{account.pk}:{external_reference_id}".encode()).hexdigest()
    return TOKEN_PREFIX + digest[:56]


def _sku_block(sku, index):
    parsed = sku_parse(sku)
    block = NumberBlock.objects.filter(pk=parsed[0]).first() if parsed else None
    if block is None:
        raise Refused(f"Item {index + 1}: stock keeping unit “{sku}” does not exist.", index=index)
    channels = parsed[1]
    if not 1 <= channels <= MAX_CHANNELS:
        raise Refused(
            f"Item {index + 1}: a number has between 1 and {MAX_CHANNELS} channels.", index=index
        )
    return block, channels


def _line(block, *, index, did=None, channels=None, quantity=1):
    periods = offered_periods(block)
    if not periods:
        raise Refused(f"Item {index + 1}: this group is not on sale.", index=index)
    return CartItem(
        block=block,
        did=did,
        quantity=quantity,
        channels=channels or max(1, block.channels_included),
        billing_period=periods[0],
    )


def order_lines(*, account, requests, now=None):
    """Unsaved ``CartItem`` lines for ``requests`` (``ItemRequest``s) and the reservations
    they use. ``Refused`` names the first item whose ids are unknown or do not fit."""
    now = now or timezone.now()
    lines, reservations, numbers = [], [], 0
    seen_dids = set()
    for index, request in enumerate(requests):
        block = channels = None
        if request.sku_id is not None:
            block, channels = _sku_block(request.sku_id, index)
        if request.did_reservation_id is not None:
            reservation = (
                reservations_live(account, now)
                .select_related("did__block")
                .filter(pk=request.did_reservation_id)
                .first()
            )
            if reservation is None:
                raise Refused(
                    f"Item {index + 1}: reservation {request.did_reservation_id} does not "
                    "exist or has expired.",
                    index=index,
                )
            reservations.append(reservation)
            did = reservation.did
        elif request.available_did_id is not None:
            did = DID.objects.select_related("block").filter(pk=request.available_did_id).first()
            if did is None:
                raise Refused(
                    f"Item {index + 1}: available number {request.available_did_id} does not "
                    "exist.",
                    index=index,
                )
        else:
            if block is None or request.qty is None:
                raise Refused(
                    f"Item {index + 1}: give available_did_id, did_reservation_id, or sku_id "
                    "with qty.",
                    index=index,
                )
            if not 1 <= request.qty <= MAX_QUANTITY:
                raise Refused(
                    f"Item {index + 1}: qty must be between 1 and {MAX_QUANTITY}.", index=index
                )
            lines.append(_line(block, index=index, channels=channels, quantity=request.qty))
            numbers += request.qty
            continue
        if block is not None and block.pk != did.block_id:
            raise Refused(
                f"Item {index + 1}: stock keeping unit “{request.sku_id}” is not of this "
                "number's group.",
                index=index,
            )
        if did.pk in seen_dids:
            raise Refused(f"Item {index + 1}: this number is already in the order.", index=index)
        seen_dids.add(did.pk)
        lines.append(_line(did.block, index=index, did=did, channels=channels))
        numbers += 1
    if not lines:
        raise ValidationError("An order has at least one item.", code="empty")
    if numbers > MAX_NUMBERS_PER_ORDER:
        raise ValidationError(
            f"An order buys at most {MAX_NUMBERS_PER_ORDER} numbers: split it.", code="too_many"
        )
    return lines, reservations


class BackOrderRefused(ValidationError):
    """``allow_back_ordering = false`` and not every number could be bought."""


def api_order_create(
    *,
    key,
    requests,
    external_reference_id="",
    callback_url="",
    callback_method="",
    allow_back_ordering=True,
    ip_address=None,
    now=None,
) -> tuple[Order, bool]:
    """Place an order for ``key``'s account as the key's user. Returns ``(order, created)``:
    a retry (or a concurrent twin) with the same ``external_reference_id`` gets the first
    order and ``created`` False. ``ValidationError`` (nothing saved, nothing charged) for
    unknown ids, a checkout refusal (balance, agreements, package, rights), or, with
    ``allow_back_ordering`` false, an order that could not buy every number."""
    account, user = key.account, key.created_by
    external_reference_id = (external_reference_id or "").strip()
    if external_reference_id:
        existing = Order.objects.filter(
            account=account, external_reference_id=external_reference_id
        ).first()
        if existing is not None:
            return existing, False
    lines, reservations = order_lines(account=account, requests=requests, now=now)
    if callback_url:  # the SSRF guard resolves the host: before the order's transaction
        callback_url, callback_method = callback_url_check(callback_url, callback_method)
    token = order_token(account, external_reference_id)
    with transaction.atomic():
        _holds_to(user, account, reservations, now=now)
        order = order_place(
            user=user,
            token=token,
            items=lines,
            agreed=key_agreed_versions(key),
            ip_address=ip_address,
            now=now,
            by_api_key=True,
        )
        if order.api_key_id is not None:  # placed by the twin that committed first
            return order, False
        if not allow_back_ordering and order.items.filter(status=OrderItem.Status.FAILED).exists():
            raise BackOrderRefused(_failures(order), code="not_in_stock")
        order.api_key = key
        order.external_reference_id = external_reference_id
        order.callback_url = callback_url or ""
        order.callback_method = callback_method if callback_url else ""
        order.save(
            update_fields=[
                "api_key",
                "external_reference_id",
                "callback_url",
                "callback_method",
            ]
        )
        DidReservation.objects.filter(
            pk__in=[r.pk for r in reservations], ended_at__isnull=True
        ).update(ended_at=order.created_at)
        if order.callback_url:  # our orders are final once placed: completed or failed
            order_callback_queue(order=order, url=order.callback_url, method=order.callback_method)
        return order, True


def _holds_to(user, account, reservations, *, now=None):
    """Reservations are the account's: one made with a teammate's key is ordered by this
    key's user, so its hold moves to that user (checkout buys what the buyer holds). Locks
    the balances first, as checkout does (the lock order: balances, then numbers)."""
    now = now or timezone.now()
    others = [r for r in reservations if r.did.cart_held_by_id not in (None, user.pk)]
    if not others:
        return
    balances_lock([account, account.reseller])
    for reservation in others:
        holder = reservation.did.cart_held_by
        inventory_services.dids_cart_release(dids=[reservation.did_id], user=holder)
        if reservation.expires_at > now:
            inventory_services.dids_cart_hold(
                dids=[reservation.did_id], user=user, until=reservation.expires_at, now=now
            )


def _failures(order):
    reasons = [
        f"{item.description}: {item.failure_reason}"
        for item in order.items.filter(status=OrderItem.Status.FAILED).order_by("position")
    ]
    return [
        "Not every number is available and allow_back_ordering is false: nothing was ordered.",
        *reasons[:10],
    ]
