"""Writes on the cart. Views call these; each is one transaction and checks its own rules.

Specific numbers are held for the cart on the DID row through inventory's cart-hold services
(one conditional UPDATE, so two carts never hold one number); "any N" lines hold nothing and
are checked against the stock when added, changed and at checkout. The user's cart row is
locked first in every write, so two tabs of one customer apply their changes one at a time.
Bad input raises ``ValidationError`` with a message per field, and nothing is saved.

Holds are bounded by the account's funding (``hold_limits``), so a free sign-up cannot keep
stock away from buyers: an unfunded account holds ``CART_HOLDS_UNFUNDED`` numbers at a time
and holds each again ``CART_HOLD_RENEWALS_UNFUNDED`` times; a funded one (balance at least
``MIN_PURCHASE_BALANCE``) up to ``CART_HOLDS_FUNDED`` numbers, held again as often as it
likes. Services that take holds lock the account's balance row first (the lock order:
balances, then the cart), so two tabs or two users of one account cannot pass the limit.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.permissions import holds_numbers, require_may_shop
from billing.services import balance_lock
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.models import DID

from .models import PERIOD_LABELS, Cart, CartItem, offered_periods
from .selectors import any_available

MAX_CHANNELS = 1000  # per number
MAX_QUANTITY = 100  # per "any N" line
MAX_ITEMS = 100  # lines in one cart
MAX_NUMBERS_PER_ADD = 100


@dataclass
class AddResult:
    items: list = field(default_factory=list)  # the lines added or refreshed
    unavailable: list = field(default_factory=list)  # numbers not added: gone or held
    available: int | None = None  # "any N": how many the block had
    limits: list = field(default_factory=list)  # why numbers were not held (hold limits)


@dataclass
class RenewResult:
    lost: list = field(default_factory=list)  # numbers sold, withdrawn or in another cart
    limits: list = field(default_factory=list)  # why numbers were not held again


@dataclass(frozen=True)
class HoldLimits:
    funded: bool
    numbers: int  # numbers the account may hold at a time
    renewals: int | None  # times a number may be held again; None: no limit


def hold_limits(balance) -> HoldLimits:
    """What an account with ``balance`` (its Balance row) may hold in carts."""
    funded = balance.amount > 0 and balance.amount >= settings.MIN_PURCHASE_BALANCE
    if funded:
        return HoldLimits(funded=True, numbers=settings.CART_HOLDS_FUNDED, renewals=None)
    return HoldLimits(
        funded=False,
        numbers=settings.CART_HOLDS_UNFUNDED,
        renewals=settings.CART_HOLD_RENEWALS_UNFUNDED,
    )


def hold_until(now=None):
    return (now or timezone.now()) + timedelta(minutes=settings.CART_HOLD_MINUTES)


def _check_customer(user):
    if not holds_numbers(user):
        raise PermissionDenied("Only customers and resellers have a cart.")


def _locked_cart(user):
    """The user's cart, created on first use, locked for this transaction."""
    cart, _ = Cart.objects.get_or_create(user=user, defaults={"account_id": user.account_id})
    return Cart.objects.select_for_update().get(pk=cart.pk)


def _locked_item(user, item_id):
    """A line of the user's own cart, locked; DoesNotExist for anybody else's."""
    return (
        CartItem.objects.select_for_update(of=("self",))
        .select_related("block", "did")
        .get(pk=item_id, cart__user=user)
    )


def _as_int(value, name, label):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: f"{label} must be a whole number."}) from None


def _checked_channels(value):
    channels = _as_int(value, "channels", "Channels")
    if not 1 <= channels <= MAX_CHANNELS:
        raise ValidationError({"channels": f"Channels must be between 1 and {MAX_CHANNELS}."})
    return channels


def _checked_period(block, period):
    offered = offered_periods(block)
    if period not in offered:
        choices = ", ".join(PERIOD_LABELS[p].lower() for p in offered)
        raise ValidationError(
            {
                "billing_period": f"This number is not offered {period or 'without a period'}; "
                f"choose {choices}."
            }
        )
    return period


