"""What a viewer pays: the one place prices for buyers are computed.

Every page and service that shows or charges a buyer's price asks here. The chain is
platform → reseller → customer:
- the platform's list price is what direct customers (and anonymous visitors of the
  platform's own host) pay;
- a reseller pays the **wholesale** price: the list price less its ``wholesale_discount``
  (``wholesale_prices``), for its customers' numbers and for the ones it buys for itself;
- a reseller's customer (and an anonymous visitor of the reseller's host) pays the
  reseller's **retail** price: wholesale with the reseller's price list applied, never
  below wholesale (``retail_prices``).
The platform's buy cost never leaves this module's inputs.

Extra channels (above the plan's ``channels_included``) are priced per channel **per
month**; a weekly or daily plan pays that monthly price spread over the year:
monthly × 12 / 52 a week and monthly × 12 / 365 a day, rounded half-up to 5 decimals (the
precision of every price). A one-time block charges the monthly figure once. This rule lives
here only (``BlockPrices.extra_channel_price`` / ``extra_channels_price``): the cart, the
checkout's subscription snapshot and added capacity all ask it.
"""

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

PRICE_PLACES = Decimal("0.00001")
# Billing periods ("monthly", "weekly", "daily", "one_time") → periods in a year.
PERIODS_PER_YEAR = {"monthly": 12, "weekly": 52, "daily": 365}
# A subscription's period unit → the block's billing period of the same length.
PERIOD_OF_UNIT = {"month": "monthly", "week": "weekly", "day": "daily"}
# How a price of one billing period (or subscription unit) is worded everywhere.
PER_PERIOD = {
    "monthly": "per month",
    "weekly": "per week",
    "daily": "per day",
    "one_time": "once",
    **{unit: f"per {unit}" for unit in PERIOD_OF_UNIT},
}


