"""What a viewer pays: the one place prices for buyers are computed.

Every page and service that shows or charges a buyer's price asks here. Today everybody
pays the platform's list price; reseller price lists will plug in by looking at the
viewer's account (its parent reseller) in ``block_prices`` and ``from_price``. The
platform's buy cost never leaves this module's inputs.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class BlockPrices:
    setup_fee: Decimal
    monthly: Decimal | None
    weekly: Decimal | None
    daily: Decimal | None
    extra_channel: Decimal
    channels_included: int
    connection_fee: Decimal
    rate_per_minute: Decimal
    one_time: bool

    def for_period(self, period):
        return getattr(self, period)


def block_prices(block, viewer_account=None) -> BlockPrices:
    """The prices ``viewer_account`` (None for an anonymous visitor) sees for ``block``."""
    return BlockPrices(
        setup_fee=block.setup_fee,
        monthly=block.monthly_price,
        weekly=block.weekly_price,
        daily=block.daily_price,
        extra_channel=block.extra_channel_price,
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
