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
from decimal import ROUND_HALF_UP, Decimal

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
    prices = list_prices(block)
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


def retail_prices(block, reseller) -> BlockPrices:
    """What ``reseller``'s customers pay for ``block``: its wholesale price with the
    reseller's price list applied (never below wholesale)."""
    return wholesale_prices(block, reseller)


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


def from_price(amount, viewer_account=None):
    """A "from" figure aggregated over blocks (a minimum list price) as the viewer sees it.

    Markups must be monotonic (a cheaper list price never sells dearer) for this to hold.
    """
    return amount