def _checked_quantity(value):
    quantity = _as_int(value, "quantity", "Quantity")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError({"quantity": f"Quantity must be between 1 and {MAX_QUANTITY}."})
    return quantity


def _line_defaults(block, channels, billing_period):
    """Channels and period for a new line: the given ones, checked, or the block's own."""
    channels = max(1, block.channels_included) if channels in (None, "") else channels
    period = offered_periods(block)[0] if not billing_period else billing_period
    return _checked_channels(channels), _checked_period(block, period)


def _check_room(cart, adding):
    if adding and cart.items.count() + adding > MAX_ITEMS:
        raise ValidationError(
            {"numbers": f"A cart holds at most {MAX_ITEMS} lines: check out or remove some first."}
        )


def _check_package_allows(cart, adding, field):
    """Refuse ``adding`` more numbers when the account's package limits self-service
    purchases and the numbers held plus those in the cart would pass it (checkout checks
    again, under the package's lock)."""
    if adding <= 0:
        return
    allowance = inventory_selectors.self_service_allowance(cart.account_id)
    if allowance is None:
        return
    in_cart = cart.items.aggregate(numbers=Sum("quantity"))["numbers"] or 0
    refusal = allowance.refusal(adding=adding, in_cart=in_cart)
    if refusal:
        raise ValidationError({field: refusal})


def _place(block):
    return block.city or block.region or block.get_number_type_display()


def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def _held_by_account(account, now):
    """Ids of the numbers the account's users hold in their carts right now."""
    return set(
        DID.objects.filter(
            status=DID.Status.IN_STOCK, cart_held_by__account=account, cart_held_until__gte=now
        ).values_list("pk", flat=True)
    )


def _within_hold_limits(*, user, balance, cart, dids, now):
    """Which of ``dids`` (DIDs, in the order asked) ``user`` may hold now, the numbers of the
    others and why. A number with a line in the cart is held *again* (a renewal)."""
    limits = hold_limits(balance)
    lines = {item.did_id: item for item in cart.items.filter(did__isnull=False)}
    held = _held_by_account(user.account, now)
    holdable = set(
        DID.objects.filter(
            inventory_services.cart_holdable(now=now, user=user), pk__in=[did.pk for did in dids]
        ).values_list("pk", flat=True)
    )
    allowed, over_count, over_renewals = [], [], []
    for did in dids:
        renewals = lines[did.pk].hold_renewals if did.pk in lines else None
        if did.pk not in holdable:
            allowed.append(did)  # the hold will fail: unavailable, and it takes no room
        elif renewals is not None and limits.renewals is not None and renewals >= limits.renewals:
            over_renewals.append(did.number)
        elif did.pk not in held and len(held) >= limits.numbers:
            over_count.append(did.number)
        else:
            allowed.append(did)
            held.add(did.pk)
    messages = []
    top_up = "Top up your balance to hold more." if not limits.funded else ""
    if over_count:
        who = "Until your account is topped up it" if not limits.funded else "Your account"
        messages.append(
            f"Not held: {', '.join(over_count)}. {who} can hold "
            f"{_plural(limits.numbers, 'number')} at a time in carts. {top_up}".strip()
        )
    if over_renewals:
        messages.append(
            f"Not held again: {', '.join(over_renewals)}. Until your account is topped up a "
            f"number can be held again {_plural(limits.renewals, 'time')}: top up your "
            "balance to keep holding it, or buy it now."
        )
    return allowed, set(over_count + over_renewals), messages


def _count_renewals(cart, held_ids):
    cart.items.filter(did_id__in=held_ids).update(hold_renewals=F("hold_renewals") + 1)


