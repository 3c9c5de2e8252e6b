"""Selling numbers: claim them for a buyer inside the checkout's transaction.

Specific numbers are locked in primary-key order (two checkouts listing the same numbers
in opposite orders wait for each other instead of deadlocking) and sold only if still in
stock and not held by another cart; "any N of a block" takes free rows with
``skip_locked``, so concurrent buyers never wait on each other's numbers. A sale goes
through the one transition function, so it is in the number's history like any change.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..choices import DIDStatus as S
from ..models import DID, ClientPackage
from ..selectors import allowance_of
from .holds import cart_holdable
from .packages import held_under
from .transitions import before_move, did_transition, numbers_events, transition_locked


def dids_lock_specific(*, ids, user, now=None) -> dict:
    """Lock the DIDs ``ids`` in pk order; returns {id: DID} of those ``user`` may buy now."""
    now = now or timezone.now()
    ids = sorted({int(pk) for pk in ids})
    if not ids:
        return {}
    locked = list(DID.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    buyable = set(
        DID.objects.filter(cart_holdable(now=now, user=user), pk__in=ids).values_list(
            "pk", flat=True
        )
    )
    return {did.pk: did for did in locked if did.pk in buyable}


def dids_lock_any(*, block, count, user, exclude=(), now=None) -> list:
    """Lock up to ``count`` free numbers of ``block`` (skipping rows others have locked)."""
    now = now or timezone.now()
    return list(
        DID.objects.select_for_update(skip_locked=True)
        .filter(cart_holdable(now=now, user=user), block=block)
        .exclude(pk__in=exclude)
        .order_by("pk")[:count]
    )


def sale_packages_lock(*, account):
    """Lock ``account``'s client packages that limit self-service purchases, in primary-key
    order, before any of its numbers: the lock order everywhere is balances → client package
    → numbers (``did_assign`` takes the package, then the number), so a checkout and an
    assignment never deadlock. Packages that do not limit self-service play no part in buying.
    """
    return list(
        ClientPackage.objects.select_for_update(of=("self",))
        .select_related("package")
        .filter(account=account, package__limits_self_service=True)
        .order_by("pk")
    )


def sale_package(*, packages, adding):
    """The client package bought numbers go under, from ``packages`` (locked by
    ``sale_packages_lock``); None when no package limits self-service.

    The first active package with room for ``adding`` more numbers. Raises ValidationError,
    saying what the package allows, when none has room or none is active.
    """
    if not packages:
        return None
    for client_package in packages:
        client_package.held = held_under(client_package).count()
        if (
            client_package.active
            and client_package.held + adding <= client_package.package.max_dids
        ):
            return client_package
    refusal = allowance_of(packages).refusal(adding=adding)
    raise ValidationError(
        f"{refusal} This order has {adding}: remove some from your cart, or ask your provider "
        "for a larger package."
    )


@transaction.atomic
def did_sell(*, did, account, client_package=None, actor, reason, awaiting_registration=False):
    """The locked, buyable ``did`` becomes ``account``'s active number (its cart hold ends),
    or, with ``awaiting_registration``, its number awaiting registration: owned and charged,
    not routed until compliance approves it."""
    return did_transition(
        did=did,
        to_status=S.AWAITING_REGISTRATION if awaiting_registration else S.ACTIVE,
        owner=account,
        client_package=client_package,
        actor=actor,
        reason=reason,
    )


def dids_sell(*, dids, account, client_package=None, actor, reason, awaiting=frozenset()):
    """``did_sell`` for many locked, buyable numbers at once, inside the caller's
    transaction (checkout's set-based path): one UPDATE and one history INSERT per outcome,
    active or, for the ids in ``awaiting``, awaiting registration. Returns the webhook
    events (``numbers_events``) for the caller to emit with its own."""
    events = []
    for to_status, group in (
        (S.ACTIVE, [did for did in dids if did.pk not in awaiting]),
        (S.AWAITING_REGISTRATION, [did for did in dids if did.pk in awaiting]),
    ):
        if group:
            before = before_move(group)
            transition_locked(
                group,
                to_status=to_status,
                reason=reason,
                actor=actor,
                job=None,
                owner=account,
                client_package=client_package,
                emit=False,
            )
            events += numbers_events(group, before)
    return events
