"""What a viewer pays: the one place prices for buyers are computed.

Every page and service that shows or charges a buyer's price asks here. Today everybody
pays the platform's list price; reseller price lists will plug in by looking at the
viewer's account (its parent reseller) in ``block_prices`` and ``from_price``. The
platform's buy cost never leaves this module's inputs.

Extra channels (above the plan's ``channels_included``) are priced per channel **per
month**; a weekly or daily plan pays that monthly price spread over the year:
monthly × 12 / 52 a week and monthly × 12 / 365 a day, rounded half-up to 5 decimals (the
precision of every price). A one-time block charges the monthly figure once. This rule lives
here only (``BlockPrices.extra_channel_price`` / ``extra_channels_price``): the cart, the
checkout's subscription snapshot and added capacity all ask it.
"""

from dataclasses import dataclass
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


def block_prices(block, viewer_account=None) -> BlockPrices:
    """The prices ``viewer_account`` (None for an anonymous visitor) sees for ``block``."""
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
