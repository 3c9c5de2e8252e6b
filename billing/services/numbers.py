"""What billing does when a number changes hands: registered with inventory's
``dependents`` in ``BillingConfig.ready`` (inventory never imports billing).

- A number leaves its owner (hold expiry, cancellation, the console's status change or bulk
  status): its live subscriptions — the number's and its extra capacity's — end in the same
  transaction, with the reason, so the next buyer can take the number at once.
"""

from inventory.services.dependents import NumberDependent

from ..models import Subscription
from .subscriptions import mark_ended

# Live for the number: renewing, on hold, or cancelled but still in its paid period.
NOT_ENDED = (Subscription.Status.ACTIVE, Subscription.Status.HOLD, Subscription.Status.CANCELLED)


def subscriptions_end_for_numbers(*, did_ids, reason, now):
    """End every subscription still running on the numbers ``did_ids`` (locked by the
    caller: numbers before subscriptions). Returns how many ended."""
    running = (
        Subscription.objects.select_for_update()
        .filter(did_id__in=did_ids, status__in=NOT_ENDED)
        .order_by("pk")
    )
    ended = 0
    for subscription in running:
        mark_ended(subscription, now=now, reason=f"number released ({reason})")
        ended += 1
    return ended


class SubscriptionsFollowNumbers(NumberDependent):
    def numbers_left_owner(self, *, did_ids, reason, now):
        subscriptions_end_for_numbers(did_ids=did_ids, reason=reason, now=now)