@transaction.atomic
def cart_add_numbers(*, user, numbers, channels=None, billing_period=None, now=None):
    """Put specific numbers (E.164 strings) in the user's cart and hold them until
    ``CART_HOLD_MINUTES`` from now.

    A number already in the cart gets its hold refreshed (no second line). Numbers sold,
    withdrawn or held in someone else's cart are not added and come back in
    ``unavailable``. ``channels`` / ``billing_period`` default to the block's included
    channels and first offered period.
    """
    require_may_shop(user)
    wanted = list(dict.fromkeys(n.strip() for n in numbers if n and n.strip()))
    if not wanted:
        raise ValidationError({"numbers": "Tick the numbers you want first."})
    if len(wanted) > MAX_NUMBERS_PER_ADD:
        raise ValidationError({"numbers": f"Add at most {MAX_NUMBERS_PER_ADD} numbers at a time."})
    now = now or timezone.now()
    balance = balance_lock(user.account)
    cart = _locked_cart(user)
    dids = {
        did.number: did for did in DID.objects.filter(number__in=wanted).select_related("block")
    }
    # Channels and period are checked against each block before anything is held.
    settings_by_block = {
        did.block_id: _line_defaults(did.block, channels, billing_period) for did in dids.values()
    }
    allowed, refused, limits = _within_hold_limits(
        user=user, balance=balance, cart=cart, dids=[dids[n] for n in wanted if n in dids], now=now
    )
    held = inventory_services.dids_cart_hold(
        dids=[did.pk for did in allowed], user=user, until=hold_until(now), now=now
    )
    existing = {item.did_id: item for item in cart.items.filter(did_id__in=held)}
    _count_renewals(cart, existing)
    new = [
        dids[n] for n in wanted if n in dids and dids[n].pk in held and dids[n].pk not in existing
    ]
    _check_room(cart, len(new))
    _check_package_allows(cart, len(new), "numbers")
    for did in new:
        line_channels, period = settings_by_block[did.block_id]
        existing[did.pk] = CartItem.objects.create(
            cart=cart,
            block=did.block,
            did=did,
            quantity=1,
            channels=line_channels,
            billing_period=period,
            created_at=now,
        )
    Cart.objects.filter(pk=cart.pk).update(updated_at=now)
    return AddResult(
        items=[existing[dids[n].pk] for n in wanted if n in dids and dids[n].pk in held],
        unavailable=[
            n for n in wanted if (n not in dids or dids[n].pk not in held) and n not in refused
        ],
        limits=limits,
    )


@transaction.atomic
def cart_add_any(*, user, block, quantity, channels=None, billing_period=None, now=None):
    """Add "any ``quantity`` numbers" of ``block`` to the user's cart (nothing is held).

    A block already in the cart as "any N" gets its quantity raised instead of a second
    line. Refused, with how many there are, when the block has fewer free numbers now.
    """
    require_may_shop(user)
    quantity = _checked_quantity(quantity)
    now = now or timezone.now()
    cart = _locked_cart(user)
    item = cart.items.filter(block=block, did__isnull=True).first()
    total = quantity + (item.quantity if item else 0)
    if total > MAX_QUANTITY:
        raise ValidationError(
            {"quantity": f"At most {MAX_QUANTITY} numbers of one area per cart line."}
        )
    available = any_available(block, limit=MAX_QUANTITY + 1)
    if total > available:
        in_cart = f" (you have {item.quantity} in your cart)" if item else ""
        raise ValidationError(
            {
                "quantity": f"Only {available} number{'s' if available != 1 else ''} "
                f"available in {_place(block)} right now{in_cart}."
            }
        )
    _check_package_allows(cart, quantity, "quantity")
    if item is None:
        _check_room(cart, 1)
        line_channels, period = _line_defaults(block, channels, billing_period)
        item = CartItem.objects.create(
            cart=cart,
            block=block,
            quantity=quantity,
            channels=line_channels,
            billing_period=period,
            created_at=now,
        )
    else:
        item.quantity = total
        item.save(update_fields=["quantity"])
    Cart.objects.filter(pk=cart.pk).update(updated_at=now)
    return AddResult(items=[item], available=available)


