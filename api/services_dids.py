"""Changing a number through ``PATCH /v3/dids/<id>``: the number page's services, in one
transaction, each checking the key user's role."""

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import Subscription
from billing.services.capacity import (
    capacity_add,
    capacity_reduce,
    number_rental_cancel,
    number_rental_keep,
)
from billing.services.subscriptions import lock_after_number
from cart.selectors_numbers import my_number
from inventory.customer import did_description_set, did_destination_set


@transaction.atomic
def did_update(*, row, actor, **changes) -> bool:
    """Apply a PATCH's ``changes`` to the number of ``row`` through the number page's
    services, all or nothing (money first: balances come before numbers in the lock order).
    Returns True when the number was released at once (a held rental cancelled)."""
    did = row.did
    if "capacity_limit" in changes:
        _channels_set(row, actor, changes["capacity_limit"])
    stop = changes.get("terminated")
    if "billing_cycles_count" in changes:
        stop = changes["billing_cycles_count"] == 0
    released = False
    if stop is not None:
        released = _renewal_set(row, actor, keep=not stop)
    if released:
        return True
    if "description" in changes:
        did_description_set(did=did, actor=actor, description=changes["description"] or "")
    if "destination" in changes or "ring_timeout" in changes:
        did_destination_set(
            did=did,
            actor=actor,
            destination=changes.get("destination", did.destination) or "",
            ring_timeout=changes.get("ring_timeout", did.ring_timeout),
        )
    return False


def _channels_set(row, actor, wanted):
    rental = row.rental
    if wanted == row.channels.total:
        return
    if rental is None:
        raise ValidationError({"capacity_limit": "This number has no rental to change."})
    # Decide under the rental's lock (taken as the capacity services take it), on a fresh
    # read: a twin request that bought the channels meanwhile has committed by then.
    lock_after_number(Subscription.objects, pk=rental.pk)
    row = my_number(actor, row.did.pk)
    rental, current = row.rental, row.channels.total
    if wanted == current:
        return
    if wanted < current:
        capacity_reduce(number_subscription=rental, channels=wanted, actor=actor)
        return
    # Identical requests share one key (a retry after a lost answer buys nothing more).
    bought = Subscription.objects.filter(
        did=row.did, account_id=rental.account_id, kind=Subscription.Kind.CAPACITY
    ).count()
    extra = wanted - current
    capacity_add(
        number_subscription=rental,
        extra_channels=extra,
        actor=actor,
        idempotency_key=f"api-capacity:{rental.pk}:{bought}:{extra}",
    )


def _renewal_set(row, actor, *, keep) -> bool:
    rental = row.rental
    if keep:
        if row.ending:
            number_rental_keep(number_subscription=rental, actor=actor)
        return False
    if row.ending:
        return False
    if rental is None or not row.can_cancel:
        raise ValidationError(
            {"terminated": f"{row.did.number} has no rental to cancel; contact your provider."}
            if not row.awaiting
            else {
                "terminated": f"{row.did.number} is awaiting registration: cancel it from its "
                "registration page, which refunds it in full."
            }
        )
    cancelled = number_rental_cancel(number_subscription=rental, actor=actor)
    return cancelled.status != Subscription.Status.CANCELLED
