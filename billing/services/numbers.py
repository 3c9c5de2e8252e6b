"""What billing does when a number changes hands: registered with inventory's
``dependents`` in ``BillingConfig.ready`` (inventory never imports billing).

- A number leaves its owner (hold expiry, cancellation, the console's status change or bulk
  status): its live subscriptions — the number's and its extra capacity's — end in the same
  transaction, with the reason, so the next buyer can take the number at once.
- An admin assigns a number under a client package: the number's subscription starts at
  the package's price per number and month when the package carries one (no setup fee; 0
  gives numbers free), else at the number's own price for the customer (``catalog.pricing``:
  setup fee and first offered period, as the catalog sells it). The first period is charged
  now (the customer's balance must cover it, or nothing is assigned); renewals go through
  the renewal job and every charge onto the daily invoice, like any other subscription.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError

from catalog.pricing import block_prices
from inventory.services.dependents import NumberDependent

from ..models import Subscription
from .ledger import InsufficientBalance, balances_lock, money
from .subscriptions import block_price_snapshot, mark_ended, subscription_start


def subscriptions_end_for_numbers(*, did_ids, reason, now):
    """End every subscription still running on the numbers ``did_ids`` (locked by the
    caller: numbers before subscriptions). Returns how many ended."""
    running = (
        Subscription.objects.select_for_update()
        .filter(did_id__in=did_ids, status__in=Subscription.RUNNING_STATUSES)
        .order_by("pk")
    )
    ended = 0
    for subscription in running:
        mark_ended(subscription, now=now, reason=f"number released ({reason})", job="did_release")
        ended += 1
    return ended


def assignment_price(*, did, package, account):
    """The subscription terms of a number assigned under ``package`` (see the module)."""
    block = did.block
    channels = block.channels_included
    if package.number_price is not None:
        monthly = {"billing_type": "recurring", "period_unit": "month", "period_count": 1}
        return {**monthly, "recurring_price": money(package.number_price), "channels": channels}
    prices = block_prices(block, account)
    if prices.one_time:
        return {
            "billing_type": "one_time",
            "recurring_price": Decimal("0.00"),
            "setup_fee": money(prices.setup_fee),
            "channels": channels,
        }
    period = block.billing_periods[0]
    snapshot = block_price_snapshot(block=block, period=period, account=account)
    return {"billing_type": "recurring", **snapshot}


def subscription_start_for_assignment(*, did, client_package, actor, now):
    """Start the subscription of ``did``, just assigned to its owner under
    ``client_package``, and charge its first period."""
    account = did.owner
    try:
        return subscription_start(
            account=account,
            did=did,
            idempotency_key=f"assignment:{did.pk}:{now.isoformat()}",
            description=f"Number {did.number}",
            actor=actor,
            now=now,
            **assignment_price(did=did, package=client_package.package, account=account),
        )
    except InsufficientBalance as exc:
        if exc.account is not None and exc.account.pk != account.pk:
            # The reseller's balance does not cover the wholesale side.
            raise ValidationError(
                f"The balance of {exc.account}, {account}'s reseller ({exc.balance} "
                f"{account.currency}), does not cover the wholesale price of the first period "
                f"({exc.amount} {account.currency} with VAT): ask the reseller to top up."
            ) from exc
        raise ValidationError(
            f"{account}'s balance ({exc.balance} {account.currency}) does not cover the first "
            f"period ({exc.amount} {account.currency} with VAT): ask the customer to top up, "
            "or assign under a package with its own price."
        ) from exc


class SubscriptionsFollowNumbers(NumberDependent):
    def lock_for_assignment(self, *, account):
        # A reseller's customer's first period is charged to its reseller too.
        balances_lock([account, account.reseller])

    def number_assigned(self, *, did, client_package, actor, now):
        subscription_start_for_assignment(
            did=did, client_package=client_package, actor=actor, now=now
        )

    def numbers_left_owner(self, *, did_ids, reason, now):
        subscriptions_end_for_numbers(did_ids=did_ids, reason=reason, now=now)