def per_period(monthly, period) -> Decimal:
    """A per-month price for ``period``: monthly × 12 / periods a year, half-up to 5
    decimals ("monthly" keeps the figure as it is)."""
    monthly = Decimal(monthly)
    if period not in PERIODS_PER_YEAR:
        raise ValueError(f"Unknown billing period “{period}”.")
    if period == "monthly":
        return monthly
    return (monthly * 12 / PERIODS_PER_YEAR[period]).quantize(PRICE_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class BlockPrices:
    setup_fee: Decimal
    monthly: Decimal | None
    weekly: Decimal | None
    daily: Decimal | None
    extra_channel_monthly: Decimal  # per extra channel and month
    channels_included: int
    connection_fee: Decimal
    rate_per_minute: Decimal
    one_time: bool

    def for_period(self, period):
        return getattr(self, period)

    def extra_channel_price(self, period) -> Decimal:
        """One extra channel for one ``period`` ("monthly", "weekly", "daily"; "one_time":
        once)."""
        if period == "one_time":
            return self.extra_channel_monthly
        return per_period(self.extra_channel_monthly, period)

    def extra_channels(self, channels) -> int:
        """How many of ``channels`` are above the plan's included ones."""
        return max(0, channels - self.channels_included)

    def extra_channels_price(self, channels, period) -> Decimal:
        """What the channels above the included ones cost per ``period``, unrounded (the
        caller rounds the period's total once)."""
        return self.extra_channels(channels) * self.extra_channel_price(period)


def block_prices(block, viewer_account=None, *, host_reseller=None) -> BlockPrices:
    """The prices ``viewer_account`` sees for ``block``. An anonymous visitor
    (``viewer_account`` None) sees the list price, or ``host_reseller``'s retail price on
    that reseller's host."""
    if viewer_account is None:
        reseller = host_reseller
    elif viewer_account.is_reseller:
        return wholesale_prices(block, viewer_account)
    else:
        reseller = viewer_account.reseller
    if reseller is None:
        return list_prices(block)
    return retail_prices(block, reseller)


def wholesale_prices(block, reseller) -> BlockPrices:
    """What ``reseller`` pays the platform for ``block``: the list price less its
    ``wholesale_discount`` percent, each part rounded half-up to 5 decimals."""
    return _wholesale_of(list_prices(block), reseller)


def _wholesale_of(prices, reseller) -> BlockPrices:
    discount = Decimal(reseller.wholesale_discount or 0)
    if not discount:
        return prices
    factor = (100 - discount) / 100

    def off(value):
        return None if value is None else (value * factor).quantize(PRICE_PLACES, ROUND_HALF_UP)

    return replace(
        prices,
        setup_fee=off(prices.setup_fee),
        monthly=off(prices.monthly),
        weekly=off(prices.weekly),
        daily=off(prices.daily),
        extra_channel_monthly=off(prices.extra_channel_monthly),
        connection_fee=off(prices.connection_fee),
        rate_per_minute=off(prices.rate_per_minute),
    )


def retail_prices(block, reseller, *, price_list=None) -> BlockPrices:
    """What ``reseller``'s customers pay for ``block``: its wholesale price with the most
    specific rule of the reseller's price list applied (``catalog.models.MarkupRule`` says
    how), never below wholesale. No rule for the block (or no price list): wholesale.
    ``price_list`` defaults to the reseller's current one (``price_list_of``)."""
    wholesale = wholesale_prices(block, reseller)
    if price_list is None:
        price_list = price_list_of(reseller)
    rule = price_list.rule_for(block)
    return wholesale if rule is None else rule_apply(rule, wholesale)


# --- Price lists ------------------------------------------------------------------------------

CENT = Decimal("0.01")
ONE = Decimal(1)
TEN_CENTS = Decimal("0.1")


class PriceList:
    """A reseller's markup rules, indexed for ``rule_for``. Built from rules already loaded
    (or unsaved ones, for a preview); answers without queries."""

    def __init__(self, rules=()):
        self.rules = list(rules)
        self.default = None
        self.by_country, self.by_type, self.by_block = {}, {}, {}
        for rule in self.rules:
            if rule.scope == "country":
                self.by_country[str(rule.country)] = rule
            elif rule.scope == "number_type":
                self.by_type[rule.number_type] = rule
            elif rule.scope == "block":
                self.by_block[rule.block_id] = rule
            else:
                self.default = rule

    def rule_for(self, block):
        """The most specific rule that reaches ``block`` (block > country > number type >
        default), or None."""
        return (
            self.by_block.get(block.pk)
            or self.by_country.get(str(block.country))
            or self.by_type.get(block.number_type)
            or self.default
        )

    def __bool__(self):
        return bool(self.rules)


PRICE_LIST_CACHE = "_catalog_price_list"


def price_list_of(reseller) -> PriceList:
    """``reseller``'s price list, read with one query the first time it is asked for and
    then kept on that ``Account`` instance: every price a request (or a task) computes
    through the same instance costs no further query, so list pages stay flat. The services
    that change rules drop it (``price_list_forget``); another instance reads afresh."""
    cached = getattr(reseller, PRICE_LIST_CACHE, None)
    if cached is None:
        from .models import MarkupRule  # noqa: PLC0415 (pricing loads before the app registry)

        cached = PriceList(MarkupRule.objects.filter(reseller=reseller))
        setattr(reseller, PRICE_LIST_CACHE, cached)
    return cached


def price_list_forget(reseller):
    """Drop the price list kept on ``reseller`` (after its rules changed)."""
    reseller.__dict__.pop(PRICE_LIST_CACHE, None)


def round_up(value: Decimal, mode) -> Decimal:
    """``value`` rounded by a rule's rounding ``mode`` (see ``MarkupRule``): never down,
    zero stays zero."""
    value = value.quantize(PRICE_PLACES, ROUND_HALF_UP)
    if mode in ("", None, "none") or value <= 0:
        return value
    if mode == "whole":
        return value.quantize(ONE, ROUND_CEILING).quantize(PRICE_PLACES)
    ending = {"x9": Decimal("0.09"), "x5": Decimal("0.05")}[mode]
    # The smallest price ≥ value whose cents end in the digit: the tens of cents below
    # value plus the ending, or the next ten cents' if that is already below value.
    candidate = (value - ending).quantize(TEN_CENTS, ROUND_CEILING) + ending
    return candidate.quantize(PRICE_PLACES)


def _marked_up(wholesale, percent, fixed, rounding=None):
    """wholesale × (1 + percent/100) + fixed, not below wholesale, then rounded up."""
    if wholesale is None:
        return None
    value = wholesale * (1 + Decimal(percent) / 100) + Decimal(fixed)
    value = max(value.quantize(PRICE_PLACES, ROUND_HALF_UP), wholesale)
    return round_up(value, rounding) if rounding else value


def rule_apply(rule, wholesale: BlockPrices) -> BlockPrices:
    """``wholesale`` with ``rule`` (a ``MarkupRule``, saved or not) applied."""
    mode = rule.rounding
    recurring = {
        period: _marked_up(
            wholesale.for_period(period),
            rule.recurring_percent,
            per_period(rule.recurring_fixed, period),
            mode,
        )
        for period in PERIODS_PER_YEAR
    }
    return replace(
        wholesale,
        setup_fee=_marked_up(wholesale.setup_fee, rule.setup_percent, rule.setup_fixed, mode),
        **recurring,
        extra_channel_monthly=_marked_up(
            wholesale.extra_channel_monthly,
            rule.extra_channel_percent,
            rule.extra_channel_fixed,
            mode,
        ),
        rate_per_minute=_marked_up(wholesale.rate_per_minute, rule.rate_percent, rule.rate_fixed),
        connection_fee=_marked_up(
            wholesale.connection_fee, rule.connection_percent, rule.connection_fixed
        ),
    )


def list_prices(block) -> BlockPrices:
    """The platform's list price of ``block``."""
    return BlockPrices(
        setup_fee=block.setup_fee,
        monthly=block.monthly_price,
        weekly=block.weekly_price,
        daily=block.daily_price,
        extra_channel_monthly=block.extra_channel_monthly_price,
        channels_included=block.channels_included,
        connection_fee=block.connection_fee,
        rate_per_minute=block.rate_per_minute,
        one_time=block.billing_type == block.BillingType.ONE_TIME,
    )


def uniform_pricing(viewer_account=None, *, host_reseller=None):
    """When the viewer pays one rule for every block — the list price, or a reseller's
    wholesale price with no markup rule in play — that rule as a function of a block's list
    ``BlockPrices``; None when a price list's rules make it per block. The rule never
    reverses the order of two prices (a discount rounded half-up), so the cheapest block's
    list price is the cheapest the viewer sees: ``country_list`` takes minimums in SQL."""
    if viewer_account is None:
        reseller = host_reseller
    elif viewer_account.is_reseller:
        return lambda prices: _wholesale_of(prices, viewer_account)
    else:
        reseller = viewer_account.reseller
    if reseller is None:
        return lambda prices: prices
    if price_list_of(reseller):
        return None
    return lambda prices: _wholesale_of(prices, reseller)


def from_prices(blocks, viewer_account=None, *, host_reseller=None):
    """The "from" figures of ``blocks`` as the viewer sees them (``block_prices``): the
    cheapest monthly price (None: no block is offered monthly) and the cheapest setup fee.
    A minimum over each block's own price, since a price list's fixed amounts and per-block
    rules do not keep the list price's order."""
    monthly, setup = [], []
    for block in blocks:
        prices = block_prices(block, viewer_account, host_reseller=host_reseller)
        if prices.monthly is not None:
            monthly.append(prices.monthly)
        setup.append(prices.setup_fee)
    return min(monthly, default=None), min(setup, default=None)
