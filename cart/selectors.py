"""Reads of the cart, always of the requesting user's own cart (a teammate's cart is as
foreign as another tenant's: an item id from it answers 404)."""

from dataclasses import dataclass, field

from django.db.models import Sum
from django.utils import timezone

from accounts.scoping import get_scoped_or_404, scoped
from catalog.selectors import buyable_dids, formatted
from inventory.selectors import self_service_allowance

from .models import CartItem, offered_periods
from .pricing import CartQuote, items_quote


def cart_items(user):
    """The user's cart lines with what the page shows (block, number), oldest first."""
    return (
        scoped(CartItem.objects.filter(cart__user=user), user)
        .select_related("cart__account__parent", "block", "block__requirement", "did")
        .order_by("created_at", "pk")
    )


def cart_item_for(user, pk):
    """One line of the user's own cart, or 404."""
    return get_scoped_or_404(cart_items(user), user, pk=pk)


def cart_count(user):
    """How many numbers the user's cart holds (an "any 5" line counts 5): the nav badge."""
    total = CartItem.objects.filter(cart__user=user).aggregate(total=Sum("quantity"))["total"]
    return total or 0


def package_allowance(user):
    """What the user's account's packages let it buy itself (None: no package limits it)."""
    return self_service_allowance(user.account_id)


def any_available(block, limit):
    """How many numbers of ``block`` an "any N" line could take now, counted up to ``limit``
    (numbers in anybody's live cart hold do not count)."""
    return buyable_dids().filter(block=block).values("pk")[:limit].count()


@dataclass
class CartLine:
    item: CartItem
    quote: object  # cart.pricing.LineQuote
    state: str  # "held" | "expired" | "gone" | "" (any N)
    periods: list = field(default_factory=list)
    # compliance's RegistrationOutlook when the number needs a registration (checkout only)
    registration: object = None

    @property
    def title(self):
        """ "+31 20 555 0001", or "Any 3 numbers"."""
        item = self.item
        if item.did_id:
            return formatted(item.did.number)[1]
        return f"Any {item.quantity} number{'s' if item.quantity != 1 else ''}"

    @property
    def place(self):
        block = self.item.block
        where = block.city or block.region or block.get_number_type_display()
        return f"{where} ({block.area_code})" if block.area_code else where


@dataclass
class CartView:
    lines: list
    quote: CartQuote
    now: object

    @property
    def has_expired(self):
        return any(line.state == "expired" for line in self.lines)

    @property
    def has_gone(self):
        return any(line.state == "gone" for line in self.lines)

    @property
    def next_hold_end(self):
        ends = [line.item.did.cart_held_until for line in self.lines if line.state == "held"]
        return min(ends, default=None)


def cart_view(user, item_ids=None):
    """Every line of the user's cart (or only ``item_ids``) with its quote and hold state.

    A fixed number of queries whatever the number of lines: the lines with their blocks and
    numbers in one, the VAT rate in another.
    """
    items = cart_items(user)
    if item_ids is not None:
        items = items.filter(pk__in=list(item_ids))
    now = timezone.now()
    states = {item: item.hold_state(now) for item in items}
    # Numbers gone from stock (or into someone else's cart) are shown, not priced or totalled.
    quote = items_quote([item for item, state in states.items() if state != "gone"], user.account)
    quotes = {item.pk: line for item, line in quote.lines}
    lines = [
        CartLine(
            item=item,
            quote=quotes.get(item.pk),
            state=state,
            periods=offered_periods(item.block),
        )
        for item, state in states.items()
    ]
    return CartView(lines=lines, quote=quote, now=now)