@transaction.atomic
def cart_item_update(*, user, item_id, channels=None, quantity=None, billing_period=None):
    """Change a line's channels, quantity ("any N" only) or billing period; ``None`` keeps
    a value. All or nothing: any bad field raises ValidationError naming every bad field."""
    require_may_shop(user)  # more numbers or channels is buying more
    _locked_cart(user)
    item = _locked_item(user, item_id)
    errors, changes = {}, {}
    checks = (
        ("channels", channels, _checked_channels),
        ("billing_period", billing_period, lambda p: _checked_period(item.block, p)),
        ("quantity", quantity, _checked_quantity),
    )
    for name, value, check in checks:
        if value in (None, ""):
            continue
        try:
            changes[name] = check(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "quantity" in changes and changes["quantity"] != item.quantity:
        if not item.is_any:
            errors["quantity"] = ["A specific number is bought once: quantity is 1."]
        else:
            available = any_available(item.block, limit=MAX_QUANTITY + 1)
            if changes["quantity"] > available:
                errors["quantity"] = [
                    f"Only {available} numbers available in {_place(item.block)} right now."
                ]
            else:
                try:
                    _check_package_allows(
                        item.cart, changes["quantity"] - item.quantity, "quantity"
                    )
                except ValidationError as exc:
                    errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    for name, value in changes.items():
        setattr(item, name, value)
    item.save(update_fields=list(changes) or None)
    return item


@transaction.atomic
def cart_item_remove(*, user, item_id):
    """Take a line out of the user's cart and end its number's hold. Returns the line
    (unsaved) for the message."""
    _check_customer(user)
    _locked_cart(user)
    item = _locked_item(user, item_id)
    if item.did_id:
        inventory_services.dids_cart_release(dids=[item.did_id], user=user)
    item.delete()
    return item


@transaction.atomic
def cart_items_drop(*, user, item_ids):
    """Take the lines ``item_ids`` out of the user's cart and end their holds (the add-to-cart
    panel's close button drops what it just added). Returns how many were removed."""
    _check_customer(user)
    cart = _locked_cart(user)
    items = list(cart.items.filter(pk__in=list(item_ids)))
    inventory_services.dids_cart_release(dids=[i.did_id for i in items if i.did_id], user=user)
    cart.items.filter(pk__in=[item.pk for item in items]).delete()
    return len(items)


@transaction.atomic
def cart_clear(*, user):
    """Empty the user's cart and end its holds. Returns the number of lines removed."""
    _check_customer(user)
    cart = _locked_cart(user)
    held = list(cart.items.filter(did__isnull=False).values_list("did_id", flat=True))
    inventory_services.dids_cart_release(dids=held, user=user)
    count, _ = cart.items.all().delete()
    return count


@transaction.atomic
def cart_holds_renew(*, user, now=None) -> RenewResult:
    """Hold every number of the user's cart again for ``CART_HOLD_MINUTES`` ("Hold again"),
    within the account's hold limits. Returns the numbers lost (sold, withdrawn or in
    another cart now) and, for those the limits kept from being held, why."""
    require_may_shop(user)
    now = now or timezone.now()
    balance = balance_lock(user.account)
    cart = _locked_cart(user)
    items = list(cart.items.filter(did__isnull=False).select_related("did").order_by("pk"))
    allowed, _, limits = _within_hold_limits(
        user=user, balance=balance, cart=cart, dids=[item.did for item in items], now=now
    )
    held = inventory_services.dids_cart_hold(
        dids=[did.pk for did in allowed], user=user, until=hold_until(now), now=now
    )
    _count_renewals(cart, held)
    tried = {did.pk for did in allowed}
    lost = sorted(item.did.number for item in items if item.did_id in tried - held)
    return RenewResult(lost=lost, limits=limits)


@transaction.atomic
def cart_holds_extend(*, user, until, now=None) -> set:
    """Keep the numbers ``user``'s cart holds right now held until ``until`` (while a card
    payment for the cart is open). Only live holds are extended, never shortened, and none
    is taken anew, so this is no way around the hold limits; calling it again with the same
    ``until`` changes nothing. Returns the ids of the numbers held until ``until``."""
    now = now or timezone.now()
    if until <= now:
        return set()
    cart = _locked_cart(user)
    live = cart.items.filter(
        did__cart_held_by=user, did__cart_held_until__gte=now, did__status=DID.Status.IN_STOCK
    )
    shorter = list(live.filter(did__cart_held_until__lt=until).values_list("did_id", flat=True))
    inventory_services.dids_cart_hold(dids=shorter, user=user, until=until, now=now)
    return set(live.filter(did__cart_held_until__gte=until).values_list("did_id", flat=True))
