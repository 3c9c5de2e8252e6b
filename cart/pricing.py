"""What a cart line costs now, with VAT: the one quote used by the cart, the add-to-cart
panel, checkout and ``order_place``.

Pure reads, ``Decimal`` throughout. Prices are the buyer's (``catalog.pricing.block_prices``:
the viewer's price list, never the platform's buy cost); VAT is ``billing.tax.sale_tax_for``'s
decision (the seller is the buyer's reseller, else the platform). Per unit (one number):

- ``setup_fee`` — charged once, with the first period;
- ``recurring`` — one period: the block's period price plus ``extra_channels`` (channels
  above ``channels_included``) × the extra-channel price of that period (``catalog.pricing``:
  priced per month, spread over weeks or days), rounded half-up to the cent once,
  exactly as ``billing.services.subscriptions.block_price_snapshot`` rounds the subscription's
  ``recurring_price``. It is split for display into ``period_price`` and
  ``extra_capacity`` (``period_price = recurring - extra_capacity``, so the parts add up);
- VAT: ``decision.amounts(setup_fee, recurring)`` — rounded per part, as the charge and the
  invoice do — so the cart, the charge and the invoice agree to the cent.

A line's ``net``, ``vat`` and ``gross`` are the unit's × quantity (each number is charged on
its own). A one-time block (period ``"one_time"``) has no period price: the setup fee and any
extra channels are charged once.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from billing.services import money
from billing.tax import TaxDecision, sale_tax_for
from catalog.pricing import block_prices

from .models import offered_periods

ZERO = Decimal("0.00")
PERIOD_NOUNS = {"monthly": "month", "weekly": "week", "daily": "day", "one_time": ""}


@dataclass(frozen=True)
class LineQuote:
    """Today's price of one cart line; amounts are per unit unless named ``total``-ish
    (``net``, ``vat``, ``gross`` are for the whole line: × ``quantity``)."""

    billing_period: str
    quantity: int
    channels: int
    extra_channels: int
    extra_channel_price: Decimal  # one extra channel for one period (once if one-time)
    setup_fee: Decimal  # per unit, once
    period_price: Decimal  # per unit and period, without extra channels
    extra_capacity: Decimal  # per unit and period: extra channels × extra-channel price
    recurring: Decimal  # per unit and period: period_price + extra_capacity
    unit_net: Decimal  # setup_fee + recurring: due now for one number
    unit_vat: Decimal
    unit_gross: Decimal
    net: Decimal  # × quantity
    vat: Decimal
    gross: Decimal
    vat_rate: Decimal  # percent
    reverse_charge: bool
    note: str  # reverse charge / outside the EU wording, when it applies

    @property
    def period_noun(self):
        """ "month", "week", "day" ("" for one-time), for "first month"."""
        return PERIOD_NOUNS[self.billing_period]

    @property
    def first_period_total(self):
        """The first period of the whole line (× quantity), without setup and VAT."""
        return self.recurring * self.quantity

    @property
    def setup_total(self):
        return self.setup_fee * self.quantity


@dataclass(frozen=True)
class CartQuote:
    """A quote of every line of a cart: ``lines`` pairs (item, LineQuote); totals are sums
    of the lines, so they match the charges made line by line."""

    lines: list = field(default_factory=list)
    net: Decimal = ZERO
    vat: Decimal = ZERO
    gross: Decimal = ZERO
    setup: Decimal = ZERO
    first_period: Decimal = ZERO
    vat_rate: Decimal = ZERO
    reverse_charge: bool = False
    note: str = ""
    decision: TaxDecision | None = None  # what the lines were taxed by; charges reuse it

    @property
    def count(self):
        return sum(line.quantity for _, line in self.lines)


def line_quote(
    *, block, channels, billing_period, quantity=1, account, decision: TaxDecision | None = None
) -> LineQuote:
    """The price now of ``quantity`` numbers of ``block`` with ``channels`` each, rented per
    ``billing_period``, for ``account``. ``decision`` (``sale_tax_for(account)``) may be passed
    to quote many lines with one VAT lookup. Raises ValueError for a period the block does
    not offer or a quantity/channels below 1 (the cart's services validate these first)."""
    if billing_period not in offered_periods(block):
        raise ValueError(f"{block} is not offered {billing_period}.")
    if quantity < 1 or channels < 1:
        raise ValueError("Quantity and channels must be at least 1.")
    decision = decision or sale_tax_for(account)
    prices = block_prices(block, account)
    extra_raw = prices.extra_channels_price(channels, billing_period)
    base = ZERO if billing_period == "one_time" else Decimal(prices.for_period(billing_period))
    setup_fee = money(prices.setup_fee)
    recurring = money(base + extra_raw)
    extra_capacity = money(extra_raw)
    unit = decision.amounts(setup_fee, recurring)
    return LineQuote(
        billing_period=billing_period,
        quantity=quantity,
        channels=channels,
        extra_channels=prices.extra_channels(channels),
        extra_channel_price=prices.extra_channel_price(billing_period),
        setup_fee=setup_fee,
        period_price=recurring - extra_capacity,
        extra_capacity=extra_capacity,
        recurring=recurring,
        unit_net=unit.net,
        unit_vat=unit.vat,
        unit_gross=unit.gross,
        net=unit.net * quantity,
        vat=unit.vat * quantity,
        gross=unit.gross * quantity,
        vat_rate=decision.rate,
        reverse_charge=decision.reverse_charge,
        note=decision.note,
    )


def item_quote(item, account, *, decision: TaxDecision | None = None) -> LineQuote:
    """The quote of one ``CartItem`` for ``account`` (the buyer)."""
    return line_quote(
        block=item.block,
        channels=item.channels,
        billing_period=item.billing_period,
        quantity=item.quantity,
        account=account,
        decision=decision,
    )


def items_quote(items, account, *, decision: TaxDecision | None = None) -> CartQuote:
    """The quote of ``items`` (CartItems, blocks loaded) with their totals; one VAT lookup
    (none for no items)."""
    items = list(items)
    if not items:
        return CartQuote()
    decision = decision or sale_tax_for(account)
    lines = [(item, item_quote(item, account, decision=decision)) for item in items]
    return CartQuote(
        lines=lines,
        net=sum((line.net for _, line in lines), ZERO),
        vat=sum((line.vat for _, line in lines), ZERO),
        gross=sum((line.gross for _, line in lines), ZERO),
        setup=sum((line.setup_total for _, line in lines), ZERO),
        first_period=sum((line.first_period_total for _, line in lines), ZERO),
        vat_rate=decision.rate,
        reverse_charge=decision.reverse_charge,
        note=decision.note,
        decision=decision,
    )


def cart_quote(cart) -> CartQuote:
    """The quote of every line of ``cart``, for its account."""
    items = cart.items.select_related("block", "did").order_by("created_at", "pk")
    return items_quote(items, cart.account)
