"""Cart holds on numbers, and the release of numbers whose hold has expired."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from didportal.batches import drain

from ..choices import DIDStatus
from ..models import DID
from .release import release_locked

S = DIDStatus

# --- Cart holds --------------------------------------------------------------------------
#
# A customer's cart holds the specific numbers in it for CART_HOLD_MINUTES. The hold is two
# columns on the DID row, never a status change: one conditional UPDATE claims it, so two
# carts can never both hold a number, and the stock triggers count a held number as not
# buyable. Queryset updates write no history rows: a hold is a passing claim.


def cart_holdable(*, now, user):
    """In stock and not held by anybody else right now (an expired hold counts as free)."""
    return Q(status=S.IN_STOCK) & (
        Q(cart_held_until__isnull=True) | Q(cart_held_until__lt=now) | Q(cart_held_by=user)
    )


@transaction.atomic
def dids_cart_hold(*, dids, user, until, now=None):
    """Hold the DIDs ``dids`` (ids) for ``user``'s cart until ``until``; returns the set of ids
    now held by ``user``: those in stock and free, expired or already theirs (refreshed).

    Rows are locked in primary-key order first, so two carts claiming overlapping numbers
    in opposite orders wait for each other instead of deadlocking; the conditional UPDATE
    then decides, so the numbers someone else holds stay theirs.
    """
    now = now or timezone.now()
    if until <= now:
        raise ValueError("A cart hold must end in the future.")
    ids = sorted({int(pk) for pk in dids})
    if not ids:
        return set()
    list(DID.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    DID.objects.filter(cart_holdable(now=now, user=user), pk__in=ids).update(
        cart_held_until=until, cart_held_by=user
    )
    return set(
        DID.objects.filter(
            pk__in=ids, status=S.IN_STOCK, cart_held_by=user, cart_held_until=until
        ).values_list("pk", flat=True)
    )


@transaction.atomic
def dids_cart_release(*, dids, user):
    """End ``user``'s holds on the DIDs ``dids`` (ids); others' holds are left alone.
    Returns how many were released."""
    ids = sorted({int(pk) for pk in dids})
    if not ids:
        return 0
    return DID.objects.filter(pk__in=ids, cart_held_by=user).update(
        cart_held_until=None, cart_held_by=None
    )


@transaction.atomic
def cart_holds_release_expired(*, now=None):
    """Clear every cart hold that ended before ``now`` (the minute job). Safe to run twice or
    concurrently, and against a customer renewing a hold meanwhile: the UPDATE re-checks
    ``cart_held_until < now`` on each row it locks. Returns the number released."""
    now = now or timezone.now()
    return DID.objects.filter(cart_held_until__lt=now).update(
        cart_held_until=None, cart_held_by=None
    )


# --- Hold expiry -------------------------------------------------------------------------


def holds_release_expired(*, now=None, job="release_holds", batch_size=1000):
    """Release every number on hold for longer than DID_HOLD_DAYS to its after-hold status,
    ending its subscriptions (``release``).

    Safe to run twice or concurrently: each batch is its own transaction and skips rows
    another run has locked; a released number no longer matches. Returns the number released.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=getattr(settings, "DID_HOLD_DAYS", 30))
    return drain(_release_batch, cutoff=cutoff, job=job, batch_size=batch_size)


@transaction.atomic
def _release_batch(*, cutoff, job, batch_size):
    expired = list(
        DID.objects.select_for_update(skip_locked=True)
        .filter(status=S.HOLD, hold_started_at__lte=cutoff)
        .order_by("pk")[:batch_size]
    )
    return release_locked(expired, job=job, reason="hold expired, released")
